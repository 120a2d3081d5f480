import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import type { RebalanceListener } from '../../src/connectors/contract.ts'
import type { RawRecord } from '../../src/core/record.ts'
import { createTopic, kafkaAvailable, kafkaProxy, testKafka, uniqueName } from './helpers/kafka.ts'

const quiet: RebalanceListener = { assigned: async () => {}, revoked: async () => {} }

async function eventually(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('kafka connectors when the broker goes away', { timeout: 180_000 }, () => {
  before(async () => {
    assert.ok(
      await kafkaAvailable(),
      'Kafka is not reachable on KAFKA_BROKERS: run `bash scripts/services.sh up`',
    )
  })

  test('source and sink report the outage, then recover and continue exactly where they were', async (t) => {
    const topic = await createTopic(t, { partitions: 2 })
    const proxy = await kafkaProxy(t)
    const kafka = testKafka({ brokers: proxy.brokers, requestTimeoutMs: 3000, connectTimeoutMs: 1000 })

    const sink = kafka.sink({ clientId: uniqueName('sink') })
    await sink.open()
    t.after(() => sink.close())
    const source = kafka.source({
      groupId: uniqueName('g'),
      clientId: 'flaky',
      topics: [topic],
      fromBeginning: true,
    })
    await source.open(quiet)
    t.after(() => source.close())

    const received: RawRecord[] = []
    let reading = true
    const reader = (async () => {
      for await (const b of source.batches()) {
        received.push(...b)
        if (!reading) break
      }
    })()
    const send = async (from: number, count: number) => {
      for (let i = from; i < from + count; i++)
        sink.add({ topic, partition: i % 2, key: null, value: Buffer.from(`v${i}`) })
      await sink.flush()
    }

    await send(0, 10)
    await eventually(() => received.length === 10, 'the first 10 records')

    await proxy.cut()
    await eventually(() => !source.status().connected, 'the source reports the outage')
    assert.ok(source.status().message, 'with a reason')
    sink.add({ topic, partition: 0, key: null, value: Buffer.from('lost?') })
    await assert.rejects(sink.flush(), 'a flush during the outage fails')
    assert.equal(sink.status().connected, false)
    // Long enough for fetches, heartbeats and the stream to give up and start retrying.
    await new Promise((r) => setTimeout(r, 6000))
    assert.equal(source.status().connected, false)

    await proxy.restore()
    await eventually(() => source.status().connected, 'the source reconnects')
    await send(10, 10)
    assert.equal(sink.status().connected, true)
    await eventually(
      () => received.filter((r) => r.value?.toString() !== 'lost?').length === 20,
      'all 20 records',
    )
    reading = false

    for (const partition of [0, 1]) {
      const offsets = received.filter((r) => r.partition === partition).map((r) => r.offset)
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => a - b),
        'per-partition order kept',
      )
      assert.equal(new Set(offsets).size, offsets.length, 'nothing delivered twice')
    }
    const values = new Set(received.map((r) => r.value?.toString()))
    for (let i = 0; i < 20; i++) assert.ok(values.has(`v${i}`), `v${i} delivered`)
    await source.stop()
    await reader
  })
})

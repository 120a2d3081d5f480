import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { trafficApp } from '../../src/apps/traffic/app.ts'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { run } from '../../src/runtime/runner.ts'
import { produceGenerated, readAll, testId, totalEnd, trafficEnv, waitUntil } from './helpers/apps.ts'
import { spawnWeir } from './helpers/child.ts'
import { createTopic, deleteTopics, kafkaProxy, testKafka, uniqueName } from './helpers/kafka.ts'
import { testCleanup } from './helpers/services.ts'

const kafka = testKafka()

/** True once the group's committed offsets reach the end of every input partition. */
async function caughtUp(groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin()
  try {
    const [ends, committed] = await Promise.all([
      admin.endOffsets([topic]),
      admin.committedOffsets(groupId, [topic]),
    ])
    return [...ends].every(([tp, end]) => (committed.get(tp) ?? 0) >= end)
  } finally {
    await admin.close()
  }
}

describe('exactly-once processing (PROCESSING_GUARANTEE=exactly_once) against Kafka', {
  timeout: 300_000,
}, () => {
  const topics: string[] = []
  after(() => deleteTopics(topics))

  it('kill -9 mid-stream and restart: every input is in the output or the dead letters exactly once', async (t) => {
    const env = trafficEnv('eos-kill', { PROCESSING_GUARANTEE: 'exactly_once' })
    topics.push(env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC)
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    const N = 60_000
    const sent = await produceGenerated(
      kafka,
      trafficApp.generator!({ seed: 21, invalidShare: 0.05 }),
      env.INPUT_TOPIC,
      N,
    )

    // Each child is killed by the cleanup registered as it is spawned, so a failed assertion never
    // leaves one running (and the test file waiting for it).
    const cleanup = testCleanup(t)
    const first = spawnWeir(cleanup, 'traffic', env)
    // The start-up line, from the whole output (dead-letter warnings come after it).
    await first.waitForLog('processing guarantee', { processing: 'exactly-once' }, 60_000)
    // Killed with committed transactions behind it and (very likely) one open: its records must never
    // become visible, and the restart must redo exactly what it held.
    await waitUntil(
      'some output before the kill',
      async () => (await totalEnd(kafka, [env.OUTPUT_TOPIC]).catch(() => 0)) >= N / 10,
      90_000,
      10,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${first.output()}`)
    })
    first.kill('SIGKILL')
    await first.exit
    t.diagnostic(
      `killed with ${(await readAll(kafka, env.OUTPUT_TOPIC)).length} outputs visible, output end offsets at ${await totalEnd(kafka, [env.OUTPUT_TOPIC])}`,
    )
    const second = spawnWeir(cleanup, 'traffic', env)
    await waitUntil(
      'the group committed every input',
      () => caughtUp(env.GROUP_ID, env.INPUT_TOPIC),
      120_000,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${second.output()}`)
    })
    second.kill('SIGTERM')
    assert.deepEqual(await second.exit, { code: 0, signal: null }, second.output())
    const all = [...(await readAll(kafka, env.OUTPUT_TOPIC)), ...(await readAll(kafka, env.DLQ_TOPIC))]
    const counts = new Map<string, number>()
    for (const r of all) counts.set(testId(r), (counts.get(testId(r)) ?? 0) + 1)
    const twice = [...counts].filter(([, n]) => n > 1)
    const missing = [...sent.keys()].filter((id) => !counts.has(id))
    t.diagnostic(`${all.length} records visible to read_committed readers for ${N} inputs`)
    assert.deepEqual(twice.slice(0, 10), [], `${twice.length} inputs visible twice`)
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} inputs lost`)
    assert.equal(all.length, N)
  })

  it('the broker goes away mid-transaction: the run stops as TRANSACTION_ABORTED; a new run finishes it, each input once', async (t) => {
    const input = uniqueName('eos-outage-in')
    const output = uniqueName('eos-outage-out')
    const groupId = uniqueName('eos-outage-group')
    topics.push(input, output)
    await createTopic(undefined, { name: input, partitions: 3 })
    const N = 40_000
    // Fed in steps while the pipeline runs, so there is always an open transaction when the broker goes.
    const plain = kafka.sink({ clientId: uniqueName('feed') })
    await plain.open()
    const feeding = (async () => {
      for (let i = 0; i < N; i++) {
        plain.add({ topic: input, partition: i % 3, key: null, value: Buffer.from(JSON.stringify({ i })) })
        if (i % 1000 === 999) {
          await plain.flush()
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      await plain.flush()
      await plain.close()
    })()
    const proxy = await kafkaProxy(t)
    const p = pipeline('eos-outage')
    p.stream<{ i: number }>(input)
      .map((v) => ({ i: v.i, twice: v.i * 2 }))
      .to(output)
    const start = () =>
      run(p, {
        transport: kafkaTransport({ brokers: proxy.brokers, requestTimeoutMs: 3000, connectTimeoutMs: 1000 }),
        groupId,
        // Static membership: the second run takes the first's partitions at once, instead of waiting
        // for the session of a member whose connection was cut.
        groupInstanceId: `${groupId}-0`,
        processing: 'exactly-once',
        metrics: createMetrics(),
        logger: silentLogger,
        shutdownTimeoutMs: 5000,
        topics: { partitions: 3 },
      })
    const first = await start()
    const consumed = () => first.task.metrics.consumed.total()
    await waitUntil('some input processed', async () => consumed() >= N / 10, 60_000, 5)
    await proxy.cut()
    const atCut = consumed()
    assert.ok(atCut < N, 'the broker went away while input was still being processed')
    await assert.rejects(first.done, (err: { code?: string }) => {
      assert.equal(err.code, 'TRANSACTION_ABORTED')
      return true
    })
    const visibleAtAbort = (await readAll(kafka, output)).length
    await proxy.restore()
    await feeding
    const second = await start()
    try {
      await waitUntil('the group committed every input', () => caughtUp(groupId, input), 120_000, 200)
    } finally {
      await second.stop()
    }
    const seen = new Map<number, number>()
    for (const r of await readAll(kafka, output)) {
      const { i } = JSON.parse(r.value!.toString()) as { i: number }
      seen.set(i, (seen.get(i) ?? 0) + 1)
    }
    t.diagnostic(
      `cut after ${atCut} inputs; ${visibleAtAbort} outputs visible when the first run stopped; ${seen.size} distinct after the second`,
    )
    assert.deepEqual([...seen].filter(([, n]) => n > 1).slice(0, 5), [], 'no input visible twice')
    assert.equal(seen.size, N, 'none lost')
  })
})

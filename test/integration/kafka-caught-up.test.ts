/**
 * The Kafka source's caught-up signal (what lets windows close on the wall clock only while the input is
 * drained): it never claims a partition read to its end as of a moment when a record it had not handed
 * out was already in Kafka, it is unknown while a backlog is read, and it keeps moving while a caught-up
 * partition stays quiet. "Already in Kafka" is taken from the producer's acknowledgement (acks=all:
 * the record was readable by then), not from a timestamp, which is set before the record is readable.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { RawRecord } from '../../src/core/record.ts'
import { createTopic, testKafka, uniqueName } from './helpers/kafka.ts'
import { eventually } from './helpers/services.ts'

describe('kafka source: caught up as of', { timeout: 60_000 }, () => {
  test('unknown during a backlog, never ahead of a record not yet handed out, moving while quiet', async (t) => {
    const kafka = testKafka()
    const topic = await createTopic(t, { partitions: 2 })
    const sink = kafka.sink({ clientId: uniqueName('producer') })
    await sink.open()
    t.after(() => sink.close())
    /** When each burst was acknowledged: from then on its records are in Kafka for any fetch. */
    const ackedAt: number[] = []
    const write = async (n: number) => {
      const burst = ackedAt.length
      ackedAt.push(Number.POSITIVE_INFINITY)
      for (let i = 0; i < n; i++)
        sink.add({ topic, partition: i % 2, key: null, value: Buffer.from(String(burst)), headers: {} })
      await sink.flush()
      ackedAt[burst] = Date.now()
    }
    await write(4000)

    const source = kafka.source({
      groupId: uniqueName('caught-up'),
      clientId: 'c',
      topics: [topic],
      fromBeginning: true,
      maxBatch: 100,
    })
    t.after(() => source.close())
    await source.open({ assigned: async () => {}, revoked: async () => {} })
    const at = (p: number) => source.caughtUpAt?.(`${topic}:${p}`)

    const received: RawRecord[] = []
    const violations: string[] = []
    let unknownDuringBacklog = false
    // Records keep arriving while the consumer reads: bursts written at their own pace.
    const writer = (async () => {
      for (let k = 0; k < 10; k++) {
        await write(200)
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    const reader = (async () => {
      for await (const batch of source.batches()) {
        for (const r of batch) {
          const caughtUp = at(r.partition)
          const acked = ackedAt[Number(r.value!.toString())]!
          // A claim of "read to the end" as of a moment when this record, not handed out yet, was
          // already acknowledged would be false.
          if (caughtUp !== undefined && caughtUp > acked)
            violations.push(`${r.partition}@${r.offset}: caught up as of ${caughtUp}, acknowledged ${acked}`)
        }
        if (received.length === 0 && at(0) === undefined && at(1) === undefined) unknownDuringBacklog = true
        received.push(...batch)
        if (received.length === 6000) return
      }
    })()
    await writer
    await reader
    assert.deepEqual(violations, [])
    assert.ok(unknownDuringBacklog, 'the first batch of a backlog is not "caught up"')

    // Quiet now, and read to the end: the time keeps moving with every fetch that finds nothing new.
    const rest = (async () => {
      for await (const batch of source.batches()) received.push(...batch)
    })()
    const bothAt = () => Math.min(at(0) ?? Number.NEGATIVE_INFINITY, at(1) ?? Number.NEGATIVE_INFINITY)
    const newest = Math.max(...ackedAt)
    await eventually(() => bothAt() >= newest)
    const first = bothAt()
    await eventually(() => bothAt() > first)
    await source.stop()
    await rest
    assert.equal(received.length, 6000)
  })
})

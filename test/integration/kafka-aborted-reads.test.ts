/**
 * read_committed with several aborted transactions from one producer id (a transactional id restarted
 * after kill -9 keeps its producer id): none of their records may be read, by a changelog restore
 * (readPartition) nor by a consumer-group source. @platformatic/kafka 2.12 alone drops only the last.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RawRecord } from '../../src/core/record.ts'
import { createTopic, testKafka, uniqueName } from './helpers/kafka.ts'
import { eventually } from './helpers/services.ts'

const kafka = testKafka()

describe('read_committed after several aborted transactions of one transactional id', {
  timeout: 60_000,
}, () => {
  it('readPartition and the source see only committed records', async (t) => {
    const topic = await createTopic(t, { partitions: 1 })
    const transactionalId = uniqueName('aborts')
    for (const [i, end] of [
      [1, 'abort'],
      [2, 'abort'],
      [3, 'commit'],
      [4, 'abort'],
      [5, 'abort'],
      [6, 'commit'],
    ] as const) {
      // A new sink each time, as a restarted instance: same transactional id, same producer id, next epoch.
      const sink = kafka.sink({ clientId: uniqueName('tx'), transactionalId })
      await sink.open()
      for (let j = 0; j < 3; j++)
        sink.add({ topic, partition: 0, key: null, value: Buffer.from(`${i}-${end}-${j}`) })
      await sink.flush()
      if (end === 'abort') await sink.abortTransaction()
      else await sink.commitTransaction()
      await sink.close()
    }
    const want = ['3-commit-0', '3-commit-1', '3-commit-2', '6-commit-0', '6-commit-1', '6-commit-2']

    const restored: string[] = []
    for await (const batch of kafka.readPartition({ topic, partition: 0 }))
      for (const r of batch) restored.push(r.value!.toString())
    assert.deepEqual(restored, want)

    const source = kafka.source({
      groupId: uniqueName('aborts-group'),
      clientId: uniqueName('c'),
      topics: [topic],
      fromBeginning: true,
    })
    t.after(() => source.close())
    await source.open({ assigned: async () => {}, revoked: async () => {} })
    const consumed: RawRecord[] = []
    const reading = (async () => {
      for await (const batch of source.batches()) consumed.push(...batch)
    })()
    await eventually(() => consumed.length >= want.length, 30_000)
    await new Promise((r) => setTimeout(r, 500))
    await source.stop()
    await reading
    assert.deepEqual(
      consumed.map((r) => r.value!.toString()),
      want,
    )
  })
})

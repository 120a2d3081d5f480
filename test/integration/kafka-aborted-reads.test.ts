/**
 * read_committed with several aborted transactions from one producer id (a transactional id restarted
 * after kill -9 keeps its producer id): none of their records may be read, by a changelog restore
 * (readPartition) nor by a consumer-group source, and every committed record must be. @platformatic/kafka
 * 2.12 alone drops only the last aborted transaction, and drops committed records up to an empty one.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { ProduceAcks, Producer } from '@platformatic/kafka'
import type { RawRecord } from '../../src/core/record.ts'
import { createTopic, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'
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

    assert.deepEqual(await restoredValues(topic, want.length), want)
    assert.deepEqual(await consumedValues(t, topic, want.length), want)
  })

  it('an empty aborted transaction (its partition added, nothing written) hides no committed record', async (t) => {
    // The broker lists only aborted transactions that wrote to the partition; the abort marker of one that
    // only added it is there all the same. A client that takes "from the listed start to the producer's
    // last abort marker" as the aborted range drops the committed transactions in between. A kill -9
    // between AddPartitionsToTxn and the first write leaves exactly that (the sink adds the previous
    // transaction's partitions up front).
    const topic = await createTopic(t, { partitions: 1 })
    const other = await createTopic(t, { partitions: 1 })
    const producer = new Producer({
      clientId: uniqueName('tx'),
      bootstrapBrokers: kafkaBrokers(),
      idempotent: true,
      acks: ProduceAcks.ALL,
      producerId: -1n,
      producerEpoch: -1,
      transactionalId: uniqueName('empty-abort'),
    })
    t.after(() => producer.close(true))
    const write = async (values: readonly string[], end: 'commit' | 'abort', addOnly?: string) => {
      const tx = await producer.beginTransaction()
      if (addOnly !== undefined) {
        const metadata = await producer.metadata({ topics: [addOnly, other] })
        await tx.addPartitions(metadata, [
          { topic: addOnly, partition: 0, key: Buffer.alloc(0), value: Buffer.alloc(0) },
        ])
      }
      const target = addOnly === undefined ? topic : other
      await tx.send({ messages: values.map((v) => ({ topic: target, partition: 0, value: Buffer.from(v) })) })
      await (end === 'commit' ? tx.commit() : tx.abort())
    }
    await write(['1-abort-0', '1-abort-1'], 'abort')
    await write(['2-commit-0', '2-commit-1'], 'commit')
    await write(['3-elsewhere'], 'abort', topic)
    await write(['4-commit-0', '4-commit-1'], 'commit')
    const want = ['2-commit-0', '2-commit-1', '4-commit-0', '4-commit-1']

    assert.deepEqual(await restoredValues(topic, want.length), want)
    assert.deepEqual(await consumedValues(t, topic, want.length), want)
  })
})

/**
 * What a changelog restore reads. The last commit's markers land a moment after EndTxn is answered, so
 * it reads again (up to 10 s) until `expected` records are there.
 */
async function restoredValues(topic: string, expected: number): Promise<string[]> {
  for (const deadline = Date.now() + 10_000; ; ) {
    const restored: string[] = []
    for await (const batch of kafka.readPartition({ topic, partition: 0 }))
      for (const r of batch) restored.push(r.value!.toString())
    if (restored.length >= expected || Date.now() > deadline) return restored
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** What a consumer-group source reads from the topic's start (waits for `expected`, then a little more). */
async function consumedValues(t: TestContext, topic: string, expected: number): Promise<string[]> {
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
  await eventually(() => consumed.length >= expected, 30_000).catch(() => {})
  await new Promise((r) => setTimeout(r, 500))
  await source.stop()
  await reading
  return consumed.map((r) => r.value!.toString())
}

/**
 * What a failed fault row leaves behind for whoever investigates it (FAULTS_DEBUG_DIR): every instance's
 * output, the group's committed offsets, and each topic's raw log as the broker holds it, read
 * uncommitted: `<topic>-<p>.tsv` one line per record batch (offsets, producer id and epoch, transactional or
 * control, first and last test-id) then the aborted transactions the broker lists for read_committed
 * fetches of the same range, and `<topic>-<p>.records` one line per record. What a read_committed reader
 * should have seen can then be worked out independently of the client that read it: that is how the
 * rare exactly-once "loss" of 2026-12 turned out to be committed records dropped by the reader.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  Admin,
  Consumer,
  FetchIsolationLevels,
  type FetchIsolationLevelValue,
  IS_CONTROL,
  ListOffsetTimestamps,
} from '@platformatic/kafka'
import type { WeirChild } from '../integration/helpers/child.ts'

const IS_TRANSACTIONAL = 0x10

export interface DumpInput {
  readonly brokers: readonly string[]
  /** The group's committed offsets, `topic:partition` → offset. */
  readonly committed: ReadonlyMap<string, number>
  /** Every topic whose name starts with this (the app's own, its changelogs included). */
  readonly topicPrefix: string
  readonly children: readonly WeirChild[]
}

/** Writes the dump under `dir`; returns the directory. */
export async function dumpRun(dir: string, what: DumpInput): Promise<string> {
  mkdirSync(dir, { recursive: true })
  for (const [i, c] of what.children.entries())
    writeFileSync(join(dir, `instance-${i}-pid${c.pid}.log`), c.output())
  const consumer = new Consumer({
    clientId: 'faults-dump',
    bootstrapBrokers: [...what.brokers],
    groupId: `faults-dump-${process.pid}`,
  })
  try {
    const admin = new Admin({ clientId: 'faults-dump', bootstrapBrokers: [...what.brokers] })
    const all = await admin.listTopics().finally(() => admin.close())
    const topics = all.filter((t) => t.startsWith(what.topicPrefix))
    const meta = await consumer.metadata({ topics, forceUpdate: true })
    writeFileSync(
      join(dir, 'group-offsets.json'),
      JSON.stringify(Object.fromEntries(what.committed), null, 2),
    )
    for (const [name, topic] of meta.topics) {
      for (let partition = 0; partition < topic.partitionsCount; partition++) {
        const { batches, records } = await dumpPartition(
          consumer,
          name,
          topic.id,
          topic.partitions[partition]!.leader,
          partition,
        )
        writeFileSync(join(dir, `${name}-${partition}.tsv`), `${batches.join('\n')}\n`)
        writeFileSync(join(dir, `${name}-${partition}.records`), `${records.join('\n')}\n`)
      }
    }
  } finally {
    await consumer.close(true).catch(() => {})
  }
  return dir
}

async function dumpPartition(
  consumer: Consumer,
  topic: string,
  topicId: string,
  leader: number,
  partition: number,
): Promise<{ batches: string[]; records: string[] }> {
  const listed = async (timestamp: bigint, isolationLevel: FetchIsolationLevelValue) =>
    (
      await consumer.listOffsets({
        topics: [topic],
        partitions: { [topic]: [partition] },
        timestamp,
        isolationLevel,
      })
    ).get(topic)?.[partition] ?? 0n
  const start = await listed(ListOffsetTimestamps.EARLIEST, FetchIsolationLevels.READ_UNCOMMITTED)
  const end = await listed(ListOffsetTimestamps.LATEST, FetchIsolationLevels.READ_UNCOMMITTED)
  const stable = await listed(ListOffsetTimestamps.LATEST, FetchIsolationLevels.READ_COMMITTED)
  const lines = [
    `# ${topic}:${partition} start ${start} end ${end} last-stable ${stable}`,
    '# kind\tfirstOffset\tlastOffset\tproducerId\tepoch\tflags\trecords\tfirstId\tlastId',
  ]
  const aborted = new Map<string, string>()
  const records: string[] = []
  let next = start
  while (next < end) {
    const fetch = (isolationLevel: FetchIsolationLevelValue) =>
      consumer.fetch({
        node: leader,
        topics: [
          {
            topicId,
            partitions: [
              {
                partition,
                fetchOffset: next,
                partitionMaxBytes: 8 * 1024 * 1024,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              },
            ],
          },
        ],
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 8 * 1024 * 1024,
        isolationLevel,
      })
    const committedView = await fetch(FetchIsolationLevels.READ_COMMITTED)
    for (const t of committedView.responses)
      for (const p of t.partitions)
        for (const a of p.abortedTransactions ?? [])
          aborted.set(`${a.producerId}@${a.firstOffset}`, `aborted\t${a.firstOffset}\t\t${a.producerId}`)
    const raw = await fetch(FetchIsolationLevels.READ_UNCOMMITTED)
    const before = next
    for (const t of raw.responses)
      for (const p of t.partitions)
        for (const b of p.records ?? []) {
          const last = b.firstOffset + BigInt(b.lastOffsetDelta)
          if (last < next) continue
          const flags = `${b.attributes & IS_TRANSACTIONAL ? 'T' : '-'}${b.attributes & IS_CONTROL ? 'C' : '-'}`
          const ids = b.records.map((r) => {
            if (b.attributes & IS_CONTROL) return r.key?.readInt16BE(2) === 0 ? 'ABORT' : 'COMMIT'
            const h = r.headers.find(([k]) => k?.toString() === 'test-id')
            return h?.[1]?.toString() ?? r.key?.toString() ?? ''
          })
          if (!(b.attributes & IS_CONTROL))
            for (const [i, r] of b.records.entries())
              records.push(
                `${b.firstOffset + BigInt(r.offsetDelta)}\t${b.producerId}\t${b.producerEpoch}\t${ids[i]}`,
              )
          lines.push(
            [
              'batch',
              b.firstOffset,
              last,
              b.producerId,
              b.producerEpoch,
              flags,
              b.records.length,
              ids[0] ?? '',
              ids.at(-1) ?? '',
            ].join('\t'),
          )
          next = last + 1n
        }
    if (next === before) {
      lines.push(`# no progress at ${next}`)
      break
    }
  }
  return { batches: [...lines, ...aborted.values()], records }
}

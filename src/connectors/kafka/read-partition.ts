import {
  Consumer,
  FetchIsolationLevels,
  IS_CONTROL,
  ListOffsetTimestamps,
  type RecordsBatch,
} from '@platformatic/kafka'
import { setOwnKey } from '../../core/own-key.ts'
import type { RawRecord, TopicPartition } from '../../core/record.ts'
import { filterAbortedFetches } from './aborted.ts'
import { sourceError } from './convert.ts'
import { baseClientOptions, type KafkaOptions } from './options.ts'

const EMPTY = Buffer.alloc(0)
const MAX_PARTITION_BYTES = 64 * 1024 * 1024

/**
 * Reads one partition from `from` (default: its first offset) up to its last stable offset at the time
 * of the call, with no consumer group: how state stores restore from changelogs. Records of aborted
 * transactions are skipped (read_committed).
 */
export async function* readPartition(
  kafka: KafkaOptions,
  tp: TopicPartition,
  options: { from?: number } = {},
): AsyncIterable<readonly RawRecord[]> {
  const consumer = new Consumer({
    ...baseClientOptions(kafka, `${kafka.clientId ?? 'weir'}-restore`),
    groupId: `weir-restore-unused-${process.pid}`,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  })
  filterAbortedFetches(consumer)
  try {
    const meta = await consumer.metadata({ topics: [tp.topic], forceUpdate: true })
    const topic = meta.topics.get(tp.topic)
    const partition = topic?.partitions[tp.partition]
    if (!topic || !partition) throw new Error(`no partition ${tp.topic}:${tp.partition}`)
    const offsetAt = async (timestamp: bigint): Promise<bigint> => {
      const listed = await consumer.listOffsets({
        topics: [tp.topic],
        partitions: { [tp.topic]: [tp.partition] },
        timestamp,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      })
      return listed.get(tp.topic)?.[tp.partition] ?? 0n
    }
    const end = await offsetAt(ListOffsetTimestamps.LATEST)
    let next =
      options.from === undefined ? await offsetAt(ListOffsetTimestamps.EARLIEST) : BigInt(options.from)
    let partitionMaxBytes = 4 * 1024 * 1024
    while (next < end) {
      const response = await consumer.fetch({
        node: partition.leader,
        topics: [
          {
            topicId: topic.id,
            partitions: [
              {
                partition: tp.partition,
                fetchOffset: next,
                partitionMaxBytes,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              },
            ],
          },
        ],
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: partitionMaxBytes,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      })
      const before = next
      const out: RawRecord[] = []
      for (const t of response.responses) {
        for (const p of t.partitions) {
          if (p.partitionIndex !== tp.partition || !p.records) continue
          for (const batch of p.records) next = collect(batch, tp, next, end, out)
        }
      }
      if (out.length > 0) yield out
      if (next === before) {
        // Nothing readable came back (e.g. a large aborted transaction filtered out): ask for more bytes.
        if (partitionMaxBytes >= MAX_PARTITION_BYTES) throw new Error(`no progress reading at offset ${next}`)
        partitionMaxBytes *= 2
      }
    }
  } catch (err) {
    throw sourceError(`read ${tp.topic}:${tp.partition}`, err)
  } finally {
    await consumer.close(true).catch(() => {})
  }
}

/** Appends the batch's records in [next, end) to `out`; returns the offset after the batch. */
function collect(
  batch: RecordsBatch,
  tp: TopicPartition,
  next: bigint,
  end: bigint,
  out: RawRecord[],
): bigint {
  const after = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n
  if (after <= next) return next
  if ((batch.attributes & IS_CONTROL) === 0) {
    for (const r of batch.records) {
      const offset = batch.firstOffset + BigInt(r.offsetDelta)
      if (offset < next || offset >= end) continue
      const headers: Record<string, Buffer> = {}
      for (const [k, v] of r.headers) if (k) setOwnKey(headers, k.toString('utf8'), v ?? EMPTY)
      out.push({
        topic: tp.topic,
        partition: tp.partition,
        offset: Number(offset),
        timestamp: Number(batch.firstTimestamp + r.timestampDelta),
        key: r.key,
        value: r.value,
        headers,
      })
    }
  }
  return after
}

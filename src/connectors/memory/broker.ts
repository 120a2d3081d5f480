import { setOwnKey } from '../../core/own-key.ts'
import type { Headers, OutgoingRecord, RawRecord } from '../../core/record.ts'

interface PartitionLog {
  /** Offset of records[0]: older records were dropped by retention. */
  base: number
  records: RawRecord[]
}

interface TopicLog {
  readonly partitions: PartitionLog[]
}

/**
 * An in-process log with Kafka's shape: topics of partitions of offset-ordered records, and committed
 * offsets per consumer group. It backs the demo and the test driver; it is not durable.
 */
export class MemoryBroker {
  readonly #topics = new Map<string, TopicLog>()
  readonly #committed = new Map<string, Map<string, number>>()
  #waiters: Array<() => void> = []
  #roundRobin = 0
  readonly defaultPartitions: number
  /**
   * Records kept per partition; older ones are dropped (offsets keep counting), so a long demo stays flat.
   * Changelog topics are never trimmed: state is restored from them.
   */
  readonly retention: number

  constructor(options: { defaultPartitions?: number; retention?: number } = {}) {
    this.defaultPartitions = options.defaultPartitions ?? 1
    this.retention = options.retention ?? Number.POSITIVE_INFINITY
  }

  createTopic(name: string, partitions = this.defaultPartitions): void {
    if (this.#topics.has(name)) return
    this.#topics.set(name, { partitions: Array.from({ length: Math.max(1, partitions) }, () => ({ base: 0, records: [] })) })
  }

  topics(): string[] {
    return [...this.#topics.keys()]
  }

  partitionCount(topic: string): number {
    return this.#topics.get(topic)?.partitions.length ?? 0
  }

  /** Appends a record, choosing the partition by key hash (or round robin for null keys). */
  append(record: OutgoingRecord, now: number): RawRecord {
    this.createTopic(record.topic)
    const log = this.#topics.get(record.topic)!
    const n = log.partitions.length
    const partition =
      record.partition ?? (record.key === null ? this.#roundRobin++ % n : hashBytes(record.key) % n)
    const log_ = log.partitions[partition]
    if (log_ === undefined) throw new RangeError(`topic ${record.topic} has no partition ${partition}`)
    const raw: RawRecord = {
      topic: record.topic,
      partition,
      offset: log_.base + log_.records.length,
      ...ownBytes(record.key, record.value, record.headers ?? {}),
      timestamp: record.timestamp ?? now,
    }
    log_.records.push(raw)
    if (log_.records.length > this.retention + 1024 && !record.topic.endsWith('-changelog')) {
      const drop = log_.records.length - this.retention
      log_.records = log_.records.slice(drop)
      log_.base += drop
    }
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w()
    return raw
  }

  /** Records from offset `from` (or the oldest retained one), at most `max`. */
  read(topic: string, partition: number, from: number, max: number): RawRecord[] {
    const log = this.#topics.get(topic)?.partitions[partition]
    if (log === undefined) return []
    const start = Math.max(0, from - log.base)
    return log.records.slice(start, start + max)
  }

  endOffset(topic: string, partition: number): number {
    const log = this.#topics.get(topic)?.partitions[partition]
    return log === undefined ? 0 : log.base + log.records.length
  }

  /** All retained records of a topic, partition by partition. */
  all(topic: string): RawRecord[] {
    return this.#topics.get(topic)?.partitions.flatMap((p) => p.records) ?? []
  }

  commit(group: string, topic: string, partition: number, offset: number): void {
    let g = this.#committed.get(group)
    if (g === undefined) {
      g = new Map()
      this.#committed.set(group, g)
    }
    g.set(`${topic}:${partition}`, offset)
  }

  committed(group: string, topic: string, partition: number): number | undefined {
    return this.#committed.get(group)?.get(`${topic}:${partition}`)
  }

  /** Resolves on the next append (or after `ms`). */
  waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms)
      this.#waiters.push(() => {
        clearTimeout(t)
        resolve()
      })
    })
  }
}

/**
 * The record's bytes copied into one exact-size allocation, as a real broker holds its own copy. A
 * retained record must not keep the sender's Buffers: small ones are slices of Node's shared 8 KB pool,
 * so each kept record would pin a whole slab (the demo's RSS grew by ~1 MB per 1,000 records so).
 */
function ownBytes(
  key: Buffer | null,
  value: Buffer | null,
  headers: Headers,
): { key: Buffer | null; value: Buffer | null; headers: Headers } {
  const entries = Object.entries(headers)
  let size = (key?.length ?? 0) + (value?.length ?? 0)
  for (const [, v] of entries) size += v.length
  const block = Buffer.allocUnsafeSlow(size)
  let at = 0
  const take = (b: Buffer): Buffer => {
    b.copy(block, at)
    at += b.length
    return block.subarray(at - b.length, at)
  }
  const ownHeaders: Record<string, Buffer> = {}
  for (const [name, v] of entries) setOwnKey(ownHeaders, name, take(v))
  return { key: key && take(key), value: value && take(value), headers: ownHeaders }
}

/** FNV-1a over the key bytes: stable, so a key always lands on the same partition. */
function hashBytes(b: Buffer): number {
  let h = 0x811c9dc5
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

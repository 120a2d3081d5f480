import { keyPartition } from '../connectors/kafka/murmur2.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'
import type { RawRecord, TopicPartition } from '../core/record.ts'
import type { Serde } from '../core/serde.ts'
import { isPromise } from '../runtime/processor.ts'
import { encodeKey } from './keys.ts'
import type { QueryableStore, QueryPage, QueryResult, RangeQuery } from './query.ts'

export interface TableSource {
  /** The table's name: its interactive-query store name. */
  readonly name: string
  /** The compacted topic the table is built from; it is also the table's changelog. */
  readonly topic: string
  readonly key: Serde<unknown>
  readonly value: Serde<unknown>
}

type ReadPartition = (tp: TopicPartition, options?: { from?: number }) => AsyncIterable<readonly RawRecord[]>

interface Part {
  readonly data: Map<string, unknown>
  /** The offset after the last record applied; -1 before the first read (from the earliest offset). */
  next: number
}

/**
 * A table materialised from its topic, one map per partition. The topic is the changelog (as Kafka
 * Streams does for a source table), so nothing else is written: a partition is loaded by reading it
 * from the start to its end, then kept up to date by reading on from where it stopped. A null value
 * (tombstone) deletes the key; a record with a null key is ignored.
 */
export class TableStore implements QueryableStore {
  readonly name: string
  readonly kind: 'table' | 'global-table'
  readonly #src: TableSource
  readonly #read: ReadPartition
  readonly #parts = new Map<number, Part>()
  readonly #restoring = new Set<number>()
  /** Partitions of the topic, when known: which partition a queried key lives on. */
  partitionCount = 0

  constructor(source: TableSource, read: ReadPartition, global: boolean) {
    this.name = source.name
    this.kind = global ? 'global-table' : 'table'
    this.#src = source
    this.#read = read
  }

  get topic(): string {
    return this.#src.topic
  }

  /** Partitions about to be loaded one after another: their keys answer 'restoring' from now on. */
  willLoad(partitions: Iterable<number>): void {
    for (const p of partitions) this.#restoring.add(p)
  }

  /** Reads a partition from the start to its end; the table answers 503 for its keys meanwhile. */
  async load(partition: number): Promise<number> {
    const part: Part = { data: new Map(), next: -1 }
    this.#restoring.add(partition)
    try {
      const n = await this.#apply(part, partition)
      this.#parts.set(partition, part)
      return n
    } catch (cause) {
      throw new WeirError(
        ErrorCode.STATE_RESTORE_FAILED,
        `table ${this.name}: loading ${this.#src.topic}:${partition} failed`,
        {
          cause,
          retriable: true,
        },
      )
    } finally {
      this.#restoring.delete(partition)
    }
  }

  /** Reads what was appended to the loaded partitions since the last read. */
  async refresh(): Promise<number> {
    let n = 0
    for (const [p, part] of this.#parts) n += await this.#apply(part, p)
    return n
  }

  drop(partition: number): void {
    this.#parts.delete(partition)
  }

  /** The value of a key on one partition (a co-partitioned join looks up its own partition). */
  lookup(key: unknown, partition: number | undefined): unknown {
    const k = encodeKey(key)
    if (partition !== undefined) return this.#parts.get(partition)?.data.get(k)
    for (const part of this.#parts.values()) {
      const v = part.data.get(k)
      if (v !== undefined) return v
    }
    return undefined
  }

  get(key: string): QueryResult {
    for (const candidate of keyCandidates(key)) {
      const v = this.lookup(candidate, undefined)
      if (v !== undefined) return { state: 'found', value: v }
    }
    const owner = this.#ownerOf(key)
    if (owner !== undefined && this.#restoring.has(owner)) return { state: 'restoring', retryAfterSeconds: 1 }
    if (owner !== undefined && this.kind === 'table' && !this.#parts.has(owner))
      return { state: 'elsewhere', partition: owner }
    return { state: 'missing' }
  }

  range(q: RangeQuery): QueryPage {
    const keys: string[] = []
    const values = new Map<string, unknown>()
    for (const part of this.#parts.values()) {
      for (const [k, v] of part.data) {
        if (q.prefix !== undefined && !k.startsWith(q.prefix)) continue
        if (q.after !== undefined && k <= q.after) continue
        keys.push(k)
        values.set(k, v)
      }
    }
    keys.sort()
    const page = keys.slice(0, q.limit)
    return {
      entries: page.map((k) => ({ key: k, value: values.get(k) })),
      next: keys.length > q.limit ? page.at(-1) : undefined,
      restoring: this.#restoring.size > 0,
    }
  }

  /** The partition a string key lands on under Kafka's default partitioner, if it can be told. */
  #ownerOf(key: string): number | undefined {
    if (this.partitionCount <= 0) return undefined
    const bytes = this.#src.key.serialize(key, { topic: this.#src.topic, isKey: true })
    if (isPromise(bytes) || bytes === null) return undefined
    return keyPartition(bytes) % this.partitionCount
  }

  async #apply(part: Part, partition: number): Promise<number> {
    let n = 0
    const topic = this.#src.topic
    for await (const batch of this.#read({ topic, partition }, part.next < 0 ? {} : { from: part.next })) {
      for (const r of batch) {
        part.next = r.offset + 1
        n++
        if (r.key === null) continue
        let key = this.#src.key.deserialize(r.key, { topic, isKey: true })
        if (isPromise(key)) key = await key
        const k = encodeKey(key)
        if (r.value === null) {
          part.data.delete(k)
          continue
        }
        let value = this.#src.value.deserialize(r.value, { topic, isKey: false })
        if (isPromise(value)) value = await value
        part.data.set(k, value)
      }
    }
    return n
  }
}

/** A queried key as given, and as JSON when it parses to a non-string (numeric keys). */
function keyCandidates(key: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(key)
    if (typeof parsed !== 'string') return [key, parsed]
  } catch {
    // not JSON: the key is a plain string
  }
  return [key]
}

import type { RecordOrigin } from '../core/record.ts'
import { META_KEY } from './keys.ts'

/**
 * A keyed state store: the state of one operator for one input partition. Keys are strings (see
 * `encodeKey`); values are whatever the operator keeps, JSON-serializable when the state is durable.
 */
export interface KeyValueStore<V> {
  readonly partition: number
  readonly size: number
  get(key: string): V | undefined
  has(key: string): boolean
  /** Sets a value. `origin` is the input record that caused the change (for replay idempotence). */
  put(key: string, value: V, origin?: RecordOrigin): void
  delete(key: string): boolean
  /** Entries in insertion order (oldest first; `touch` moves a key to the end). */
  entries(): IterableIterator<[string, V]>
}

/** A value and where it came from. `restored` until a live record changes it. */
interface Slot<V> {
  v: V
  /** Topic and offset of the last input that changed the value. */
  t: string | undefined
  o: number
  restored: boolean
}

/** One changelog record, ready for the producer. */
export interface ChangelogWrite {
  readonly key: string
  /** The JSON envelope, or null for a deletion (tombstone). */
  readonly value: string | null
}

/**
 * The in-memory store of one partition. When durable, every change is remembered until `drain()` hands
 * the latest value of each changed key (or a tombstone) to the changelog, followed by a metadata record
 * holding the highest input offset applied per topic and the operator's own progress (`setMeta`).
 *
 * Replay idempotence: after a restore, `replayed(origin)` is true for input records at or below the
 * offset the restored state already includes, and `appliedTo(key, origin)` for a restored value that
 * already includes the record (a flush cut short by a crash can leave some values newer than the
 * metadata). Records processed live are never skipped, so one input fanned out by `flatMap` counts fully.
 */
export class PartitionStore<V> implements KeyValueStore<V> {
  readonly partition: number
  readonly durable: boolean
  readonly #slots = new Map<string, Slot<V>>()
  readonly #dirty = new Set<string>()
  readonly #applied = new Map<string, number>()
  readonly #restoredApplied = new Map<string, number>()
  #meta: Record<string, unknown> = {}
  #metaDirty = false

  constructor(partition: number, durable: boolean) {
    this.partition = partition
    this.durable = durable
  }

  get size(): number {
    return this.#slots.size
  }

  get(key: string): V | undefined {
    return this.#slots.get(key)?.v
  }

  has(key: string): boolean {
    return this.#slots.has(key)
  }

  put(key: string, value: V, origin?: RecordOrigin): void {
    const slot = this.#slots.get(key)
    if (slot === undefined)
      this.#slots.set(key, { v: value, t: origin?.topic, o: origin?.offset ?? -1, restored: false })
    else {
      slot.v = value
      slot.restored = false
      if (origin !== undefined) {
        slot.t = origin.topic
        slot.o = origin.offset
      }
    }
    if (this.durable) this.#dirty.add(key)
  }

  delete(key: string): boolean {
    const had = this.#slots.delete(key)
    if (had && this.durable) this.#dirty.add(key)
    return had
  }

  /** Moves a key to the end of the iteration order (most recently used) without marking it changed. */
  touch(key: string): void {
    const slot = this.#slots.get(key)
    if (slot === undefined) return
    if (key === this.#front?.[0]) this.#front = undefined
    this.#slots.delete(key)
    this.#slots.set(key, slot)
  }

  /**
   * A live iterator parked on the front entry. Starting a fresh `for…of` each time would walk over every
   * slot V8 keeps for keys deleted from the front (until it rehashes): O(evicted) per call, quadratic for
   * TTL and LRU eviction loops. Map iterators stay valid across deletes and inserts, so one is kept.
   */
  #cursor: MapIterator<[string, Slot<V>]> | undefined
  #front: [string, Slot<V>] | undefined

  /** The first entry in iteration order (least recently used), if any. */
  oldest(): [string, V] | undefined {
    const front = this.#front
    if (front !== undefined && this.#slots.get(front[0]) === front[1]) return [front[0], front[1].v]
    this.#front = undefined
    for (let attempt = 0; attempt < 2; attempt++) {
      this.#cursor ??= this.#slots.entries()
      for (let n = this.#cursor.next(); !n.done; n = this.#cursor.next()) {
        if (this.#slots.get(n.value[0]) === n.value[1]) {
          this.#front = n.value
          return [n.value[0], n.value[1].v]
        }
      }
      // Exhausted: entries added since then are only reachable by a new iterator.
      this.#cursor = undefined
    }
    return undefined
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [k, s] of this.#slots) yield [k, s.v]
  }

  /** Notes that an input record was applied (its offset goes to the changelog with the next flush). */
  markApplied(origin: RecordOrigin): void {
    this.#applied.set(origin.topic, origin.offset)
  }

  /** True for an input record the restored state already includes. */
  replayed(origin: RecordOrigin): boolean {
    const o = this.#restoredApplied.get(origin.topic)
    return o !== undefined && origin.offset <= o
  }

  /** True if the restored value of `key` already includes this record. */
  appliedTo(key: string, origin: RecordOrigin): boolean {
    const s = this.#slots.get(key)
    return s?.restored === true && s.t === origin.topic && origin.offset <= s.o
  }

  /** True if `origin` is the input record that last changed `key` (live or restored). */
  changedBy(key: string, origin: RecordOrigin): boolean {
    const s = this.#slots.get(key)
    return s !== undefined && s.t === origin.topic && s.o === origin.offset
  }

  /** The operator's own progress (watermark, …), persisted with the offsets. */
  get meta(): Readonly<Record<string, unknown>> {
    return this.#meta
  }

  /** Merges fields into the metadata (written with the next drain). */
  setMeta(patch: Record<string, unknown>): void {
    this.#meta = { ...this.#meta, ...patch }
    this.#metaDirty = true
  }

  /** Keys changed since the last drain. */
  get changedKeys(): number {
    return this.#dirty.size
  }

  /** Changes since the last drain, metadata last (see class comment), and forgets them. */
  drain(): ChangelogWrite[] {
    if (!this.durable) return []
    const out: ChangelogWrite[] = []
    for (const key of this.#dirty) {
      const s = this.#slots.get(key)
      out.push({ key, value: s === undefined ? null : JSON.stringify({ v: s.v, t: s.t, o: s.o }) })
    }
    this.#dirty.clear()
    if (out.length > 0 || this.#metaDirty || this.#applied.size > 0) {
      const applied = Object.fromEntries(this.#applied)
      out.push({ key: META_KEY, value: JSON.stringify({ applied, ...this.#meta }) })
      this.#metaDirty = false
    }
    return out
  }

  /** Applies one changelog record read back during a restore (last write wins, null deletes). */
  restoreRecord(key: string, value: string | null): void {
    if (key === META_KEY) {
      if (value === null) return
      const { applied, ...meta } = JSON.parse(value) as { applied?: Record<string, number> } & Record<
        string,
        unknown
      >
      for (const [topic, offset] of Object.entries(applied ?? {})) {
        this.#restoredApplied.set(topic, offset)
        this.#applied.set(topic, offset)
      }
      this.#meta = meta
      return
    }
    if (value === null) {
      this.#slots.delete(key)
      return
    }
    const e = JSON.parse(value) as { v: V; t?: string; o?: number }
    this.#slots.delete(key)
    this.#slots.set(key, { v: e.v, t: e.t, o: e.o ?? -1, restored: true })
  }

  /** A rough size: serialized bytes of a sample of values, scaled to all of them. */
  estimateBytes(sample = 32): number {
    if (this.#slots.size === 0) return 0
    let n = 0
    let bytes = 0
    for (const [k, s] of this.#slots) {
      bytes += k.length + (JSON.stringify(s.v)?.length ?? 0) + 24
      if (++n >= sample) break
    }
    return Math.round((bytes / n) * this.#slots.size)
  }
}

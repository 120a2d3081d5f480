import type { RecordOrigin } from '../core/record.ts'
import { META_KEY, SEGMENT_KEY_PREFIX } from './keys.ts'
import { ChangelogSegments } from './segments.ts'

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
  /** The changelog segment holding the value (segmented layout); -1: none yet; -2: a per-key record. */
  g: number
}

/** One changelog segment as written: `[key, value, topic, offset]` per entry (no origin: null topic). */
interface SegmentRecord<V> {
  readonly s: Array<[key: string, value: V, topic: string | null, offset: number]>
}

const IN_KEY_RECORD = -2
/** A segment's keys and topics, UTF-8 at worst (values are small: the segmented layout is for dedupe). */
const SEGMENT_MAX_BYTES = 256 * 1024

export interface PartitionStoreOptions {
  /**
   * Changelog layout: 0 (default) writes one record per changed key and a tombstone per deleted one.
   * N > 0 writes the keys changed since the last drain together, up to N per record (a segment),
   * for state whose keys are mostly new and short-lived (dedupe): one record per N keys instead of a
   * put and, later, a tombstone for each. See `drain()`.
   */
  readonly segmentSize?: number
}

/** One changelog record, ready for the producer. */
export interface ChangelogWrite {
  readonly key: string
  /** The JSON envelope, or null for a deletion (tombstone). */
  readonly value: string | null
}

/**
 * The in-memory store of one partition. When durable, every change is remembered until `drain()` hands
 * the latest value of each changed key (or a tombstone) to the changelog — or, in the segmented layout
 * (`segmentSize`), the changed keys together as segments — followed by a metadata record holding the
 * highest input offset applied per topic and the operator's own progress (`setMeta`).
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
  readonly #segmentSize: number
  readonly #segments = new ChangelogSegments()
  /** Keys deleted whose value sits in a per-key record (written before the segmented layout). */
  readonly #keyTombstones = new Set<string>()

  constructor(partition: number, durable: boolean, options: PartitionStoreOptions = {}) {
    this.partition = partition
    this.durable = durable
    this.#segmentSize = options.segmentSize ?? 0
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
      this.#slots.set(key, { v: value, t: origin?.topic, o: origin?.offset ?? -1, restored: false, g: -1 })
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
    const slot = this.#slots.get(key)
    if (slot === undefined) return false
    this.#slots.delete(key)
    if (!this.durable) return true
    if (this.#segmentSize === 0) this.#dirty.add(key)
    else {
      // Segmented: nothing is written for the key itself; its segment loses a key.
      this.#dirty.delete(key)
      if (slot.g >= 0) this.#leaveSegment(slot.g)
      else if (slot.g === IN_KEY_RECORD) this.#keyTombstones.add(key)
    }
    return true
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
    if (this.#segmentSize > 0) this.#drainSegments(out)
    else {
      for (const key of this.#dirty) {
        const s = this.#slots.get(key)
        out.push({ key, value: s === undefined ? null : JSON.stringify({ v: s.v, t: s.t, o: s.o }) })
      }
      // Segments read back from a changelog written in the segmented layout, emptied since.
      this.#segmentTombstones(out)
    }
    this.#dirty.clear()
    if (out.length > 0 || this.#metaDirty || this.#applied.size > 0) {
      const applied = Object.fromEntries(this.#applied)
      out.push({ key: META_KEY, value: JSON.stringify({ applied, ...this.#meta }) })
      this.#metaDirty = false
    }
    return out
  }

  /**
   * The segmented layout. Each drain writes the changed keys as new segments (`segmentSize` keys each,
   * under a key of their own that is never reused, so compaction keeps them until deleted). A key
   * changed again, or deleted, leaves its old segment; a segment left by every key gets a tombstone.
   * A restore reads segments in order, later ones winning, and drops the keys of tombstoned ones.
   * Keys deleted from a segment that is still alive come back on a restore (as keys seen at their time:
   * dedupe's bound then evicts them first, as the oldest); `#bound` keeps them fewer than the live keys.
   */
  #drainSegments(out: ChangelogWrite[]): void {
    for (const key of this.#keyTombstones) out.push({ key, value: null })
    this.#keyTombstones.clear()
    this.#bound()
    let id = -1
    let entries: SegmentRecord<V>['s'] = []
    let keys: string[] = []
    let bytes = 0
    const close = () => {
      if (entries.length === 0) return
      out.push({ key: `${SEGMENT_KEY_PREFIX}${id}`, value: JSON.stringify({ s: entries }) })
      this.#segments.add(id, keys)
      entries = []
      keys = []
      bytes = 0
    }
    // A Set iterates over what is added to it meanwhile: keys an old segment hands on (`#bound`) below.
    for (const key of this.#dirty) {
      const slot = this.#slots.get(key)
      if (slot === undefined) continue
      if (entries.length === 0) id = this.#segments.nextId()
      const from = slot.g
      slot.g = id
      if (from >= 0) this.#leaveSegment(from)
      // Its per-key record would outlive the segment once compaction removed the segment's tombstone.
      else if (from === IN_KEY_RECORD) out.push({ key, value: null })
      entries.push([key, slot.v, slot.t ?? null, slot.o])
      keys.push(key)
      // Bytes bound too (a key may be long): a record must stay well under the broker's 1 MB default.
      bytes += 3 * key.length + (slot.t?.length ?? 0) + 48
      if (entries.length >= this.#segmentSize || bytes > SEGMENT_MAX_BYTES) close()
    }
    close()
    this.#segmentTombstones(out)
  }

  #segmentTombstones(out: ChangelogWrite[]): void {
    for (const dead of this.#segments.takeDead())
      out.push({ key: `${SEGMENT_KEY_PREFIX}${dead}`, value: null })
  }

  /** A key left segment `id`: changed, deleted, or (`restoring`) found again in a later record. */
  #leaveSegment(id: number, restoring = false): void {
    this.#segments.leave(id)
    if (!restoring) this.#bound()
  }

  /** Keeps the segments' entries within twice the live keys (plus two segments' worth); see ChangelogSegments.bound. */
  #bound(): void {
    if (this.#segmentSize === 0) return
    this.#segments.bound(2 * this.#slots.size + 2 * this.#segmentSize, (id, keys) => {
      for (const k of keys) if (this.#slots.get(k)?.g === id) this.#dirty.add(k)
    })
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
    if (key.startsWith(SEGMENT_KEY_PREFIX)) {
      this.#restoreSegment(Number(key.slice(SEGMENT_KEY_PREFIX.length)), value)
      return
    }
    const had = this.#slots.get(key)
    if (had !== undefined && had.g >= 0) this.#leaveSegment(had.g, true)
    if (value === null) {
      this.#slots.delete(key)
      return
    }
    const e = JSON.parse(value) as { v: V; t?: string; o?: number }
    this.#slots.delete(key)
    this.#slots.set(key, { v: e.v, t: e.t, o: e.o ?? -1, restored: true, g: IN_KEY_RECORD })
  }

  #restoreSegment(id: number, value: string | null): void {
    if (!Number.isSafeInteger(id) || id < 0) return
    if (value === null) {
      // Deleted: every key still its own goes (the others moved on to later segments).
      for (const k of this.#segments.deleted(id) ?? [])
        if (this.#slots.get(k)?.g === id) this.#slots.delete(k)
      return
    }
    const { s: entries } = JSON.parse(value) as SegmentRecord<V>
    const keys: string[] = []
    for (const [k, v, t, o] of entries) {
      const had = this.#slots.get(k)
      if (had !== undefined && had.g >= 0 && had.g !== id) this.#leaveSegment(had.g, true)
      this.#slots.delete(k)
      this.#slots.set(k, { v, t: t ?? undefined, o, restored: true, g: id })
      keys.push(k)
    }
    this.#segments.add(id, keys)
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

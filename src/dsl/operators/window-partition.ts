import type { RecordOrigin } from '../../core/record.ts'
import type { RecordContext } from '../../runtime/processor.ts'
import type { PartitionStore } from '../../state/store.ts'
import { DueQueue } from '../../time/due-queue.ts'

export type Release = () => void

/** One result of a window, before it becomes a record. */
export interface WindowOutput {
  readonly key: unknown
  readonly start: number
  readonly end: number
  readonly value: unknown
  /** The output record's timestamp: the last instant of the window. */
  readonly timestamp: number
}

/**
 * The state of a windowed operator for one input partition: the store of window slots, the queue of
 * their close times, and the bookkeeping of closed windows whose results are on their way.
 * Window logic (tumbling, session, …) works through the methods below while the engine applies a record.
 */
export class WindowPartition<S> {
  readonly store: PartitionStore<S>
  readonly queue = new DueQueue()
  /** The earliest time each slot is queued at (one live queue entry per slot). */
  readonly queuedAt = new Map<string, number>()
  /** Open slots per group key, for logic that looks them up by key (sessions, sliding). */
  readonly index = new Map<string, string[]>()
  /** Windows that close at or before this are closed; persisted, so it survives a restart. */
  closedThrough = Number.NEGATIVE_INFINITY
  persistedClosed = Number.NEGATIVE_INFINITY
  /** Memory-only state: input holds per slot (the first record of each topic), released once emitted. */
  readonly holds = new Map<string, Array<{ topic: string; release: Release }>>()
  /**
   * Durable state: slots whose results were emitted. A slot is deleted from the changelog only after a
   * checkpoint made its results durable: emitted and settled → flushed with checkpoint n → deletable
   * once n completed → tombstoned with checkpoint n+1. A crash in between re-emits the same result.
   */
  settled: string[] = []
  flushed: string[] = []
  deletable: string[] = []
  /** Update mode: slots changed by the current record, and rate-limited updates not yet emitted. */
  readonly changedNow: Array<[string, number]> = []
  readonly pendingUpdates = new Map<string, number>()
  readonly lastUpdate = new Map<string, number>()
  /** Where the last input came from (names the origin of results emitted on timers). */
  lastTopic = ''
  lastOffset = -1
  timesChanged = false
  #origin: RecordOrigin | undefined
  #ctx: RecordContext | undefined

  constructor(store: PartitionStore<S>) {
    this.store = store
  }

  get partition(): number {
    return this.store.partition
  }

  /** Sets the record being applied (origin for idempotence, context for holds). */
  begin(origin: RecordOrigin, ctx: RecordContext): void {
    this.#origin = origin
    this.#ctx = ctx
  }

  end(): void {
    this.#origin = undefined
    this.#ctx = undefined
  }

  get(key: string): S | undefined {
    return this.store.get(key)
  }

  /** Stores a slot changed by the current record (and, without a changelog, holds the record's offset). */
  put(key: string, slot: S): void {
    this.store.put(key, slot, this.#origin)
    const ctx = this.#ctx
    if (!this.store.durable && ctx !== undefined) {
      const topic = this.#origin!.topic
      let hs = this.holds.get(key)
      if (hs === undefined) {
        hs = []
        this.holds.set(key, hs)
      }
      if (!hs.some((h) => h.topic === topic)) hs.push({ topic, release: ctx.hold() })
    }
  }

  /** Removes a slot that was never emitted (merged into another). */
  remove(key: string): void {
    this.store.delete(key)
    this.queuedAt.delete(key)
    this.pendingUpdates.delete(key)
    this.lastUpdate.delete(key)
  }

  /** True if the restored slot already includes the current record (replay after a crash). */
  appliedTo(key: string): boolean {
    return this.store.durable && this.#origin !== undefined && this.store.appliedTo(key, this.#origin)
  }

  /** Queues a slot to be looked at when the watermark reaches `at` (at most one entry per slot). */
  schedule(key: string, at: number): void {
    const prev = this.queuedAt.get(key)
    if (prev !== undefined && prev <= at) return
    this.queuedAt.set(key, at)
    this.queue.push(at, key)
  }

  /** Notes a slot changed at `time` (update mode emits it). */
  changed(key: string, time: number): void {
    this.changedNow.push([key, time])
  }

  /** Moves the input holds of one slot to another (sessions merging). */
  moveHolds(from: string, to: string): void {
    const hs = this.holds.get(from)
    if (hs === undefined) return
    this.holds.delete(from)
    // Both are kept: the lower offset of each topic must stay held, and either may be the lower one.
    const target = this.holds.get(to)
    if (target === undefined) this.holds.set(to, hs)
    else target.push(...hs)
  }

  /** Forgets a slot's holds, adding their releases to `into`. */
  takeHolds(key: string, into: Release[]): void {
    const hs = this.holds.get(key)
    if (hs === undefined) return
    this.holds.delete(key)
    for (const h of hs) into.push(h.release)
  }

  /** The group-key part of a state key made by `windowStateKey`. */
  static groupOf(key: string): string {
    return key.slice(0, key.lastIndexOf('\u0001'))
  }

  indexAdd(keyStr: string, key: string): void {
    const list = this.index.get(keyStr)
    if (list === undefined) this.index.set(keyStr, [key])
    else if (!list.includes(key)) list.push(key)
  }

  indexRemove(keyStr: string, key: string): void {
    const list = this.index.get(keyStr)
    if (list === undefined) return
    const i = list.indexOf(key)
    if (i >= 0) list.splice(i, 1)
    if (list.length === 0) this.index.delete(keyStr)
  }
}

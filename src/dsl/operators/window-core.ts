import type { Cancel } from '../../core/clock.ts'
import { ErrorCode, toWeirError, WeirError } from '../../core/errors.ts'
import type { Counter, Labels } from '../../core/metrics.ts'
import type { TopicPartition } from '../../core/record.ts'
import { tpKey } from '../../core/record.ts'
import {
  type AnyRecord,
  type Emit,
  isPromise,
  type Outputs,
  type Processor,
  type ProcessorInit,
  type RecordContext,
} from '../../runtime/processor.ts'
import { StateStores } from '../../state/changelog.ts'
import { type QueryableStore, stateStoresView } from '../../state/query.ts'
import { encodeKey } from '../../state/keys.ts'
import { type ResolvedTime, recordTime } from '../../time/event-time.ts'
import { Watermarks } from '../../time/watermark.ts'
import { CloseContext, Emission, NO_HEADERS, timerContext } from './window-emission.ts'
import { registerWindowProgress } from './window-metrics.ts'
import { type Release, type WindowOutput, WindowPartition } from './window-partition.ts'

// biome-ignore lint/suspicious/noExplicitAny: the slot type is the window logic's own business
type AnyPartition = WindowPartition<any>

/** What differs between window kinds; the engine does time, state, closing and emitting. */
export interface WindowLogic<S> {
  /** Applies a record at `time`; false if every window it belongs to has closed (a late record). */
  add(p: WindowPartition<S>, key: unknown, keyStr: string, value: unknown, time: number): boolean
  /** When the slot next has a window to close (−∞: nothing left, remove it). */
  dueAt(slot: S): number
  /** Closes the slot's windows due at `through`; 'done' when nothing is left of it. */
  close(p: WindowPartition<S>, key: string, slot: S, through: number, out: WindowOutput[]): 'done' | 'keep'
  /** Update mode: the result to emit after a record at `time` changed the slot. */
  current(slot: S, time: number, out: WindowOutput[]): void
  /** Where the slot's window ends (emit 'end' fires then); only windows of fixed bounds have it. */
  endOf?(slot: S): number
  /** A slot came back from the changelog, or is gone (closed). */
  restored?(p: WindowPartition<S>, key: string, slot: S): void
  removed?(p: WindowPartition<S>, key: string, slot: S): void
}

export interface WindowOperatorOptions {
  readonly name: string
  // biome-ignore lint/suspicious/noExplicitAny: the slot type is the logic's own business
  readonly logic: WindowLogic<any>
  /** The grouping key; undefined groups by the record key. */
  readonly key: ((value: unknown, record: AnyRecord) => unknown) | undefined
  readonly time: ResolvedTime<unknown>
  readonly grace: number
  readonly changelog: string | undefined
  readonly signature: string
  /** Input topics whose partitions feed this operator (others' assignments are ignored). */
  readonly sourceTopics: ReadonlySet<string>
  readonly emit: 'final' | 'update' | 'end'
  readonly updateEveryMs: number
  readonly late: 'dlq' | 'drop' | 'port'
}

/**
 * A windowed aggregation. Per record: tell its time, move the watermark, apply it to its windows
 * (or treat it as late), emit updates (update mode), and close every window the watermark passed.
 * A clock timer does the same with no input, so windows close on the wall clock too.
 */
export class WindowOperator implements Processor {
  readonly name: string
  readonly #o: WindowOperatorOptions
  readonly #parts = new Map<number, AnyPartition>()
  readonly #state: StateStores<unknown>
  #wms!: Watermarks
  #init!: ProcessorInit
  #timer: Cancel | undefined
  #swept = Number.NEGATIVE_INFINITY
  /** Emit 'end': restored windows not fired again yet (see assigned). */
  readonly #refire = new WeakMap<AnyPartition, Set<string>>()
  #warnedKey = false
  #late!: Counter
  #results!: Counter
  #labels: Labels
  #view: QueryableStore | undefined
  #unregisterProgress: (() => void) | undefined

  constructor(options: WindowOperatorOptions) {
    this.name = options.name
    this.#o = options
    this.#state = new StateStores({
      operator: options.name,
      changelog: options.changelog,
      signature: options.signature,
    })
    this.#labels = { operator: options.name }
  }

  init(init: ProcessorInit): void {
    if (init.processing === 'exactly-once' && !this.#state.durable) {
      // Memory-only windows hold their records' offsets until they emit; a record that also wrote
      // elsewhere before reaching the window would be written again after a crash.
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `window "${this.name}": exactly-once needs durable window state (a changelog); it is memory-only (durable: false or processing time)`,
      )
    }
    this.#init = init
    // With the source's caught-up signal, the wall clock closes windows only while the input is drained.
    this.#wms = new Watermarks(this.#o.time.watermark, init.inputCaughtUpAt, init.inputReachableSince)
    this.#state.init(init)
    this.#late = init.metrics.counter(
      'weir_window_late_records_total',
      'Records that arrived after their windows closed (grace passed)',
    )
    this.#results = init.metrics.counter('weir_window_results_total', 'Window results emitted')
    this.#unregisterProgress = registerWindowProgress(init.metrics, {
      operator: this.name,
      watermark: () => this.#swept,
      closedThrough: () =>
        [...this.#parts.values()].map((p) => ({ partition: p.partition, time: p.closedThrough })),
    })
    this.#timer = init.clock.setInterval(() => this.#tick(), this.#o.time.checkEvery)
  }

  process(record: AnyRecord, ctx: RecordContext, emit: Emit, outputs: Outputs): void | Promise<void> {
    const o = this.#o
    const part = this.#partition(record.partition)
    if (part.store.durable && part.store.replayed(record)) {
      this.#state.metrics.replaySkipped.inc(this.#labels)
      return
    }
    const now = this.#init.clock.now()
    const time = recordTime(o.time, record, now)
    let wm = now
    if (o.time.mode === 'event') {
      this.#wms.observe(tpKey(record), time, now)
      part.timesChanged = true
      wm = this.#wms.current(now)
    }
    const key = o.key === undefined ? record.key : o.key(record.value, record)
    if (o.key !== undefined && !this.#warnedKey && key !== record.key) this.#checkKey(key, record.key)
    if (wm > part.closedThrough) part.closedThrough = wm
    part.changedNow.length = 0
    part.begin(record, ctx)
    let accepted: boolean
    try {
      accepted = o.logic.add(part, key, encodeKey(key), record.value, time)
    } finally {
      part.end()
    }
    part.store.markApplied(record)
    part.lastTopic = record.topic
    part.lastOffset = record.offset
    // Windows the watermark passed close first, so results leave in time order.
    this.#advance(wm)
    if (!accepted) return this.#onLate(record, ctx, outputs, time, part.closedThrough)
    if (part.changedNow.length === 0) return
    const updates =
      o.emit === 'update'
        ? this.#emitUpdates(part, record, ctx, emit, now)
        : o.emit === 'end'
          ? this.#emitAfterEnd(part, record, ctx, emit)
          : undefined
    part.changedNow.length = 0
    return updates
  }

  /** Restores the state of arriving partitions from their changelogs and re-emits windows closed before a crash. */
  async assigned(partitions: readonly TopicPartition[]): Promise<void> {
    if (this.#o.time.mode === 'event') {
      const src = this.#o.sourceTopics
      const now = this.#init.clock.now()
      for (const tp of partitions) if (src.size === 0 || src.has(tp.topic)) this.#wms.assign(tpKey(tp), now)
    }
    for (const p of this.#mine(partitions)) {
      if (this.#parts.has(p)) continue
      if (!this.#state.durable) {
        this.#partition(p)
        continue
      }
      const store = await this.#state.restore(p)
      if (store === undefined || this.#parts.has(p)) continue
      const part = new WindowPartition(store)
      this.#parts.set(p, part)
      const meta = store.meta as { closed?: unknown; maxTime?: Record<string, number> }
      if (typeof meta.closed === 'number') part.closedThrough = part.persistedClosed = meta.closed
      const now = this.#init.clock.now()
      for (const [topic, t] of Object.entries(meta.maxTime ?? {}))
        if (typeof t === 'number') this.#wms.restore(`${topic}:${p}`, t, now)
      const endOf = this.#o.emit === 'end' ? this.#o.logic.endOf : undefined
      const refire = new Set<string>()
      for (const [key, slot] of store.entries()) {
        this.#o.logic.restored?.(part, key, slot)
        part.schedule(key, this.#o.logic.dueAt(slot))
        // Emit 'end': windows whose end passed fire again, as the state has them (even those past end +
        // grace, not yet deleted): a result emitted before the crash may not have reached its sink, and
        // an upsert of the same row is harmless.
        if (endOf !== undefined) {
          refire.add(key)
          part.schedule(key, endOf(slot))
        }
      }
      if (refire.size > 0) this.#refire.set(part, refire)
      this.#sweep(part, part.closedThrough)
    }
  }

  /**
   * Partitions leave. Durable state: its pending changes go to the changelog and the new owner goes on
   * from there. Memory-only state: its windows are emitted now, as they are.
   */
  revoked(partitions: readonly TopicPartition[]): void {
    for (const p of this.#mine(partitions)) {
      const part = this.#parts.get(p)
      if (part === undefined) continue
      if (part.store.durable) {
        for (const key of [...part.deletable, ...part.flushed, ...part.settled]) part.store.delete(key)
        this.#persistProgress(part)
        this.#state.flush([part.store])
      } else {
        this.#sweep(part, Number.POSITIVE_INFINITY)
      }
      this.#state.drop(p)
      this.#parts.delete(p)
      for (const tp of [...this.#wms.partitions()]) if (tp.endsWith(`:${p}`)) this.#wms.remove(tp)
    }
  }

  /** The checkpoint's step 2: window changes, tombstones of emitted windows and progress to the changelog. */
  flushState(): void {
    if (!this.#state.durable) return
    // Exactly-once: a window's result and its deletion go in the same transaction, so the deletion
    // need not wait for the checkpoint after the one that made the result durable.
    const deleteWithResult = this.#init.processing === 'exactly-once'
    for (const part of this.#parts.values()) {
      if (deleteWithResult && part.settled.length > 0) {
        part.deletable.push(...part.settled)
        part.settled = []
      }
      for (const key of part.deletable) part.store.delete(key)
      part.deletable = []
      if (part.settled.length > 0) {
        part.flushed.push(...part.settled)
        part.settled = []
      }
      this.#persistProgress(part)
    }
    this.#state.flush()
  }

  /** The checkpoint completed: results emitted before it are durable, so their windows may go. */
  checkpointed(): void {
    for (const part of this.#parts.values()) {
      if (part.flushed.length === 0) continue
      part.deletable.push(...part.flushed)
      part.flushed = []
    }
  }

  inputPaused(): void {
    this.#wms.pause()
  }

  /** Clean shutdown: memory-only windows are emitted as they are; durable ones carry on after a restart. */
  drain(): void {
    if (this.#state.durable) return
    for (const part of this.#parts.values()) this.#sweep(part, Number.POSITIVE_INFINITY)
  }

  /** Open windows per key, for interactive queries (`GET /state/<name>?from=&to=`). */
  stores(): readonly QueryableStore[] {
    this.#view ??= stateStoresView(this.name, this.#state, true, (slot) => {
      const out: WindowOutput[] = []
      this.#o.logic.current(slot, Number.POSITIVE_INFINITY, out)
      const w = out[0]
      return w === undefined ? null : { start: w.start, end: w.end, value: w.value }
    })
    return [this.#view]
  }

  close(): void {
    this.#timer?.()
    this.#unregisterProgress?.()
    this.#state.close()
  }

  #mine(partitions: readonly TopicPartition[]): Set<number> {
    const src = this.#o.sourceTopics
    return new Set(partitions.filter((tp) => src.size === 0 || src.has(tp.topic)).map((tp) => tp.partition))
  }

  #partition(p: number): AnyPartition {
    let part = this.#parts.get(p)
    if (part === undefined) {
      part = new WindowPartition(this.#state.open(p))
      this.#parts.set(p, part)
    }
    return part
  }

  #persistProgress(part: AnyPartition): void {
    if (part.closedThrough === part.persistedClosed && !part.timesChanged) return
    const maxTime: Record<string, number> = {}
    const suffix = `:${part.partition}`
    for (const tp of this.#wms.partitions()) {
      if (!tp.endsWith(suffix)) continue
      const t = this.#wms.maxTime(tp)
      if (t !== undefined && Number.isFinite(t)) maxTime[tp.slice(0, -suffix.length)] = t
    }
    part.store.setMeta({ closed: Number.isFinite(part.closedThrough) ? part.closedThrough : null, maxTime })
    part.persistedClosed = part.closedThrough
    part.timesChanged = false
  }

  #tick(): void {
    if (this.#init.quiet()) return
    try {
      const now = this.#init.clock.now()
      this.#advance(this.#o.time.mode === 'processing' ? now : this.#wms.current(now))
      if (this.#o.updateEveryMs > 0)
        for (const part of this.#parts.values()) this.#flushPendingUpdates(part, now)
    } catch (err) {
      this.#init.fail(toWeirError(err), timerContext(this.name))
    }
  }

  /**
   * Closes what the watermark passed in every partition. The watermark goes back when a partition that is
   * behind arrives; the partitions' own closed-through times don't, so nothing closed reopens.
   */
  #advance(wm: number): void {
    if (wm === this.#swept) return
    this.#swept = wm
    for (const part of this.#parts.values()) this.#sweep(part, wm)
  }

  /** Closes every window of the partition due at `wm`, in close-time order, and emits the results. */
  #sweep(part: AnyPartition, wm: number): void {
    if (wm > part.closedThrough) part.closedThrough = wm
    const through = part.closedThrough
    if (part.queue.size === 0 || part.queue.peek() > through) return
    const logic = this.#o.logic
    const update = this.#o.emit === 'update'
    const out: WindowOutput[] = []
    const done: string[] = []
    while (part.queue.size > 0 && part.queue.peek() <= through) {
      const { at, keys } = part.queue.pop()!
      for (const key of keys) {
        if (part.queuedAt.get(key) !== at) continue
        part.queuedAt.delete(key)
        const slot = part.get(key)
        if (slot === undefined) continue
        const due = logic.dueAt(slot)
        if (due > through) {
          // Emit 'end': the entry at the window's end (due − grace) fires its first result.
          if (this.#o.emit === 'end' && at < due) {
            logic.current(slot, at, out)
            this.#refire.get(part)?.delete(key)
          }
          part.schedule(key, due)
          continue
        }
        const pending = part.pendingUpdates.get(key)
        // Emit 'end' already emitted every change, so the last result needs no repeat at end + grace;
        // except a window restored after a crash and not fired again yet (see assigned).
        const closing =
          update || (this.#o.emit === 'end' && this.#refire.get(part)?.delete(key) !== true) ? [] : out
        const r = logic.close(part, key, slot, through, closing)
        if (update && pending !== undefined) logic.current(slot, pending, out)
        part.pendingUpdates.delete(key)
        if (r === 'done') {
          done.push(key)
          part.lastUpdate.delete(key)
          logic.removed?.(part, key, slot)
        } else {
          part.store.put(key, slot)
          part.schedule(key, logic.dueAt(slot))
        }
      }
    }
    this.#emitClosed(part, out, done)
  }

  #emitClosed(part: AnyPartition, out: readonly WindowOutput[], done: readonly string[]): void {
    const releases: Release[] = []
    if (!part.store.durable) {
      for (const key of done) {
        part.takeHolds(key, releases)
        part.store.delete(key)
      }
    }
    const emission = new Emission(() => {
      if (part.store.durable) part.settled.push(...done)
      for (const r of releases) r()
    })
    const emit = this.#init.emit
    for (const o of out) {
      const r = emit(
        this.#toRecord(o, part.lastTopic, part.partition, part.lastOffset),
        new CloseContext(this.name, o, part, emission),
      )
      if (isPromise(r)) emission.await(r)
    }
    if (out.length > 0) this.#results.inc(this.#labels, out.length)
    emission.release()
  }

  #emitUpdates(
    part: AnyPartition,
    record: AnyRecord,
    ctx: RecordContext,
    emit: Emit,
    now: number,
  ): void | Promise<void> {
    const every = this.#o.updateEveryMs
    const out: WindowOutput[] = []
    for (const [key, time] of part.changedNow) {
      if (every > 0) {
        const last = part.lastUpdate.get(key)
        if (last !== undefined && now - last < every) {
          part.pendingUpdates.set(key, time)
          continue
        }
        part.lastUpdate.set(key, now)
      }
      part.pendingUpdates.delete(key)
      const slot = part.get(key)
      if (slot !== undefined) this.#o.logic.current(slot, time, out)
    }
    let pending: Promise<void>[] | undefined
    for (const o of out) {
      const r = emit(this.#toRecord(o, record.topic, record.partition, record.offset), ctx)
      if (isPromise<void>(r)) {
        pending ??= []
        pending.push(r)
      }
    }
    if (out.length > 0) this.#results.inc(this.#labels, out.length)
    if (pending !== undefined) return Promise.all(pending).then(() => undefined)
  }

  /**
   * Emit 'end': a window the record changed is scheduled to fire at its end; one whose end the
   * watermark already passed (a late record within grace) emits its corrected result now.
   */
  #emitAfterEnd(part: AnyPartition, record: AnyRecord, ctx: RecordContext, emit: Emit): void | Promise<void> {
    const endOf = this.#o.logic.endOf!
    const out: WindowOutput[] = []
    for (const [key, time] of part.changedNow) {
      const slot = part.get(key)
      if (slot === undefined) continue
      const end = endOf(slot)
      if (end <= part.closedThrough) this.#o.logic.current(slot, time, out)
      else part.schedule(key, end)
    }
    if (out.length === 0) return
    this.#results.inc(this.#labels, out.length)
    let pending: Promise<void>[] | undefined
    for (const o of out) {
      const r = emit(this.#toRecord(o, record.topic, record.partition, record.offset), ctx)
      if (isPromise<void>(r)) {
        pending ??= []
        pending.push(r)
      }
    }
    if (pending !== undefined) return Promise.all(pending).then(() => undefined)
  }

  #flushPendingUpdates(part: AnyPartition, now: number): void {
    if (part.pendingUpdates.size === 0) return
    const out: WindowOutput[] = []
    for (const [key, time] of part.pendingUpdates) {
      if (now - (part.lastUpdate.get(key) ?? Number.NEGATIVE_INFINITY) < this.#o.updateEveryMs) continue
      part.pendingUpdates.delete(key)
      part.lastUpdate.set(key, now)
      const slot = part.get(key)
      if (slot !== undefined) this.#o.logic.current(slot, time, out)
    }
    this.#emitClosed(part, out, [])
  }

  #toRecord(o: WindowOutput, topic: string, partition: number, offset: number): AnyRecord {
    return {
      key: o.key,
      value: { key: o.key, start: o.start, end: o.end, value: o.value },
      headers: NO_HEADERS,
      timestamp: o.timestamp,
      topic,
      partition,
      offset,
    }
  }

  #onLate(
    record: AnyRecord,
    ctx: RecordContext,
    outputs: Outputs,
    time: number,
    closedThrough: number,
  ): void | Promise<void> {
    this.#late.inc(this.#labels)
    if (this.#o.late === 'drop') return
    if (this.#o.late === 'port') {
      const port = outputs.port('late')
      if (port !== undefined) return port(record, ctx)
    }
    throw new WeirError(
      ErrorCode.LATE_RECORD,
      `late record: its time ${iso(time)} is in windows already closed (closed through ${iso(closedThrough)}, grace ${this.#o.grace} ms)`,
      { details: { time, closedThrough, grace: this.#o.grace } },
    )
  }

  #checkKey(key: unknown, recordKey: unknown): void {
    if (String(key) === String(recordKey)) return
    this.#warnedKey = true
    this.#init.logger.warn(
      'groupBy: the grouping key differs from the record key. State is kept per input partition, so a group is complete only if ' +
        'all its records arrive on one partition: key the input topic by the grouping key (or use groupByKey)',
      { groupKey: String(key), recordKey: String(recordKey) },
    )
  }
}

function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : String(t)
}

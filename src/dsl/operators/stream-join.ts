import type { Cancel } from '../../core/clock.ts'
import { ErrorCode, toWeirError, WeirError } from '../../core/errors.ts'
import type { Counter, Labels } from '../../core/metrics.ts'
import type { TopicPartition } from '../../core/record.ts'
import type { AnyRecord, Emit, Processor, ProcessorInit, RecordContext } from '../../runtime/processor.ts'
import { StateStores } from '../../state/changelog.ts'
import { decodeKey, encodeKey, META_KEY } from '../../state/keys.ts'
import type { PartitionStore } from '../../state/store.ts'
import { mine } from './aggregate.ts'
import { timerContext } from './window-emission.ts'

/** A record on its way into the join, tagged with its side (0 = this stream, 1 = the other). */
export interface Sided {
  readonly side: 0 | 1
  readonly v: unknown
}

export interface StreamJoinOperatorOptions {
  readonly name: string
  /** Records of the two sides join when their timestamps are at most this far apart. */
  readonly within: number
  /** How far behind its side's newest time a record may arrive and still join (out-of-order input). */
  readonly grace: number
  readonly joiner: (left: unknown, right: unknown, record: AnyRecord) => unknown
  readonly changelog: string | undefined
  readonly sourceTopics: ReadonlySet<string>
  /** Per side (left, right): emit its records that met no partner when their window closes. */
  readonly outer: readonly [boolean, boolean]
}

/** A buffered record: side, key, event time, value, and 1 once it met a partner (kept for outer sides). */
type Entry = [side: 0 | 1, keyStr: string, time: number, value: unknown, matched?: 1]

/**
 * A windowed stream–stream join: a record meets every record of the other side with the same key
 * whose timestamp is within `within` of its own, whichever came first. Time is kept per side, so one
 * input read far ahead of the other loses nothing: a buffered record is dropped only once the *other*
 * side's newest time passes it by within + grace (no partner can come any more), and a record more than
 * `grace` behind its own side's newest time is late and joins nothing (its partners may be gone).
 *
 * Left and outer joins: a record of an outer side that met no partner is emitted with `undefined` for
 * the other side when it is dropped from the buffer, i.e. once the other side's time passed it by
 * within + grace. That is the moment no partner can come any more, decided by the data alone: which
 * side happens to be read first never makes a record look unmatched (as Flink's interval join holds
 * results back to the slower input's watermark). So a side that goes quiet holds the other's unmatched
 * records back until it moves on.
 *
 * Buffers are durable (a changelog, restored on assignment) and keyed by the input offset, so a record
 * read again after a crash is buffered once (its joins may be emitted again: at-least-once; exactly-once
 * writes joins, unmatched results and buffer changes in one transaction).
 */
export class StreamJoin implements Processor {
  readonly name: string
  readonly #o: StreamJoinOperatorOptions
  readonly #state: StateStores<Entry>
  /** Per partition: key → state keys of its buffered records, in arrival order. */
  readonly #index = new Map<number, Map<string, Set<string>>>()
  readonly #labels: Labels
  #late!: Counter
  #timer: Cancel | undefined
  #init!: ProcessorInit

  constructor(options: StreamJoinOperatorOptions) {
    this.name = options.name
    this.#o = options
    this.#state = new StateStores({
      operator: options.name,
      changelog: options.changelog,
      signature: `stream-join:${options.within}`,
    })
    this.#labels = { operator: options.name }
  }

  async init(init: ProcessorInit): Promise<void> {
    if (init.partitionCount !== undefined) await this.#checkCopartitioned(init.partitionCount)
    this.#init = init
    this.#state.init(init)
    this.#late = init.metrics.counter(
      'weir_join_late_total',
      'Records too late to join (more than grace behind their side)',
    )
    this.#timer = init.clock.setInterval(() => this.#expireAll(), 1000)
  }

  process(record: AnyRecord, ctx: RecordContext, emit: Emit): void | Promise<void> {
    const { side, v } = record.value as Sided
    const o = this.#o
    const store = this.#state.open(record.partition)
    const index = this.#indexOf(record.partition)
    const t = record.timestamp
    const field = side === 0 ? 'n0' : 'n1'
    const newest = Number(store.meta[field] ?? Number.NEGATIVE_INFINITY)
    if (t > newest) store.setMeta({ [field]: t })
    store.markApplied(record)
    if (t < newest - o.grace) {
      this.#late.inc(this.#labels)
      return
    }
    const keyStr = encodeKey(record.key)
    const keys = index.get(keyStr)
    const pending: Promise<void>[] = []
    let matched = false
    if (keys !== undefined) {
      for (const sk of keys) {
        const e = store.get(sk)
        if (e === undefined || e[0] === side || Math.abs(e[2] - t) > o.within) continue
        matched = true
        // An outer side's record remembers it met a partner, so it is not emitted as unmatched later.
        if (o.outer[e[0]] && e[4] !== 1) store.put(sk, [e[0], e[1], e[2], e[3], 1], record)
        const [left, right] = side === 0 ? [v, e[3]] : [e[3], v]
        const out = { ...record, value: undefined as unknown, timestamp: Math.max(t, e[2]) }
        out.value = o.joiner(left, right, out)
        const r = emit(out, ctx)
        if (r !== undefined) pending.push(r)
      }
    }
    const sk = `${keyStr}\u0001${record.topic}@${record.offset}`
    if (!store.has(sk)) {
      const entry: Entry = matched && o.outer[side] ? [side, keyStr, t, v, 1] : [side, keyStr, t, v]
      store.put(sk, entry, record)
      this.#add(index, keyStr, sk)
    }
    if (pending.length > 0) return Promise.all(pending).then(() => undefined)
  }

  async assigned(partitions: readonly TopicPartition[]): Promise<void> {
    if (!this.#state.durable) return
    for (const p of mine(partitions, this.#o.sourceTopics)) {
      if (this.#state.get(p) !== undefined) continue
      const store = await this.#state.restore(p)
      if (store === undefined) continue
      const index = this.#indexOf(p)
      for (const [sk, e] of store.entries()) if (sk !== META_KEY) this.#add(index, e[1], sk)
    }
  }

  revoked(partitions: readonly TopicPartition[]): void {
    for (const p of mine(partitions, this.#o.sourceTopics)) {
      const store = this.#state.get(p)
      if (store === undefined) continue
      this.#state.flush([store])
      this.#state.drop(p)
      this.#index.delete(p)
    }
  }

  flushState(): void {
    this.#state.flush()
  }

  close(): void {
    this.#timer?.()
    this.#state.close()
  }

  /** Both sides' topics need one partition count, so a key's records of both meet on one partition. */
  async #checkCopartitioned(count: (topic: string) => Promise<number>): Promise<void> {
    const counts = await Promise.all([...this.#o.sourceTopics].map(async (t) => [t, await count(t)] as const))
    if (new Set(counts.map(([, n]) => n)).size > 1) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `join "${this.name}": its input topics must have the same partition count, got ${counts.map(([t, n]) => `"${t}" ${n}`).join(', ')}`,
        { retriable: false },
      )
    }
  }

  #indexOf(partition: number): Map<string, Set<string>> {
    let index = this.#index.get(partition)
    if (index === undefined) {
      index = new Map()
      this.#index.set(partition, index)
    }
    return index
  }

  #add(index: Map<string, Set<string>>, keyStr: string, sk: string): void {
    let keys = index.get(keyStr)
    if (keys === undefined) {
      keys = new Set()
      index.set(keyStr, keys)
    }
    keys.add(sk)
  }

  /**
   * Drops buffered records no partner can join any more (the timer; the changelog gets tombstones),
   * emitting an outer side's unmatched ones. Not while an exactly-once checkpoint runs.
   */
  #expireAll(): void {
    if (this.#init.quiet()) return
    for (const store of this.#state.partitions()) {
      try {
        this.#expire(store)
      } catch (err) {
        this.#init.fail(toWeirError(err), timerContext(this.name))
      }
    }
  }

  #expire(store: PartitionStore<Entry>): void {
    const slack = this.#o.within + this.#o.grace
    // Side s is kept until the other side is past it: horizon[s] from the other side's newest time.
    const horizon = [
      Number(store.meta.n1 ?? Number.NEGATIVE_INFINITY) - slack,
      Number(store.meta.n0 ?? Number.NEGATIVE_INFINITY) - slack,
    ]
    const index = this.#index.get(store.partition)
    const expired: Array<[string, Entry]> = []
    for (const [sk, e] of store.entries()) if (sk !== META_KEY && e[2] < horizon[e[0]]!) expired.push([sk, e])
    // Oldest first, so unmatched results come out in time order.
    expired.sort((a, b) => a[1][2] - b[1][2])
    for (const [sk, e] of expired) {
      if (this.#o.outer[e[0]] && e[4] !== 1) this.#emitUnmatched(store.partition, sk, e)
      const keyStr = e[1]
      store.delete(sk)
      const keys = index?.get(keyStr)
      keys?.delete(sk)
      if (keys?.size === 0) index?.delete(keyStr)
    }
  }

  /** An outer side's record that met no partner: joined with `undefined` for the other side. */
  #emitUnmatched(partition: number, sk: string, e: Entry): void {
    const at = sk.lastIndexOf('@')
    const cut = sk.lastIndexOf('\u0001', at)
    const topic = sk.slice(cut + 1, at)
    const offset = Number(sk.slice(at + 1))
    const out = {
      key: decodeKey(e[1]),
      value: undefined as unknown,
      headers: {},
      timestamp: e[2],
      topic,
      partition,
      offset,
    }
    out.value = e[0] === 0 ? this.#o.joiner(e[3], undefined, out) : this.#o.joiner(undefined, e[3], out)
    const ctx = timerContext(this.name)
    const r = this.#init.emit(out, ctx)
    if (r !== undefined) r.catch((err: unknown) => this.#init.fail(toWeirError(err), ctx))
  }
}

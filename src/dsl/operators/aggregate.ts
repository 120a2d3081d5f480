import type { Cancel } from '../../core/clock.ts'
import type { Labels } from '../../core/metrics.ts'
import type { TopicPartition } from '../../core/record.ts'
import type { AnyRecord, Emit, Processor, ProcessorInit, RecordContext } from '../../runtime/processor.ts'
import { StateStores } from '../../state/changelog.ts'
import { encodeKey } from '../../state/keys.ts'
import { type QueryableStore, stateStoresView } from '../../state/query.ts'
import type { Aggregation } from '../aggregations.ts'

export interface GroupAggregateOptions {
  readonly name: string
  readonly aggregation: Aggregation<unknown, unknown, unknown>
  /** The grouping key; undefined groups by the record key. */
  readonly key: ((value: unknown, record: AnyRecord) => unknown) | undefined
  readonly changelog: string | undefined
  readonly signature: string
  readonly sourceTopics: ReadonlySet<string>
  /** Forget a key after this long (wall time) with no record; 0 keeps keys forever. */
  readonly ttl: number
}

/** A key's running accumulator and when it last changed (wall time). */
interface GroupSlot {
  k: unknown
  a: unknown
  u: number
}

/**
 * A running (unwindowed) aggregate per key: every record updates its key's accumulator and emits the
 * new result, keyed by the group key (a table's changelog stream). Durable and idempotent on replay like
 * the windowed operators; with a `ttl`, keys quiet for that long are dropped so memory stays bounded.
 */
export class GroupAggregate implements Processor {
  readonly name: string
  readonly #o: GroupAggregateOptions
  readonly #state: StateStores<GroupSlot>
  readonly #labels: Labels
  #init!: ProcessorInit
  #timer: Cancel | undefined
  #view: QueryableStore | undefined

  constructor(options: GroupAggregateOptions) {
    this.name = options.name
    this.#o = options
    this.#state = new StateStores({
      operator: options.name,
      changelog: options.changelog,
      signature: options.signature,
    })
    this.#labels = { operator: options.name, reason: 'ttl' }
  }

  init(init: ProcessorInit): void {
    this.#init = init
    this.#state.init(init)
    const ttl = this.#o.ttl
    if (ttl > 0)
      this.#timer = init.clock.setInterval(
        () => this.#expire(),
        Math.min(60_000, Math.max(1000, Math.floor(ttl / 10))),
      )
  }

  process(record: AnyRecord, ctx: RecordContext, emit: Emit): void | Promise<void> {
    const store = this.#state.open(record.partition)
    if (store.durable && store.replayed(record)) {
      this.#state.metrics.replaySkipped.inc(this.#labels)
      return
    }
    const o = this.#o
    const key = o.key === undefined ? record.key : o.key(record.value, record)
    const k = encodeKey(key)
    if (store.durable && store.appliedTo(k, record)) return
    const now = this.#init.clock.now()
    const slot = store.get(k) ?? { k: key, a: o.aggregation.init(), u: now }
    slot.a = o.aggregation.add(slot.a, record.value, record.timestamp)
    slot.u = now
    store.put(k, slot, record)
    if (o.ttl > 0) store.touch(k)
    store.markApplied(record)
    const value = o.aggregation.result(slot.a)
    return emit(
      {
        key,
        value,
        headers: record.headers,
        timestamp: record.timestamp,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      },
      ctx,
    )
  }

  async assigned(partitions: readonly TopicPartition[]): Promise<void> {
    for (const p of mine(partitions, this.#o.sourceTopics))
      if (this.#state.get(p) === undefined) await this.#state.restore(p)
  }

  revoked(partitions: readonly TopicPartition[]): void {
    for (const p of mine(partitions, this.#o.sourceTopics)) {
      const store = this.#state.get(p)
      if (store === undefined) continue
      this.#state.flush([store])
      this.#state.drop(p)
    }
  }

  flushState(): void {
    this.#state.flush()
  }

  /** The running result per key, for interactive queries (`GET /state/<name>/<key>`). */
  stores(): readonly QueryableStore[] {
    this.#view ??= stateStoresView(this.name, this.#state, false, (slot) =>
      this.#o.aggregation.result(slot.a),
    )
    return [this.#view]
  }

  close(): void {
    this.#timer?.()
    this.#state.close()
  }

  #expire(): void {
    const now = this.#init.clock.now()
    let n = 0
    for (const store of this.#state.partitions()) {
      for (let e = store.oldest(); e !== undefined && now - e[1].u >= this.#o.ttl; e = store.oldest()) {
        store.delete(e[0])
        n++
      }
    }
    if (n > 0) this.#state.metrics.evicted.inc(this.#labels, n)
  }
}

/** The partitions of `partitions` that feed this operator. */
export function mine(partitions: readonly TopicPartition[], sources: ReadonlySet<string>): Set<number> {
  return new Set(
    partitions.filter((tp) => sources.size === 0 || sources.has(tp.topic)).map((tp) => tp.partition),
  )
}

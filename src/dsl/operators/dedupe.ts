import type { Cancel } from '../../core/clock.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Counter, Labels } from '../../core/metrics.ts'
import type { TopicPartition } from '../../core/record.ts'
import type { AnyRecord, Emit, Processor, ProcessorInit, RecordContext } from '../../runtime/processor.ts'
import { StateStores } from '../../state/changelog.ts'
import { encodeKey } from '../../state/keys.ts'
import type { PartitionStore } from '../../state/store.ts'
import { mine } from './aggregate.ts'

export interface DedupeOperatorOptions {
  readonly name: string
  readonly key: (value: unknown, record: AnyRecord) => unknown
  /** A repeat of a key within this many ms of its first sighting is dropped. */
  readonly within: number
  /** Keys remembered per input partition; beyond it the least recently seen is forgotten. */
  readonly maxKeys: number
  readonly time: 'processing' | 'event'
  readonly changelog: string | undefined
  readonly sourceTopics: ReadonlySet<string>
  /** When set, a repeat is not dropped silently but fails with this violation (the dead-letter path). */
  readonly deadLetter?: { readonly rule: string; readonly field: string; readonly type?: string }
}

/**
 * When a key was first seen. Where (topic, offset) is the store's own record of the input that changed
 * the key (`changedBy`), so a replay of that record passes again; changelogs written before that kept it
 * in the value too, and still restore.
 */
type Seen = number | [time: number, topic: string, offset: number]

/**
 * Changed keys after which a store's changelog records go to the producer before the checkpoint. Every
 * unseen key is a change here, so at 20,000 new keys/s a checkpoint-only flush queued ~40,000 records at
 * once; 1,000 keeps the burst within the runner's backlog bound and the metadata record per drain rare.
 */
const EARLY_FLUSH_KEYS = 1000

const timeOf = (s: Seen): number => (typeof s === 'number' ? s : s[0])

/**
 * Drops repeats of a key seen within `within`. Memory is bounded twice: a key expires `within` after it
 * was first seen, and at most `maxKeys` are kept per partition (least recently seen goes first; counted
 * as `weir_state_evicted_total{reason="max-keys"}` when it had not expired yet).
 * Durable state is restored after a restart; a record re-read after a crash is recognised by its offset
 * and passes again (at-least-once: it may not have reached the output), while real repeats stay dropped.
 */
export class Dedupe implements Processor {
  readonly name: string
  readonly #o: DedupeOperatorOptions
  readonly #state: StateStores<Seen>
  #init!: ProcessorInit
  #timer: Cancel | undefined
  #dropped!: Counter
  #eventNow = Number.NEGATIVE_INFINITY
  readonly #labels: Labels
  readonly #ttlLabels: Labels
  readonly #maxKeyLabels: Labels

  constructor(options: DedupeOperatorOptions) {
    this.name = options.name
    this.#o = options
    this.#state = new StateStores({
      operator: options.name,
      changelog: options.changelog,
      signature: 'dedupe',
      // Every new key is a change, and keys leave in about the order they came: written in segments,
      // a key costs a thousandth of a changelog record instead of a record and, later, a tombstone.
      segmentSize: EARLY_FLUSH_KEYS,
    })
    this.#labels = { operator: options.name }
    this.#ttlLabels = { operator: options.name, reason: 'ttl' }
    this.#maxKeyLabels = { operator: options.name, reason: 'max-keys' }
  }

  init(init: ProcessorInit): void {
    this.#init = init
    this.#state.init(init)
    this.#dropped = init.metrics.counter(
      'weir_dedupe_dropped_total',
      'Records dropped as repeats of a key seen within the dedupe span',
    )
    this.#timer = init.clock.setInterval(
      () => this.#expireAll(),
      Math.min(60_000, Math.max(1000, Math.floor(this.#o.within / 4))),
    )
  }

  process(record: AnyRecord, ctx: RecordContext, emit: Emit): void | Promise<void> {
    const o = this.#o
    const store = this.#state.open(record.partition)
    const now = this.#now(record)
    this.#expire(store, now, 8)
    const k = encodeKey(o.key(record.value, record))
    const seen = store.get(k)
    const replay = seen !== undefined && store.durable && store.changedBy(k, record)
    if (seen !== undefined && now - timeOf(seen) < o.within && !replay) {
      store.touch(k)
      store.markApplied(record)
      this.#dropped.inc(this.#labels)
      if (o.deadLetter !== undefined) throw repeatError(o.deadLetter, k, timeOf(seen))
      return
    }
    if (seen === undefined) {
      // A new key goes in at the most recently seen end already.
      store.put(k, now, record)
      // A loop: a restored store can hold more (keys deleted from a segment still alive come back).
      while (store.size > o.maxKeys) this.#evictOldest(store, now)
    } else if (!replay) {
      store.put(k, now, record)
      store.touch(k)
    }
    store.markApplied(record)
    this.#state.flushWhenLarge(store, EARLY_FLUSH_KEYS)
    return emit(record, ctx)
  }

  async assigned(partitions: readonly TopicPartition[]): Promise<void> {
    if (!this.#state.durable) return
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

  close(): void {
    this.#timer?.()
    this.#state.close()
  }

  #now(record: AnyRecord): number {
    if (this.#o.time === 'processing') return this.#init.clock.now()
    if (record.timestamp > this.#eventNow) this.#eventNow = record.timestamp
    return record.timestamp
  }

  /** Drops expired keys from the least recently seen end (at most `limit`, so a record never waits long). */
  #expire(store: PartitionStore<Seen>, now: number, limit: number): void {
    let n = 0
    for (
      let e = store.oldest();
      e !== undefined && n < limit && now - timeOf(e[1]) >= this.#o.within;
      e = store.oldest()
    ) {
      store.delete(e[0])
      n++
    }
    if (n > 0) this.#state.metrics.evicted.inc(this.#ttlLabels, n)
  }

  /** The timer: every expired key goes, wherever it sits in the order. */
  #expireAll(): void {
    const now = this.#o.time === 'processing' ? this.#init.clock.now() : this.#eventNow
    let n = 0
    for (const store of this.#state.partitions()) {
      const expired: string[] = []
      for (const [k, s] of store.entries()) if (now - timeOf(s) >= this.#o.within) expired.push(k)
      for (const k of expired) store.delete(k)
      n += expired.length
    }
    if (n > 0) this.#state.metrics.evicted.inc(this.#ttlLabels, n)
  }

  #evictOldest(store: PartitionStore<Seen>, now: number): void {
    const e = store.oldest()
    if (e === undefined) return
    store.delete(e[0])
    if (now - timeOf(e[1]) < this.#o.within) this.#state.metrics.evicted.inc(this.#maxKeyLabels)
    else this.#state.metrics.evicted.inc(this.#ttlLabels)
  }
}

function repeatError(
  v: NonNullable<DedupeOperatorOptions['deadLetter']>,
  key: string,
  firstSeen: number,
): WeirError {
  const message = `duplicate of a record seen at ${new Date(firstSeen).toISOString()} (key ${key})`
  return new WeirError(ErrorCode.VALIDATION_FAILED, `invalid: ${v.field}: ${message}`, {
    details: [
      { rule: v.rule, type: v.type ?? 'duplicate', field: v.field, message, severity: 'error', value: key },
    ],
  })
}

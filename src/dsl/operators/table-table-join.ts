import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { TopicPartition } from '../../core/record.ts'
import type { AnyRecord, Emit, Processor, ProcessorInit, RecordContext } from '../../runtime/processor.ts'
import { StateStores } from '../../state/changelog.ts'
import { encodeKey, META_KEY } from '../../state/keys.ts'
import type { QueryableStore, QueryResult } from '../../state/query.ts'
import { mine } from './aggregate.ts'
import type { Sided } from './stream-join.ts'

export interface TableTableJoinOptions {
  readonly name: string
  /** Per side (left, right): a key with only the other side's value still has a result. */
  readonly outer: readonly [boolean, boolean]
  readonly joiner: (left: unknown, right: unknown, key: unknown) => unknown
  readonly changelog: string | undefined
  readonly sourceTopics: ReadonlySet<string>
}

/** Both sides' latest value of a key (null: none) and their timestamps. */
type Slot = [key: unknown, left: unknown, right: unknown, leftTime: number, rightTime: number]

/**
 * A table–table join (Kafka Streams' KTable–KTable join): each side's changes update that side's
 * latest value per key, and each change emits the key's new joined value, or a tombstone (value null)
 * when a key that had a result has none any more. Inner: both sides present; left: the left side
 * present; outer: either. The result's timestamp is the later of the two sides'.
 *
 * Both tables must be partitioned alike (checked at start). State is durable (a changelog, restored on
 * assignment) and idempotent on replay like the aggregates, so the joined table after a crash equals a
 * clean run's; the interactive-query store `<name>` answers the joined value per key.
 */
export class TableTableJoin implements Processor {
  readonly name: string
  readonly #o: TableTableJoinOptions
  readonly #state: StateStores<Slot>

  constructor(options: TableTableJoinOptions) {
    this.name = options.name
    this.#o = options
    this.#state = new StateStores({
      operator: options.name,
      changelog: options.changelog,
      signature: 'table-join',
    })
  }

  async init(init: ProcessorInit): Promise<void> {
    if (init.partitionCount !== undefined) await this.#checkCopartitioned(init.partitionCount)
    this.#state.init(init)
  }

  process(record: AnyRecord, ctx: RecordContext, emit: Emit): void | Promise<void> {
    const store = this.#state.open(record.partition)
    if (store.durable && store.replayed(record)) return
    const { side, v } = record.value as Sided
    const k = encodeKey(record.key)
    if (store.durable && store.appliedTo(k, record)) return
    const before = store.get(k) ?? [record.key, null, null, 0, 0]
    const after: Slot = [...before]
    after[1 + side] = v ?? null
    after[3 + side] = record.timestamp
    if (after[1] === null && after[2] === null) store.delete(k)
    else store.put(k, after, record)
    store.markApplied(record)
    const had = this.#hasResult(before)
    if (!this.#hasResult(after) && !had) return
    const value = this.#hasResult(after) ? this.#result(after) : null
    return emit({ ...record, value, timestamp: Math.max(after[3], after[4]) }, ctx)
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

  close(): void {
    this.#state.close()
  }

  /** The joined value per key: `GET /state/<name>/<key>` (keys with no result are missing). */
  stores(): readonly QueryableStore[] {
    const state = this.#state
    const lookup = (key: string): QueryResult => {
      for (const part of state.partitions()) {
        const slot = part.get(key)
        if (slot !== undefined && this.#hasResult(slot)) return { state: 'found', value: this.#result(slot) }
      }
      return state.restoringCount() > 0 ? { state: 'restoring', retryAfterSeconds: 1 } : { state: 'missing' }
    }
    return [
      {
        name: this.name,
        kind: 'key-value',
        get: (key) => {
          const r = lookup(key)
          if (r.state !== 'missing') return r
          // Numeric and other non-string keys are stored JSON-encoded (see encodeKey).
          try {
            const parsed: unknown = JSON.parse(key)
            if (typeof parsed !== 'string') return lookup(encodeKey(parsed))
          } catch {
            // a plain string key
          }
          return r
        },
        range: (q) => {
          const rows: Array<[string, Slot]> = []
          for (const part of state.partitions())
            for (const [sk, slot] of part.entries()) {
              if (sk === META_KEY || !this.#hasResult(slot)) continue
              if (
                (q.prefix !== undefined && !sk.startsWith(q.prefix)) ||
                (q.after !== undefined && sk <= q.after)
              )
                continue
              rows.push([sk, slot])
            }
          rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
          const page = rows.slice(0, q.limit)
          return {
            entries: page.map(([sk, slot]) => ({ key: sk, value: this.#result(slot) })),
            next: rows.length > q.limit ? page.at(-1)?.[0] : undefined,
            restoring: state.restoringCount() > 0,
          }
        },
      },
    ]
  }

  #hasResult(s: Slot): boolean {
    const [l, r] = [s[1] !== null, s[2] !== null]
    return (l && r) || (l && this.#o.outer[0]) || (r && this.#o.outer[1])
  }

  #result(s: Slot): unknown {
    return this.#o.joiner(s[1] ?? undefined, s[2] ?? undefined, s[0])
  }

  /** Both tables' topics need one partition count, so a key of both meets on one partition. */
  async #checkCopartitioned(count: (topic: string) => Promise<number>): Promise<void> {
    const counts = await Promise.all([...this.#o.sourceTopics].map(async (t) => [t, await count(t)] as const))
    if (new Set(counts.map(([, n]) => n)).size > 1) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `table join "${this.name}": both tables' topics must have the same partition count (keyed alike), got ${counts.map(([t, n]) => `"${t}" ${n}`).join(', ')}`,
        { retriable: false },
      )
    }
  }
}

import type { Cancel } from '../../core/clock.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { TopicPartition } from '../../core/record.ts'
import type { AnyRecord, Emit, Processor, ProcessorInit, RecordContext } from '../../runtime/processor.ts'
import type { QueryableStore } from '../../state/query.ts'
import { type TableSource, TableStore } from '../../state/table-store.ts'
import { mine } from './aggregate.ts'

export interface TableJoinOptions {
  readonly name: string
  readonly table: TableSource
  /** Every instance holds the whole table (no co-partitioning); else only the partitions it is assigned. */
  readonly global: boolean
  /** Inner join drops records with no table value; left join passes them with `undefined`. */
  readonly inner: boolean
  /** The key to look up; default the record key. */
  readonly keyOf: ((value: unknown, record: AnyRecord) => unknown) | undefined
  readonly joiner: (value: unknown, tableValue: unknown, record: AnyRecord) => unknown
  /** Topics whose partitions carry this join's stream (their partitions pick the table's). */
  readonly sourceTopics: ReadonlySet<string>
  /** How often the table reads what was appended to its topic. */
  readonly refreshMs: number
}

/**
 * A stream–table join: each record meets the table's value for its key as the table stands when the
 * record is processed. The table is loaded before any record of its partition is processed (on
 * assignment; a global table at start, all partitions), then read on every `refreshMs`.
 * Nothing is written: the table's topic is its changelog, so a restart loads it again.
 */
export class TableJoin implements Processor {
  readonly name: string
  readonly #o: TableJoinOptions
  #store!: TableStore
  #init!: ProcessorInit
  #timer: Cancel | undefined
  #refreshing: Promise<void> | undefined

  constructor(options: TableJoinOptions) {
    this.name = options.name
    this.#o = options
  }

  async init(init: ProcessorInit): Promise<void> {
    this.#init = init
    const o = this.#o
    this.#store = new TableStore(o.table, init.readPartition, o.global)
    const count = init.partitionCount
    if (count !== undefined) {
      const tablePartitions = await count(o.table.topic)
      this.#store.partitionCount = tablePartitions
      if (!o.global) await this.#checkCopartitioned(count, tablePartitions)
      if (o.global) {
        const started = performance.now()
        let n = 0
        const all = Array.from({ length: tablePartitions }, (_, p) => p)
        this.#store.willLoad(all)
        for (const p of all) n += await this.#store.load(p)
        init.logger.info('global table loaded', {
          table: o.table.name,
          records: n,
          ms: Math.round(performance.now() - started),
        })
      }
    }
    this.#timer = init.clock.setInterval(() => void this.refresh(), o.refreshMs)
  }

  process(record: AnyRecord, ctx: RecordContext, emit: Emit): void | Promise<void> {
    const o = this.#o
    const key = o.keyOf === undefined ? record.key : o.keyOf(record.value, record)
    const found =
      key === null || key === undefined
        ? undefined
        : this.#store.lookup(key, o.global ? undefined : record.partition)
    if (found === undefined && o.inner) return
    return emit({ ...record, value: o.joiner(record.value, found, record) }, ctx)
  }

  async assigned(partitions: readonly TopicPartition[]): Promise<void> {
    if (this.#o.global) return
    const started = performance.now()
    let n = 0
    const mineNow = mine(partitions, this.#o.sourceTopics)
    this.#store.willLoad(mineNow)
    for (const p of mineNow) n += await this.#store.load(p)
    this.#init.logger.debug('table loaded', {
      table: this.#o.table.name,
      records: n,
      ms: Math.round(performance.now() - started),
    })
  }

  revoked(partitions: readonly TopicPartition[]): void {
    if (this.#o.global) return
    for (const p of mine(partitions, this.#o.sourceTopics)) this.#store.drop(p)
  }

  /** Reads what was appended to the table's topic (one read at a time); new partitions of a global table too. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        if (this.#o.global && this.#init.partitionCount !== undefined) {
          const now = await this.#init.partitionCount(this.#o.table.topic)
          for (let p = this.#store.partitionCount; p < now; p++) await this.#store.load(p)
          this.#store.partitionCount = Math.max(now, this.#store.partitionCount)
        }
        await this.#store.refresh()
      } catch (err) {
        this.#init.logger.warn('table refresh failed; retrying', { table: this.#o.table.name, error: err })
      } finally {
        this.#refreshing = undefined
      }
    })()
    return this.#refreshing
  }

  stores(): readonly QueryableStore[] {
    return [this.#store]
  }

  close(): void {
    this.#timer?.()
  }

  async #checkCopartitioned(
    count: (topic: string) => Promise<number>,
    tablePartitions: number,
  ): Promise<void> {
    const table = this.#o.table.topic
    for (const topic of this.#o.sourceTopics) {
      const n = await count(topic)
      if (n !== tablePartitions) {
        throw new WeirError(
          ErrorCode.TOPOLOGY_INVALID,
          `join "${this.name}": stream topic "${topic}" has ${n} partitions but table topic "${table}" has ${tablePartitions}; ` +
            'a stream–table join needs both keyed alike with the same partition count (or join a globalTable)',
          { retriable: false },
        )
      }
    }
  }
}

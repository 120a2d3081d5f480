import type { Cancel, Clock } from '../../core/clock.ts'
import type { Counter, Labels } from '../../core/metrics.ts'
import type { TopicPartition } from '../../core/record.ts'
import type { AnyRecord, Emit, Processor, ProcessorInit, RecordContext } from '../../runtime/processor.ts'
import { OffsetRanges } from './offset-ranges.ts'

export interface OffsetDedupeOptions {
  readonly name: string
  /** The input topic (with its prefix): the partitions whose offsets this operator remembers. */
  readonly topic: string
  /** A record at a `topic:partition:offset` seen less than this long ago is dropped. */
  readonly withinMs: number
}

/**
 * The seed's deduplicator (key `topic:partition:offset`, 60 s sliding window): drops a record whose
 * offset this instance already saw within `withinMs` (a re-delivery after a rebalance or a retry).
 * Offsets are remembered per partition as runs (`OffsetRanges`), so memory does not grow with the
 * record rate. Memory-only, as the seed's was: a restart or a partition moving away forgets them.
 */
export class OffsetDedupe implements Processor {
  readonly name: string
  readonly #o: OffsetDedupeOptions
  readonly #partitions = new Map<number, OffsetRanges>()
  #last: { partition: number; seen: OffsetRanges } | undefined
  #clock!: Clock
  #timer: Cancel | undefined
  #dropped!: Counter
  readonly #labels: Labels

  constructor(options: OffsetDedupeOptions) {
    this.name = options.name
    this.#o = options
    this.#labels = { operator: options.name }
  }

  init(init: ProcessorInit): void {
    this.#clock = init.clock
    this.#dropped = init.metrics.counter(
      'weir_dedupe_dropped_total',
      'Records dropped as repeats of a key seen within the dedupe span',
    )
    // Runs expire off the front as records come; this also catches partitions gone quiet.
    const every = Math.min(60_000, Math.max(1000, Math.floor(this.#o.withinMs / 4)))
    this.#timer = init.clock.setInterval(() => {
      const now = this.#clock.now()
      for (const seen of this.#partitions.values()) seen.expire(now)
    }, every)
  }

  process(record: AnyRecord, ctx: RecordContext, emit: Emit): void | Promise<void> {
    if (this.#ranges(record.partition).seen(record.offset, this.#clock.now())) {
      this.#dropped.inc(this.#labels)
      return
    }
    return emit(record, ctx)
  }

  revoked(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) if (tp.topic === this.#o.topic) this.#partitions.delete(tp.partition)
    this.#last = undefined
  }

  close(): void {
    this.#timer?.()
  }

  #ranges(partition: number): OffsetRanges {
    const last = this.#last
    if (last !== undefined && last.partition === partition) return last.seen
    let seen = this.#partitions.get(partition)
    if (seen === undefined) {
      seen = new OffsetRanges(this.#o.withinMs)
      this.#partitions.set(partition, seen)
    }
    this.#last = { partition, seen }
    return seen
  }
}

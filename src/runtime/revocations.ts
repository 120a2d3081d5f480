import type { RawRecord, TopicPartition } from '../core/record.ts'
import { tpKey } from '../core/record.ts'

/**
 * Which partitions were revoked since a batch was handed out. The runner may hold a batch across a
 * macrotask turn (a yield to timers, an exactly-once checkpoint holding input) while a rebalance takes
 * its partitions away and gives them back: processing it then would feed records the new assignment
 * reads again from the last commit into state already dropped (a stateful operator starts from empty,
 * the restore of the partition is skipped, and the records count twice once read again). Such records
 * are dropped instead: they are past the last commit, so nothing is lost.
 */
export class Revocations {
  #count = 0
  /** Per `topic:partition`, the number of the revocation that last took it. */
  readonly #at = new Map<string, number>()

  /** Call first thing when partitions are revoked, before anything awaits. */
  revoked(partitions: readonly TopicPartition[]): void {
    this.#count++
    for (const tp of partitions) this.#at.set(tpKey(tp), this.#count)
  }

  /** Taken when a batch is handed out; `current` compares against it. */
  mark(): number {
    return this.#count
  }

  /** The batch without records of partitions revoked since `mark` (the batch itself when none were). */
  current(batch: readonly RawRecord[], mark: number): readonly RawRecord[] {
    if (mark === this.#count) return batch
    return batch.filter((r) => (this.#at.get(tpKey(r)) ?? 0) <= mark)
  }
}

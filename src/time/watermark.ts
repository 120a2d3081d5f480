/**
 * Event-time progress of one operator over its input partitions.
 *
 * - A partition's watermark is the highest event time it has shown, minus the allowed out-of-orderness.
 * - The operator's watermark is the minimum over its active partitions: the slowest one holds it back.
 *   A partition that delivered nothing for `idleTimeout` (wall time) stops holding it back; if every
 *   partition is idle, the highest watermark counts.
 * - With `followWallClock`, once the operator's input goes quiet (no record on ANY partition for `d` ms),
 *   watermarks move on with wall time: each stands at `maxTime − outOfOrderness + d`. For live data (event
 *   time ≈ wall time) that closes a window once wall time passes its end + grace + out-of-orderness even
 *   when input stops, the problem Faust, Quix Streams and Kafka Streams users hit. Quiet is measured over
 *   all partitions, not per partition: while a backlog is read, the consumer visits partitions in turn and
 *   a single partition can go unfetched for seconds; advancing it by wall time then would close windows
 *   its own unread records still belong to (seen in the kill -9 test before this rule).
 * - The watermark never goes back while the partitions stay the same. When partitions arrive (a rebalance,
 *   a restore) it is worked out afresh and may go back: a partition that moved here from another instance
 *   can be behind the ones this instance already read, and its windows must not be closed by their
 *   progress (Kafka Streams keeps stream time per task for the same reason). Windows already closed stay
 *   closed: the window operator keeps a closed-through time per partition.
 * - Quiet counts only while the input is known to be drained. A source that can tell (Kafka: a fetch
 *   found nothing beyond what was handed out) reports per partition the wall time it was last caught up
 *   (`CaughtUpAt`); quiet then runs from a partition's last record to that time, not to now. While the
 *   broker is unreachable, or while a backlog is being read, no partition is caught up, so the wall clock
 *   closes nothing: the records waiting in Kafka are not late when they arrive. Without the signal (the
 *   in-process transport, the test driver by default) every record is at hand, and quiet runs to now.
 * - Quiet never spans an outage. A broker that could not be answered (down, or frozen with its
 *   connections open) also held up the producers: their records land after it is back, with event times
 *   from the outage. A source that can tell reports per partition since when it has reached the broker
 *   without a break (`ReachableSince`); quiet runs from the later of the last record and that time. Without
 *   it, the fetch that finds a partition drained right after the outage would count the whole outage as
 *   quiet and close the windows the held-up records belong to (seen in the broker-freeze fault test).
 * - `pause()` stops the wall-clock advance until the next record: the input is quiet because it is no
 *   longer read (the pipeline is stopping), not because no data arrives.
 */
export interface WatermarkOptions {
  readonly outOfOrderness: number
  readonly idleTimeout: number
  readonly followWallClock: boolean
}

/**
 * Wall time as of which the source had handed out everything partition `tp` (`topic:partition`) held;
 * undefined while not known (lag, or no successful read since the partition was assigned).
 */
export type CaughtUpAt = (tp: string) => number | undefined

/**
 * Wall time since which the source has reached partition `tp` without a break (no failed or hung read);
 * undefined: no break seen.
 */
export type ReachableSince = (tp: string) => number | undefined

interface PartitionTime {
  maxTime: number
  /** Wall time of the last record (or of the restore). */
  seenAt: number
  /** Until when its quiet is known to be a lack of data (scratch of `current`). */
  drainedAt: number
  /** Since when its quiet counts: its last record, or the end of an outage after it (scratch). */
  quietFrom: number
}

export class Watermarks {
  readonly #o: WatermarkOptions
  readonly #caughtUpAt: CaughtUpAt | undefined
  readonly #reachableSince: ReachableSince | undefined
  readonly #parts = new Map<string, PartitionTime>()
  #current = Number.NEGATIVE_INFINITY
  #paused = false

  /**
   * `caughtUpAt`, `reachableSince`: the source's signals (see above); without the first quiet input counts
   * as drained, without the second the source never lost its broker.
   */
  constructor(options: WatermarkOptions, caughtUpAt?: CaughtUpAt, reachableSince?: ReachableSince) {
    this.#o = options
    this.#caughtUpAt = caughtUpAt
    this.#reachableSince = reachableSince
  }

  /** Notes a record's event time on its partition (`tp` is `topic:partition`). */
  observe(tp: string, time: number, now: number): void {
    this.#paused = false
    const p = this.#parts.get(tp)
    if (p === undefined) this.#parts.set(tp, { maxTime: time, seenAt: now, drainedAt: now, quietFrom: now })
    else {
      if (time > p.maxTime) p.maxTime = time
      p.seenAt = now
    }
  }

  /**
   * A partition was assigned. Until it delivers a record (or stays quiet for `idleTimeout`) it holds the
   * watermark back: otherwise the partitions fetched first would close windows that records of one not
   * yet fetched still belong to (Flink and Kafka Streams wait the same way).
   */
  assign(tp: string, now: number): void {
    if (this.#parts.has(tp)) return
    this.#parts.set(tp, { maxTime: Number.NEGATIVE_INFINITY, seenAt: now, drainedAt: now, quietFrom: now })
    this.#current = Number.NEGATIVE_INFINITY
  }

  /** Sets a partition's progress from restored state. */
  restore(tp: string, maxTime: number, now: number): void {
    const p = this.#parts.get(tp)
    if (p === undefined || p.maxTime < maxTime)
      this.#parts.set(tp, { maxTime, seenAt: now, drainedAt: now, quietFrom: now })
    this.#current = Number.NEGATIVE_INFINITY
  }

  /** The input stopped being read: quiet from now on says nothing about the data. */
  pause(): void {
    this.#paused = true
  }

  /** Forgets a partition (revoked). The watermark keeps its value. */
  remove(tp: string): void {
    this.#parts.delete(tp)
  }

  maxTime(tp: string): number | undefined {
    return this.#parts.get(tp)?.maxTime
  }

  partitions(): IterableIterator<string> {
    return this.#parts.keys()
  }

  /** The watermark at wall time `now`; −∞ before any record. */
  current(now: number): number {
    const { outOfOrderness, idleTimeout, followWallClock } = this.#o
    const caughtUpAt = this.#caughtUpAt
    const reachableSince = this.#reachableSince
    let minActive = Number.POSITIVE_INFINITY
    let maxAll = Number.NEGATIVE_INFINITY
    // The input is quiet from its last record, or from the end of the last outage on any partition.
    let quietFrom = Number.NEGATIVE_INFINITY
    // The input is known drained up to the partition caught up least recently (without the signal: now).
    let drained = now
    for (const [tp, p] of this.#parts) {
      const since = reachableSince?.(tp)
      p.quietFrom = since === undefined || since < p.seenAt ? p.seenAt : since
      if (p.quietFrom > quietFrom) quietFrom = p.quietFrom
      p.drainedAt = caughtUpAt === undefined ? now : Math.min(now, caughtUpAt(tp) ?? Number.NEGATIVE_INFINITY)
      if (p.drainedAt < drained) drained = p.drainedAt
    }
    const inputQuiet = followWallClock && !this.#paused ? Math.max(0, drained - quietFrom) : 0
    for (const p of this.#parts.values()) {
      const quiet = Math.max(0, p.drainedAt - p.quietFrom)
      if (p.maxTime === Number.NEGATIVE_INFINITY && quiet >= idleTimeout) continue
      const wm = p.maxTime - outOfOrderness + inputQuiet
      if (quiet < idleTimeout && wm < minActive) minActive = wm
      if (wm > maxAll) maxAll = wm
    }
    const wm = minActive === Number.POSITIVE_INFINITY ? maxAll : minActive
    if (wm > this.#current) this.#current = wm
    return this.#current
  }
}

/**
 * Event-time progress of one operator over its input partitions.
 *
 * - A partition's watermark is the highest event time it has shown, minus the allowed out-of-orderness.
 * - The operator's watermark is the minimum over its active partitions: the slowest one holds it back.
 *   A partition that delivered nothing for `idleTimeout` (wall time) stops holding it back; if every
 *   partition is idle, the highest watermark counts.
 * - With `followWallClock`, a quiet partition's watermark moves on with wall time: after `d` ms with no
 *   record it stands at `maxTime − outOfOrderness + d`. For live data (event time ≈ wall time) that closes
 *   a window once wall time passes its end + grace + out-of-orderness even when input stops, the problem
 *   Faust, Quix Streams and Kafka Streams users hit; when the input is a fast backlog (catching up after
 *   downtime), records arrive with no gaps, so it changes nothing and results stay those of event time.
 * - The watermark never goes back.
 */
export interface WatermarkOptions {
  readonly outOfOrderness: number
  readonly idleTimeout: number
  readonly followWallClock: boolean
}

interface PartitionTime {
  maxTime: number
  /** Wall time of the last record (or of the restore). */
  seenAt: number
}

export class Watermarks {
  readonly #o: WatermarkOptions
  readonly #parts = new Map<string, PartitionTime>()
  #current = Number.NEGATIVE_INFINITY

  constructor(options: WatermarkOptions) {
    this.#o = options
  }

  /** Notes a record's event time on its partition (`tp` is `topic:partition`). */
  observe(tp: string, time: number, now: number): void {
    const p = this.#parts.get(tp)
    if (p === undefined) this.#parts.set(tp, { maxTime: time, seenAt: now })
    else {
      if (time > p.maxTime) p.maxTime = time
      p.seenAt = now
    }
  }

  /** Sets a partition's progress from restored state. */
  restore(tp: string, maxTime: number, now: number): void {
    const p = this.#parts.get(tp)
    if (p === undefined || p.maxTime < maxTime) this.#parts.set(tp, { maxTime, seenAt: now })
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
    let minActive = Number.POSITIVE_INFINITY
    let maxAll = Number.NEGATIVE_INFINITY
    for (const p of this.#parts.values()) {
      const quiet = Math.max(0, now - p.seenAt)
      const wm = p.maxTime - outOfOrderness + (followWallClock ? quiet : 0)
      if (quiet < idleTimeout && wm < minActive) minActive = wm
      if (wm > maxAll) maxAll = wm
    }
    const wm = minActive === Number.POSITIVE_INFINITY ? maxAll : minActive
    if (wm > this.#current) this.#current = wm
    return this.#current
  }
}

/**
 * Per-second rates over a sliding window (10 s by default), for fields like `messages_consumed_per_sec`.
 * Two shapes: `createRateMeter()` counts `mark()` calls into one-second slots; `rateOf(counter)` samples a
 * counter that is already kept and needs nothing on the hot path.
 * A rate reads 0 only when nothing moved: one made on the first read with `since` reads the rate since
 * then, not 0 until the next sample (the dashboard's first seconds).
 */
import type { Clock } from '../core/clock.ts'
import type { Counter, Labels } from '../core/metrics.ts'

export interface Rate {
  /** Events per second over the window. */
  perSecond(): number
}

export interface RateMeter extends Rate {
  mark(n?: number): void
  total(): number
}

export interface RateOptions {
  /** Window length in ms (default 10,000). */
  windowMs?: number
  /** Number of slots the window is cut into (default 10). */
  slots?: number
  clock?: Pick<Clock, 'now'>
}

export interface RateOfOptions extends RateOptions {
  /** With a registry counter: only this label set (default: the sum over all of them). */
  labels?: Labels
  /**
   * When the source was last at zero (e.g. when the app was created, before its pipeline ran). A rate
   * made lazily, on the first /metrics read, then reads the rate since that moment instead of 0 until
   * a second sample exists.
   */
  since?: number
}

const defaultClock: Pick<Clock, 'now'> = { now: () => Date.now() }

/**
 * @example const consumed = createRateMeter(); consumed.mark(batch.length); consumed.perSecond()
 */
export function createRateMeter(options: RateOptions = {}): RateMeter {
  const { windowMs = 10_000, slots = 10, clock = defaultClock } = options
  const slotMs = windowMs / slots
  const counts = new Float64Array(slots)
  const ids = new Float64Array(slots).fill(-1)
  const created = clock.now()
  let total = 0
  return {
    mark(n = 1) {
      const id = Math.floor(clock.now() / slotMs)
      const i = id % slots
      if (ids[i] !== id) {
        ids[i] = id
        counts[i] = 0
      }
      counts[i]! += n
      total += n
    },
    perSecond() {
      const now = clock.now()
      const current = Math.floor(now / slotMs)
      let sum = 0
      for (let i = 0; i < slots; i++) if (ids[i]! > current - slots && ids[i]! <= current) sum += counts[i]!
      const start = Math.max(created, (current - slots + 1) * slotMs)
      const elapsed = Math.max(now - start, slotMs)
      return (sum * 1000) / elapsed
    },
    total: () => total,
  }
}

/**
 * The rate of a cumulative value, sampled when read: (value now − value at the window's start) / seconds.
 * If it is read less often than the window, it is the rate since the previous read. A counter from
 * createMetrics() without `labels` is summed over all its label sets; with `labels`, only that series.
 * @example const perSec = rateOf(metrics.counter('messages_consumed_total', '...')); perSec.perSecond()
 */
export function rateOf(source: Counter | (() => number), options: RateOfOptions = {}): Rate {
  const { windowMs = 10_000, slots = 10, clock = defaultClock, labels, since } = options
  const read =
    typeof source === 'function'
      ? source
      : labels === undefined
        ? () => source.total()
        : () => source.get(labels)
  const capacity = slots * 2 + 2
  const times = new Float64Array(capacity).fill(Number.NaN)
  const values = new Float64Array(capacity)
  let next = 0
  let last = Number.NEGATIVE_INFINITY
  const sample = (t: number, v: number) => {
    times[next] = t
    values[next] = v
    next = (next + 1) % capacity
    last = t
  }
  const created = clock.now()
  if (since !== undefined && since < created) sample(since, 0)
  sample(created, read())
  return {
    perSecond() {
      const now = clock.now()
      const value = read()
      let baseT = Number.NaN
      let baseV = 0
      let outsideT = Number.NaN
      let outsideV = 0
      for (let i = 0; i < capacity; i++) {
        const t = times[i]!
        if (Number.isNaN(t) || t >= now) continue
        if (now - t <= windowMs) {
          if (Number.isNaN(baseT) || t < baseT) [baseT, baseV] = [t, values[i]!]
        } else if (Number.isNaN(outsideT) || t > outsideT) [outsideT, outsideV] = [t, values[i]!]
      }
      if (now - last >= windowMs / slots / 2) sample(now, value)
      if (Number.isNaN(baseT)) [baseT, baseV] = [outsideT, outsideV]
      if (Number.isNaN(baseT)) return 0
      return ((value - baseV) * 1000) / (now - baseT)
    },
  }
}

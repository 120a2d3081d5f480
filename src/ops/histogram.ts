/**
 * One histogram series: fixed cumulative buckets for Prometheus, plus a quantile sketch for the JSON
 * p50/p95/p99. Both are O(1) memory in the number of observations.
 */
import { QuantileSketch } from './sketch.ts'

/** Prometheus' default buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
])

export interface HistogramSummary {
  count: number
  sum: number
  avg: number
  min: number
  max: number
  p50: number
  p95: number
  p99: number
}

/** Checks bucket bounds are finite and strictly increasing; returns the reason when they are not. */
export function bucketProblem(buckets: readonly number[]): string | undefined {
  if (buckets.length === 0) return 'needs at least one bucket'
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!
    if (!Number.isFinite(b)) return `bucket ${b} is not finite (+Inf is implicit)`
    if (i > 0 && b <= buckets[i - 1]!) return 'buckets must be strictly increasing'
  }
  return undefined
}

export class HistogramSeries {
  readonly bounds: readonly number[]
  /** Non-cumulative counts; the last slot is the +Inf overflow. */
  readonly bucketCounts: Float64Array
  readonly sketch = new QuantileSketch()
  sum = 0
  count = 0

  constructor(bounds: readonly number[]) {
    this.bounds = bounds
    this.bucketCounts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    if (Number.isNaN(value)) return
    const bounds = this.bounds
    let b = 0
    while (b < bounds.length && value > bounds[b]!) b++
    this.bucketCounts[b]!++
    this.sum += value
    this.count++
    this.sketch.add(value)
  }

  /** Cumulative count of observations ≤ each bound, then the total for `+Inf`. */
  cumulative(): number[] {
    const out: number[] = []
    let acc = 0
    for (const c of this.bucketCounts) {
      acc += c
      out.push(acc)
    }
    return out
  }

  summary(): HistogramSummary {
    const s = this.sketch
    return {
      count: this.count,
      sum: this.sum,
      avg: this.count === 0 ? 0 : this.sum / this.count,
      min: s.min,
      max: s.max,
      p50: s.quantile(0.5),
      p95: s.quantile(0.95),
      p99: s.quantile(0.99),
    }
  }
}

export interface LatencyMs {
  avg_ms: number
  p50_ms: number
  p95_ms: number
  p99_ms: number
  max_ms: number
  count: number
}

/**
 * A seconds histogram summary as milliseconds rounded to 0.01, the shape apps put in their /metrics JSON.
 * @example latencyMs(metrics.histogram('redis_publish_seconds', '...').summary()) // { avg_ms: 2.3, p95_ms: 5.8, ... }
 */
export function latencyMs(summary: {
  count: number
  sum: number
  p50: number
  p95: number
  p99: number
  max?: number
}): LatencyMs {
  const ms = (s: number) => Math.round(s * 100_000) / 100
  return {
    avg_ms: summary.count === 0 ? 0 : ms(summary.sum / summary.count),
    p50_ms: ms(summary.p50),
    p95_ms: ms(summary.p95),
    p99_ms: ms(summary.p99),
    max_ms: ms(summary.max ?? 0),
    count: summary.count,
  }
}

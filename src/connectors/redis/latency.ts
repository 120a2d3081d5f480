/** What /metrics shows for publish latency, in the rideshare app's shape. */
export interface LatencySummary {
  readonly avg_ms: number
  readonly p95_ms: number
  readonly count: number
}

/**
 * Round-trip times of the last `size` observations in a ring buffer: `avg_ms` is over everything ever
 * observed, `p95_ms` over the window (sorted on read, which a scrape can afford for 1,024 numbers).
 */
export class LatencyWindow {
  readonly #ring: Float64Array
  #next = 0
  #count = 0
  #sum = 0

  constructor(size = 1024) {
    this.#ring = new Float64Array(size)
  }

  observe(ms: number): void {
    this.#ring[this.#next] = ms
    this.#next = (this.#next + 1) % this.#ring.length
    this.#count++
    this.#sum += ms
  }

  summary(): LatencySummary {
    const n = Math.min(this.#count, this.#ring.length)
    if (n === 0) return { avg_ms: 0, p95_ms: 0, count: 0 }
    const sorted = this.#ring.slice(0, n).sort()
    const p95 = sorted[Math.min(n - 1, Math.ceil(0.95 * n) - 1)] ?? 0
    return { avg_ms: round(this.#sum / this.#count), p95_ms: round(p95), count: this.#count }
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

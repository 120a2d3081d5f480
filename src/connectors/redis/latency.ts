/** What /metrics shows for publish latency, in the rideshare app's shape. */
export interface LatencySummary {
  readonly avg_ms: number
  readonly p95_ms: number
  /** Items (messages) observed, not round trips: one pipeline of 1,000 PUBLISHes counts 1,000. */
  readonly count: number
}

/**
 * Round-trip times of the last `size` pipelines in a ring buffer, each weighted by the items it
 * carried, so the summary is per item as the seed's (which published one message at a time) was: each
 * message of a pipeline waited that pipeline's round trip. `avg_ms` is over everything ever observed,
 * `p95_ms` over the window (sorted on read, which a scrape can afford for 1,024 entries).
 */
export class LatencyWindow {
  readonly #ms: Float64Array
  readonly #items: Float64Array
  #next = 0
  #observations = 0
  #count = 0
  #sum = 0

  constructor(size = 1024) {
    this.#ms = new Float64Array(size)
    this.#items = new Float64Array(size)
  }

  /** One round trip of `ms` that carried `items` items. */
  observe(ms: number, items = 1): void {
    if (items <= 0) return
    this.#ms[this.#next] = ms
    this.#items[this.#next] = items
    this.#next = (this.#next + 1) % this.#ms.length
    this.#observations++
    this.#count += items
    this.#sum += ms * items
  }

  summary(): LatencySummary {
    const n = Math.min(this.#observations, this.#ms.length)
    if (n === 0) return { avg_ms: 0, p95_ms: 0, count: 0 }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.#ms[a]! - this.#ms[b]!)
    let total = 0
    for (let i = 0; i < n; i++) total += this.#items[i]!
    // The smallest round trip that at least 95 % of the window's items waited no longer than.
    const target = 0.95 * total
    let seen = 0
    let p95 = 0
    for (const i of order) {
      seen += this.#items[i]!
      p95 = this.#ms[i]!
      if (seen >= target) break
    }
    return { avg_ms: round(this.#sum / this.#count), p95_ms: round(p95), count: this.#count }
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/**
 * The seed's `sample` strategy: a ping counter per driver that runs across windows; the Nth, 2Nth, …
 * ping of each driver is kept. A driver's counter is forgotten once it sent nothing for `ttlMs`, so
 * memory follows the drivers online, not every driver ever seen.
 *
 * @example
 * const every3rd = new EveryNthPerDriver(3, 10 * 60_000)
 * [1, 2, 3].map(() => every3rd.take('d1', now)) // [false, false, true]
 */
export class EveryNthPerDriver {
  readonly #n: number
  readonly #ttlMs: number
  readonly #counters = new Map<string, { n: number; seen: number }>()

  constructor(n: number, ttlMs: number) {
    this.#n = n
    this.#ttlMs = ttlMs
  }

  get drivers(): number {
    return this.#counters.size
  }

  /** Counts a ping of `driver`; true if it is one to keep. */
  take(driver: string, now: number): boolean {
    let c = this.#counters.get(driver)
    if (c === undefined) {
      c = { n: 0, seen: now }
      this.#counters.set(driver, c)
    }
    c.n = (c.n % this.#n) + 1
    c.seen = now
    return c.n === this.#n
  }

  /** Forgets drivers quiet for `ttlMs`. */
  expire(now: number): void {
    for (const [driver, c] of this.#counters) if (now - c.seen >= this.#ttlMs) this.#counters.delete(driver)
  }
}

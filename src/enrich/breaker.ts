/**
 * A circuit breaker: after `failureThreshold` failures in a row it opens and refuses calls for
 * `cooldownMs`; then one trial call is let through (half-open): success closes it, failure opens it again.
 * While open, callers get an answer at once instead of waiting on a service that is down.
 *
 * @example
 * const b = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 30_000 })
 * if (!b.allow()) return fallback
 * try { const r = await call(); b.success(); return r } catch (e) { b.failure(); throw e }
 */
export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  readonly failureThreshold: number
  readonly cooldownMs: number
  readonly now?: () => number
}

export class CircuitBreaker {
  readonly #o: BreakerOptions
  readonly #now: () => number
  #failures = 0
  #openedAt = 0
  #state: BreakerState = 'closed'
  #trialRunning = false
  opens = 0

  constructor(options: BreakerOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#o.cooldownMs)
      this.#state = 'half-open'
    return this.#state
  }

  /** Whether a call may go out now (in half-open, only one trial at a time). */
  allow(): boolean {
    const s = this.state
    if (s === 'closed') return true
    if (s === 'open' || this.#trialRunning) return false
    this.#trialRunning = true
    return true
  }

  success(): void {
    this.#failures = 0
    this.#trialRunning = false
    this.#state = 'closed'
  }

  failure(): void {
    this.#trialRunning = false
    this.#failures++
    if (this.#state === 'half-open' || this.#failures >= this.#o.failureThreshold) {
      if (this.#state !== 'open') this.opens++
      this.#state = 'open'
      this.#openedAt = this.#now()
    }
  }
}

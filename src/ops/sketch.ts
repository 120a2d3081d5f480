/**
 * A log-bucket quantile sketch (the DDSketch idea): bucket i holds values in (γ^(i-1), γ^i], so every
 * quantile it reports is within RELATIVE_ACCURACY of a value actually observed at that rank.
 * Memory is bounded by the value range, not the number of observations: values from 1 ns to 10^12 s
 * need at most ~2,400 buckets, and a typical latency spread (0.1 ms – 10 s) needs ~600 (about 5 KB).
 * `add()` allocates nothing except when the covered range first widens.
 */
export const RELATIVE_ACCURACY = 0.01

const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
const LOG_GAMMA = Math.log(GAMMA)
/** Values at or below this count as zero (they cannot be log-bucketed). */
const MIN_VALUE = 1e-9
const MIN_INDEX = Math.ceil(Math.log(MIN_VALUE) / LOG_GAMMA)
const MAX_INDEX = Math.ceil(Math.log(1e12) / LOG_GAMMA)
const MAX_BUCKETS = MAX_INDEX - MIN_INDEX + 1

export class QuantileSketch {
  #counts = new Float64Array(0)
  /** Bucket index stored at #counts[0]. */
  #offset = 0
  #zero = 0
  #count = 0
  #min = Number.POSITIVE_INFINITY
  #max = Number.NEGATIVE_INFINITY

  get count(): number {
    return this.#count
  }

  get min(): number {
    return this.#count === 0 ? 0 : this.#min
  }

  get max(): number {
    return this.#count === 0 ? 0 : this.#max
  }

  /** Buckets currently allocated (for tests of the memory bound). */
  get allocatedBuckets(): number {
    return this.#counts.length
  }

  /** NaN is ignored; values ≤ 1e-9 (zero, negatives) count in a zero bucket; huge values clamp. */
  add(value: number): void {
    if (Number.isNaN(value)) return
    this.#count++
    if (value < this.#min) this.#min = value
    if (value > this.#max) this.#max = value
    if (value <= MIN_VALUE) {
      this.#zero++
      return
    }
    let index = Math.ceil(Math.log(value) / LOG_GAMMA)
    if (index > MAX_INDEX) index = MAX_INDEX
    let slot = index - this.#offset
    if (slot < 0 || slot >= this.#counts.length) {
      this.#grow(index)
      slot = index - this.#offset
    }
    this.#counts[slot]!++
  }

  /** The q-quantile (0 ≤ q ≤ 1), clamped to the observed min and max; 0 when empty. */
  quantile(q: number): number {
    if (this.#count === 0) return 0
    if (q <= 0) return this.#min
    if (q >= 1) return this.#max
    const rank = q * (this.#count - 1)
    let seen = this.#zero
    if (seen > rank) return this.#clamp(0)
    const counts = this.#counts
    for (let slot = 0; slot < counts.length; slot++) {
      seen += counts[slot]!
      if (seen > rank) return this.#clamp((2 * GAMMA ** (slot + this.#offset)) / (GAMMA + 1))
    }
    return this.#max
  }

  #clamp(value: number): number {
    return Math.min(this.#max, Math.max(this.#min, value))
  }

  #grow(index: number): void {
    const old = this.#counts
    if (old.length === 0) {
      this.#counts = new Float64Array(128)
      this.#offset = Math.max(MIN_INDEX, index - 64)
      return
    }
    const lo = Math.min(this.#offset, index)
    const hi = Math.max(this.#offset + old.length - 1, index)
    const size = Math.min(MAX_BUCKETS, Math.max(old.length * 2, hi - lo + 1))
    const offset = index < this.#offset ? Math.max(MIN_INDEX, hi - size + 1) : lo
    const grown = new Float64Array(size)
    grown.set(old, this.#offset - offset)
    this.#counts = grown
    this.#offset = offset
  }
}

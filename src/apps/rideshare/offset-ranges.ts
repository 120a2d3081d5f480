/**
 * The offsets of one partition seen within the last `withinMs`, as runs: a run is consecutive offsets
 * first seen in the same millisecond, kept as (first, last, time). A consumer reads a partition in
 * offset order, so at 200,000 records/s one partition needs about one run per millisecond (60,000 runs
 * for 60 s, ~1.5 MB) where a set of `topic:partition:offset` strings would need 12 million entries.
 *
 * The answers are exactly those of remembering each offset with the time it was first seen: a run
 * only grows by the offset right after its last one, seen in its millisecond. A gap in the offsets
 * (compaction, a transaction marker) just starts a new run; so do offsets seen again after they were
 * forgotten (a rewind past the span), at their place in offset order.
 *
 * @example
 * const seen = new OffsetRanges(60_000)
 * seen.seen(5, now) // false: first sighting, remembered
 * seen.seen(5, now) // true: a repeat within 60 s
 */
export class OffsetRanges {
  readonly #withinMs: number
  // Runs in offset order; `#head` skips the ones expired off the front without shifting the arrays.
  #first: number[] = []
  #last: number[] = []
  #at: number[] = []
  #head = 0

  constructor(withinMs: number) {
    this.#withinMs = withinMs
  }

  /** Runs held (for tests and metrics). */
  get runs(): number {
    return this.#first.length - this.#head
  }

  /**
   * True if `offset` was seen less than `withinMs` before `now` (a repeat); otherwise remembers it as
   * seen at `now` and returns false.
   */
  seen(offset: number, now: number): boolean {
    this.#expireFront(now)
    const end = this.#first.length - 1
    // The usual case, a new offset past every run, skips the search.
    let i = end >= this.#head && offset > this.#last[end]! ? end : this.#find(offset)
    if (i >= 0 && offset <= this.#last[i]!) {
      if (now - this.#at[i]! < this.#withinMs) return true
      this.#remove(i)
      i = this.#find(offset)
    }
    if (i >= 0 && this.#at[i] === now && offset === this.#last[i]! + 1) this.#last[i] = offset
    else this.#insert(i + 1, offset, now)
    return false
  }

  /** Forgets every run that expired, wherever it sits (runs inserted after a rewind can be out of time order). */
  expire(now: number): void {
    this.#compact()
    let w = 0
    for (let r = 0; r < this.#first.length; r++) {
      if (now - this.#at[r]! >= this.#withinMs) continue
      this.#first[w] = this.#first[r]!
      this.#last[w] = this.#last[r]!
      this.#at[w] = this.#at[r]!
      w++
    }
    this.#first.length = this.#last.length = this.#at.length = w
  }

  #expireFront(now: number): void {
    const at = this.#at
    let h = this.#head
    while (h < at.length && now - at[h]! >= this.#withinMs) h++
    if (h === this.#head) return
    this.#head = h
    if (h === at.length) {
      this.#first = []
      this.#last = []
      this.#at = []
      this.#head = 0
    } else if (h >= 1024 && h * 2 >= at.length) this.#compact()
  }

  #compact(): void {
    if (this.#head === 0) return
    this.#first = this.#first.slice(this.#head)
    this.#last = this.#last.slice(this.#head)
    this.#at = this.#at.slice(this.#head)
    this.#head = 0
  }

  /** Index of the last run starting at or before `offset`, or -1. */
  #find(offset: number): number {
    let lo = this.#head
    let hi = this.#first.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.#first[mid]! <= offset) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found
  }

  #remove(i: number): void {
    this.#first.splice(i, 1)
    this.#last.splice(i, 1)
    this.#at.splice(i, 1)
  }

  /** A run of one offset at index `i` (the end, unless offsets are seen again after a rewind). */
  #insert(i: number, offset: number, now: number): void {
    if (i === this.#first.length) {
      this.#first.push(offset)
      this.#last.push(offset)
      this.#at.push(now)
      return
    }
    const at = Math.max(i, this.#head)
    this.#first.splice(at, 0, offset)
    this.#last.splice(at, 0, offset)
    this.#at.splice(at, 0, now)
  }
}

/**
 * Keys due at a time, popped in time order: a binary min-heap of distinct times, each with the keys due
 * then. Windows of one size close together, so a time usually carries many keys and the heap stays small.
 */
export class DueQueue {
  readonly #times: number[] = []
  readonly #keys = new Map<number, string[]>()
  #size = 0

  get size(): number {
    return this.#size
  }

  push(at: number, key: string): void {
    const list = this.#keys.get(at)
    this.#size++
    if (list !== undefined) {
      list.push(key)
      return
    }
    this.#keys.set(at, [key])
    const h = this.#times
    h.push(at)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (h[parent]! <= at) break
      h[i] = h[parent]!
      i = parent
    }
    h[i] = at
  }

  /** The earliest time with keys, or +∞. */
  peek(): number {
    return this.#times.length === 0 ? Number.POSITIVE_INFINITY : this.#times[0]!
  }

  /** Removes and returns the keys of the earliest time (call when `peek()` is due). */
  pop(): { at: number; keys: string[] } | undefined {
    const h = this.#times
    if (h.length === 0) return undefined
    const at = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && h[l]! < (m === i ? last : h[m]!)) m = l
        if (r < h.length && h[r]! < (m === i ? last : h[m]!)) m = r
        if (m === i) break
        h[i] = h[m]!
        i = m
      }
      h[i] = last
    }
    const keys = this.#keys.get(at)!
    this.#keys.delete(at)
    this.#size -= keys.length
    return { at, keys }
  }

  clear(): void {
    this.#times.length = 0
    this.#keys.clear()
    this.#size = 0
  }
}

/**
 * At most `max` tasks at once; the others wait in order. Bounds the calls a stage makes to an external
 * service however many records are in flight.
 *
 * @example
 * const limit = new Limiter(4)
 * const r = await limit.run(() => fetch(url))
 */
export class Limiter {
  readonly #max: number
  #running = 0
  readonly #waiting: Array<() => void> = []

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`Limiter: max must be a positive integer, got ${max}`)
    this.#max = max
  }

  get running(): number {
    return this.#running
  }

  get waiting(): number {
    return this.#waiting.length
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#max) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    this.#running++
    try {
      return await task()
    } finally {
      this.#running--
      this.#waiting.shift()?.()
    }
  }
}

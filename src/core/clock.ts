/**
 * Time as the runtime sees it. The system clock in production; a virtual clock in the test driver so
 * window closing and timers can be tested without sleeping.
 */
export type Cancel = () => void

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): Cancel
  setInterval(fn: () => void, ms: number): Cancel
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms)
    return () => clearTimeout(t)
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms)
    return () => clearInterval(t)
  },
}

interface Timer {
  id: number
  due: number
  every: number | undefined
  fn: () => void
}

/** A clock that only moves when told to; `advance` fires due timers in time order. */
export class VirtualClock implements Clock {
  #now: number
  #timers: Timer[] = []
  #nextId = 0

  constructor(start = 0) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): Cancel {
    return this.#add(fn, ms, undefined)
  }

  setInterval(fn: () => void, ms: number): Cancel {
    return this.#add(fn, ms, Math.max(1, ms))
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms)
  }

  advanceTo(target: number): void {
    for (;;) {
      this.#timers.sort((a, b) => a.due - b.due || a.id - b.id)
      const next = this.#timers[0]
      if (next === undefined || next.due > target) break
      this.#now = Math.max(this.#now, next.due)
      if (next.every === undefined) this.#timers.shift()
      else next.due += next.every
      next.fn()
    }
    this.#now = Math.max(this.#now, target)
  }

  /** Timers not yet fired or cancelled (intervals count until cancelled). */
  pendingTimers(): number {
    return this.#timers.length
  }

  #add(fn: () => void, ms: number, every: number | undefined): Cancel {
    const timer: Timer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), every, fn }
    this.#timers.push(timer)
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer)
    }
  }
}

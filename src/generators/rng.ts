/**
 * A small seeded PRNG (mulberry32: 32-bit state, ~2 ns a draw) with the helpers generators need. Same
 * seed, same sequence, on every platform: generated data is reproducible.
 *
 * @example
 * const rng = createRng(42)
 * rng.int(1, 6) // a die roll, the same on every run with seed 42
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number
  /** Uniform in [min, max). */
  float(min: number, max: number): number
  /** True with probability p. */
  chance(p: number): boolean
  pick<T>(items: readonly T[]): T
  /** Normally distributed (Box–Muller). */
  normal(mean: number, sd: number): number
  /** A version-4-shaped UUID drawn from this stream (not crypto-random: reproducible ids). */
  uuid(): string
  /** Index into `cumulative` (ascending cumulative weights ending at the total) for one draw. */
  weighted(cumulative: readonly number[]): number
}

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function createRng(seed: number): Rng {
  let a = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** 8 hex digits from one draw. */
  const hex8 = (): string => {
    const x = (next() * 4294967296) >>> 0
    return BYTE_HEX[x >>> 24]! + BYTE_HEX[(x >>> 16) & 255]! + BYTE_HEX[(x >>> 8) & 255]! + BYTE_HEX[x & 255]!
  }
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    float: (min, max) => min + next() * (max - min),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    normal(mean, sd) {
      const u = 1 - next()
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next())
    },
    uuid() {
      const a = hex8()
      const b = hex8()
      const c = hex8()
      const d = hex8()
      const variant = '89ab'[Number.parseInt(c[0]!, 16) & 3]
      return `${a}-${b.slice(0, 4)}-4${b.slice(5)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`
    },
    weighted(cumulative) {
      const x = next() * cumulative[cumulative.length - 1]!
      let i = 0
      while (i < cumulative.length - 1 && x >= cumulative[i]!) i++
      return i
    },
  }
}

/** Running sums of `weights`, for `Rng.weighted`. */
export function cumulative(weights: readonly number[]): number[] {
  let sum = 0
  return weights.map((w) => (sum += w))
}

/**
 * Memory for the `duplicate` rule: has this key been seen at a time within `withinMs` of `ts`?
 *
 * The rule only asks a `SeenFn`; where the memory lives is the caller's choice. `boundedSeenSet` is the
 * in-process one: a Map used as an LRU (insertion order = last touch), hard-capped at `maxKeys`, with
 * entries older than `withinMs` behind the newest timestamp dropped as it goes. A pipeline that must not
 * forget on restart can pass a `SeenFn` backed by its state store instead.
 *
 * @example
 * const seen = boundedSeenSet({ withinMs: 3_600_000, maxKeys: 100_000 })
 * seen.seen('METR_LA_001|2025-01-01T00:00:00Z', t) // false: first time
 * seen.seen('METR_LA_001|2025-01-01T00:00:00Z', t) // true: duplicate
 */

import { ErrorCode, WeirError } from '../core/errors.ts'

/** Records `key` at `ts` and answers whether it had already been seen within the rule's span. */
export type SeenFn = (key: string, ts: number) => boolean

export interface SeenSetOptions {
  /** Two sightings of a key at most this far apart are duplicates; older sightings are forgotten. */
  readonly withinMs: number
  /** Hard memory bound: past it, the least recently seen key is forgotten. */
  readonly maxKeys: number
}

export interface SeenSet {
  readonly seen: SeenFn
  readonly size: number
  clear(): void
}

/** How many expired entries one call may drop; keeps every call O(1) while memory still drains. */
const EXPIRE_PER_CALL = 4

export function boundedSeenSet(options: SeenSetOptions): SeenSet {
  const { withinMs, maxKeys } = options
  if (!(withinMs >= 0) || !Number.isFinite(withinMs))
    throw new WeirError(ErrorCode.CONFIG_INVALID, `withinMs must be a finite number >= 0, got ${withinMs}`)
  if (!Number.isInteger(maxKeys) || maxKeys < 1)
    throw new WeirError(ErrorCode.CONFIG_INVALID, `maxKeys must be an integer >= 1, got ${maxKeys}`)
  const last = new Map<string, number>()
  let newest = Number.NEGATIVE_INFINITY

  function expire(): void {
    const horizon = newest - withinMs
    let n = 0
    for (const [key, ts] of last) {
      if (ts >= horizon || n >= EXPIRE_PER_CALL) break
      last.delete(key)
      n++
    }
  }

  function seen(key: string, ts: number): boolean {
    if (ts > newest) newest = ts
    const prev = last.get(key)
    if (prev !== undefined) {
      last.delete(key) // re-inserted below: moves the key to the recent end
      last.set(key, Math.max(ts, prev))
      if (Math.abs(ts - prev) <= withinMs) return true
      expire()
      return false
    }
    last.set(key, ts)
    if (last.size > maxKeys) {
      const oldest = last.keys().next()
      if (!oldest.done) last.delete(oldest.value)
    }
    expire()
    return false
  }

  return {
    seen,
    get size() {
      return last.size
    },
    clear() {
      last.clear()
      newest = Number.NEGATIVE_INFINITY
    },
  }
}

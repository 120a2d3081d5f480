/**
 * Memory for the `duplicate` rule: has this key been seen at a time within `withinMs` of `ts`?
 *
 * The rule only asks a `SeenFn`; where the memory lives is the caller's choice. `boundedSeenSet` is the
 * in-process one: an LRU (map + linked list in last-touch order), hard-capped at `maxKeys`, with
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

interface Node {
  readonly key: string
  ts: number
  prev: Node | undefined
  next: Node | undefined
}

/**
 * A Map from key to a node of a doubly linked list in last-touch order: touching, evicting the least
 * recently seen and expiring are all O(1). (A Map alone, deleting from its front, is not: V8 skips the
 * deleted slots on every new iteration, which made 100k keys cost ~90 µs per call.)
 */
export function boundedSeenSet(options: SeenSetOptions): SeenSet {
  const { withinMs, maxKeys } = options
  if (!(withinMs >= 0) || !Number.isFinite(withinMs)) {
    throw new WeirError(ErrorCode.CONFIG_INVALID, `withinMs must be a finite number >= 0, got ${withinMs}`)
  }
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new WeirError(ErrorCode.CONFIG_INVALID, `maxKeys must be an integer >= 1, got ${maxKeys}`)
  }
  const nodes = new Map<string, Node>()
  let oldest: Node | undefined
  let newestNode: Node | undefined
  let newestTs = Number.NEGATIVE_INFINITY

  function unlink(n: Node): void {
    if (n.prev === undefined) oldest = n.next
    else n.prev.next = n.next
    if (n.next === undefined) newestNode = n.prev
    else n.next.prev = n.prev
    n.prev = undefined
    n.next = undefined
  }

  function append(n: Node): void {
    n.prev = newestNode
    if (newestNode === undefined) oldest = n
    else newestNode.next = n
    newestNode = n
  }

  function drop(n: Node): void {
    unlink(n)
    nodes.delete(n.key)
  }

  function expire(): void {
    const horizon = newestTs - withinMs
    for (let i = 0; i < EXPIRE_PER_CALL && oldest !== undefined && oldest.ts < horizon; i++) drop(oldest)
  }

  function seen(key: string, ts: number): boolean {
    if (ts > newestTs) newestTs = ts
    const n = nodes.get(key)
    if (n !== undefined) {
      const duplicate = Math.abs(ts - n.ts) <= withinMs
      if (ts > n.ts) n.ts = ts
      if (n !== newestNode) {
        unlink(n)
        append(n)
      }
      if (!duplicate) expire()
      return duplicate
    }
    const fresh: Node = { key, ts, prev: undefined, next: undefined }
    nodes.set(key, fresh)
    append(fresh)
    if (nodes.size > maxKeys && oldest !== undefined) drop(oldest)
    expire()
    return false
  }

  return {
    seen,
    get size() {
      return nodes.size
    },
    clear() {
      nodes.clear()
      oldest = undefined
      newestNode = undefined
      newestTs = Number.NEGATIVE_INFINITY
    },
  }
}

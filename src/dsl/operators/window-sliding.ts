import { windowStateKey } from '../../state/keys.ts'
import type { SlidingWindows } from '../../time/windows.ts'
import type { Aggregation } from '../aggregations.ts'
import type { WindowLogic } from './window-core.ts'
import { type WindowOutput, WindowPartition } from './window-partition.ts'

/**
 * The records of one key still inside some unclosed window, sorted by time, and how far its windows
 * were emitted (every window ending at or before `d`).
 */
interface SlidingSlot {
  k: unknown
  r: Array<[number, unknown]>
  d: number
}

/**
 * Sliding windows with Kafka Streams' semantics: windows are `[end − size, end]`, both inclusive, and
 * there is one per distinct set of records a window sliding over time can hold. The set changes when
 * a record enters (a window ending at the record: its "left" window) or leaves (a window starting just
 * after it: its "right" window, if not empty). Windows include their end, so each closes when the
 * watermark passes end + grace.
 * Update mode emits the left window of each record as it arrives.
 */
export function slidingWindows(
  spec: SlidingWindows,
  agg: Aggregation<unknown, unknown, unknown>,
  processingTime: boolean,
): WindowLogic<SlidingSlot> {
  const { size } = spec
  const grace = processingTime ? 0 : spec.grace

  /** The window `[end − size, end]`, or nothing if it holds no record. */
  const windowAt = (slot: SlidingSlot, end: number): WindowOutput | undefined => {
    let acc = agg.init()
    let n = 0
    for (const [t, v] of slot.r) {
      if (t > end) break
      if (t < end - size) continue
      acc = agg.add(acc, v, t)
      n++
    }
    return n === 0
      ? undefined
      : { key: slot.k, start: end - size, end, value: agg.result(acc), timestamp: end }
  }

  /** Ends of the slot's windows after `d`, ascending and distinct, up to `limit`. */
  const endsAfter = (slot: SlidingSlot, limit: number): number[] => {
    const r = slot.r
    const ends = new Set<number>()
    for (let i = 0; i < r.length; i++) {
      const t = r[i]![0]
      if (t > slot.d && t <= limit) ends.add(t)
      const rightEnd = t + 1 + size
      if (rightEnd > slot.d && rightEnd <= limit) {
        let j = i + 1
        while (j < r.length && r[j]![0] === t) j++
        if (j < r.length && r[j]![0] <= rightEnd) ends.add(rightEnd)
      }
    }
    return [...ends].sort((a, b) => a - b)
  }

  const dueAt = (slot: SlidingSlot): number => {
    if (slot.r.length === 0) return Number.NEGATIVE_INFINITY
    const next = endsAfter(slot, Number.POSITIVE_INFINITY)[0]
    // Nothing left to emit: the slot can go once its last record can no longer be in a window.
    return (next ?? slot.r[slot.r.length - 1]![0] + 1 + size) + grace + 1
  }

  return {
    add(p, key, keyStr, value, time) {
      if (time + grace + 1 <= p.closedThrough) return false
      let sk = p.index.get(keyStr)?.[0]
      let slot = sk === undefined ? undefined : (p.get(sk) as SlidingSlot | undefined)
      if (sk !== undefined && p.appliedTo(sk)) return true
      if (sk === undefined || slot === undefined) {
        sk = windowStateKey(keyStr, time)
        slot = { k: key, r: [], d: Number.MIN_SAFE_INTEGER }
        p.indexAdd(keyStr, sk)
      }
      let i = slot.r.length
      while (i > 0 && slot.r[i - 1]![0] > time) i--
      slot.r.splice(i, 0, [time, value])
      p.put(sk, slot)
      p.schedule(sk, dueAt(slot))
      p.changed(sk, time)
      return true
    },
    dueAt,
    close(_p, _key, slot, through, out) {
      const limit = through - grace - 1
      for (const end of endsAfter(slot, limit)) {
        const w = windowAt(slot, end)
        if (w !== undefined) out.push(w)
      }
      if (limit > slot.d) slot.d = limit
      // A record is in no window ending after t + 1 + size (its right window is the last).
      let drop = 0
      while (drop < slot.r.length && slot.r[drop]![0] + 1 + size <= slot.d) drop++
      if (drop > 0) slot.r.splice(0, drop)
      return slot.r.length === 0 ? 'done' : 'keep'
    },
    current(slot, time, out) {
      const w = windowAt(slot, time)
      if (w !== undefined) out.push(w)
    },
    restored(p, key) {
      p.indexAdd(WindowPartition.groupOf(key), key)
    },
    removed(p, key) {
      p.indexRemove(WindowPartition.groupOf(key), key)
    },
  }
}

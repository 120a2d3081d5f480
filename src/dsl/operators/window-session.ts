import { windowStateKey } from '../../state/keys.ts'
import type { SessionWindows } from '../../time/windows.ts'
import type { Aggregation } from '../aggregations.ts'
import type { WindowLogic } from './window-core.ts'
import { type WindowOutput, WindowPartition } from './window-partition.ts'

/** One session of one key: first and last record time and the accumulator. */
interface SessionSlot {
  k: unknown
  s: number
  e: number
  a: unknown
}

/**
 * Session windows: a key's records at most `gap` apart form one session `[first, last]`. A record within
 * `gap` of two sessions merges them (with the aggregation's `merge`). Sessions include both ends, so one
 * closes when the watermark passes last + gap + grace (a record exactly `gap` after the last still joins).
 */
export function sessionWindows(
  spec: SessionWindows,
  agg: Aggregation<unknown, unknown, unknown>,
  processingTime: boolean,
): WindowLogic<SessionSlot> {
  const { gap } = spec
  const grace = processingTime ? 0 : spec.grace
  const merge = agg.merge
  if (merge === undefined) throw new Error('session windows need an aggregation with merge')
  const output = (slot: SessionSlot): WindowOutput => ({
    key: slot.k,
    start: slot.s,
    end: slot.e,
    value: agg.result(slot.a),
    timestamp: slot.e,
  })
  const dueAt = (slot: SessionSlot) => slot.e + gap + grace + 1
  return {
    add(p, key, keyStr, value, time) {
      const hits: Array<[string, SessionSlot]> = []
      for (const sk of p.index.get(keyStr) ?? []) {
        const slot = p.get(sk) as SessionSlot
        if (time >= slot.s - gap && time <= slot.e + gap) hits.push([sk, slot])
      }
      if (hits.some(([sk]) => p.appliedTo(sk))) return true
      if (hits.length === 0) {
        if (time + gap + grace + 1 <= p.closedThrough) return false
        const sk = windowStateKey(keyStr, time)
        p.put(sk, { k: key, s: time, e: time, a: agg.add(agg.init(), value, time) })
        p.indexAdd(keyStr, sk)
        p.schedule(sk, time + gap + grace + 1)
        p.changed(sk, time)
        return true
      }
      let s = time
      let e = time
      let acc: unknown
      for (const [, slot] of hits) {
        s = Math.min(s, slot.s)
        e = Math.max(e, slot.e)
        acc = acc === undefined ? slot.a : merge(acc, slot.a)
      }
      const sk = windowStateKey(keyStr, s)
      for (const [old] of hits) {
        if (old === sk) continue
        p.moveHolds(old, sk)
        p.remove(old)
        p.indexRemove(keyStr, old)
      }
      p.put(sk, { k: key, s, e, a: agg.add(acc, value, time) })
      p.indexAdd(keyStr, sk)
      p.schedule(sk, e + gap + grace + 1)
      p.changed(sk, time)
      return true
    },
    dueAt,
    close(_p, _key, slot, _through, out) {
      out.push(output(slot))
      return 'done'
    },
    current(slot, _time, out) {
      out.push(output(slot))
    },
    restored(p, key) {
      p.indexAdd(WindowPartition.groupOf(key), key)
    },
    removed(p, key) {
      p.indexRemove(WindowPartition.groupOf(key), key)
    },
  }
}

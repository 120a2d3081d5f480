import type { TumblingWindows, HoppingWindows } from '../../time/windows.ts'
import { windowStateKey } from '../../state/keys.ts'
import type { Aggregation } from '../aggregations.ts'
import type { WindowLogic } from './window-core.ts'
import type { WindowOutput } from './window-partition.ts'

/** A tumbling or hopping window of one key: its start and the aggregation's accumulator. */
interface FixedSlot {
  k: unknown
  s: number
  a: unknown
}

/**
 * Tumbling and hopping windows: `[start, end)` aligned to the epoch, so a record exactly at a window's
 * end belongs to the next one. A window closes when the watermark reaches end + grace.
 */
export function fixedWindows(
  spec: TumblingWindows | HoppingWindows,
  agg: Aggregation<unknown, unknown, unknown>,
  processingTime: boolean,
): WindowLogic<FixedSlot> {
  const size = spec.size
  const advance = spec.kind === 'hopping' ? spec.advance : spec.size
  // Processing time has no stragglers: a window is complete once the clock passes its end.
  const grace = processingTime ? 0 : spec.grace
  const output = (slot: FixedSlot): WindowOutput => ({
    key: slot.k,
    start: slot.s,
    end: slot.s + size,
    value: agg.result(slot.a),
    timestamp: slot.s + size - 1,
  })
  return {
    add(p, key, keyStr, value, time) {
      let accepted = false
      const last = Math.floor(time / advance) * advance
      for (let start = last - Math.floor((size - 1) / advance) * advance; start <= last; start += advance) {
        if (start + size <= time) continue
        const due = start + size + grace
        if (due <= p.closedThrough) continue
        accepted = true
        const sk = windowStateKey(keyStr, start)
        if (p.appliedTo(sk)) continue
        let slot = p.get(sk) as FixedSlot | undefined
        if (slot === undefined) {
          slot = { k: key, s: start, a: agg.init() }
          p.schedule(sk, due)
        }
        slot.a = agg.add(slot.a, value, time)
        p.put(sk, slot)
        p.changed(sk, time)
      }
      return accepted
    },
    dueAt: (slot) => slot.s + size + grace,
    close(_p, _key, slot, _through, out) {
      out.push(output(slot))
      return 'done'
    },
    current(slot, _time, out) {
      out.push(output(slot))
    },
    endOf: (slot) => slot.s + size,
  }
}

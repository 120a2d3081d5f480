/**
 * Seed 002's 5-minute per-sensor aggregate as pure functions over a small JSON-able state, so the
 * state can live in a changelogged store: `emptyTrafficWindow` → `addTrafficEvent`* → `trafficWindowResult`.
 * Speed variance uses Welford's update (stable, O(1) memory) instead of keeping every speed.
 *
 * @example
 * let s = emptyTrafficWindow()
 * for (const e of events) s = addTrafficEvent(s, e)
 * trafficWindowResult(s, { sensor_id: 'METR_LA_001', window_start: t0, window_end: t0 + TRAFFIC_WINDOW_MS })
 */
import type { TrafficEvent, TrafficWindowAggregate } from './types.ts'

export const TRAFFIC_WINDOW_MS = 5 * 60 * 1000

export interface TrafficWindowState {
  readonly count: number
  readonly speedMean: number
  /** Sum of squared differences from the mean (Welford). */
  readonly speedM2: number
  readonly volumeSum: number
  readonly occupancySum: number
  readonly occupancyCount: number
}

export function emptyTrafficWindow(): TrafficWindowState {
  return { count: 0, speedMean: 0, speedM2: 0, volumeSum: 0, occupancySum: 0, occupancyCount: 0 }
}

/** Returns the state with one more (validated) event in it; the input state is not changed. */
export function addTrafficEvent(
  state: TrafficWindowState,
  event: Pick<TrafficEvent, 'speed' | 'volume' | 'occupancy'>,
): TrafficWindowState {
  const count = state.count + 1
  const delta = event.speed - state.speedMean
  const speedMean = state.speedMean + delta / count
  const hasOccupancy = typeof event.occupancy === 'number'
  return {
    count,
    speedMean,
    speedM2: state.speedM2 + delta * (event.speed - speedMean),
    volumeSum: state.volumeSum + event.volume,
    occupancySum: hasOccupancy ? state.occupancySum + (event.occupancy as number) : state.occupancySum,
    occupancyCount: hasOccupancy ? state.occupancyCount + 1 : state.occupancyCount,
  }
}

/** Combines two partial states (Chan et al.), e.g. from two session fragments. */
export function mergeTrafficWindows(a: TrafficWindowState, b: TrafficWindowState): TrafficWindowState {
  if (a.count === 0) return b
  if (b.count === 0) return a
  const count = a.count + b.count
  const delta = b.speedMean - a.speedMean
  return {
    count,
    speedMean: a.speedMean + (delta * b.count) / count,
    speedM2: a.speedM2 + b.speedM2 + (delta * delta * a.count * b.count) / count,
    volumeSum: a.volumeSum + b.volumeSum,
    occupancySum: a.occupancySum + b.occupancySum,
    occupancyCount: a.occupancyCount + b.occupancyCount,
  }
}

export function trafficWindowResult(
  state: TrafficWindowState,
  window: { readonly sensor_id: string; readonly window_start: number; readonly window_end: number },
): TrafficWindowAggregate {
  const n = state.count
  return {
    sensor_id: window.sensor_id,
    window_start: window.window_start,
    window_end: window.window_end,
    avg_speed: n === 0 ? 0 : state.speedMean,
    avg_volume: n === 0 ? 0 : state.volumeSum / n,
    avg_occupancy: state.occupancyCount === 0 ? null : state.occupancySum / state.occupancyCount,
    speed_variance: n === 0 ? 0 : state.speedM2 / n,
    message_count: n,
  }
}

/** Start of the tumbling window holding `ts` (epoch ms), as seed 002's `getWindowKey`. */
export function trafficWindowStart(ts: number, sizeMs: number = TRAFFIC_WINDOW_MS): number {
  return Math.floor(ts / sizeMs) * sizeMs
}

import { compileRules, flatTrafficRules, type Violation } from '../../../rules/index.ts'
import type { TrafficEvent } from './types.ts'

// Compiled once; the clock is whatever `now` the caller passes for this record (single-threaded, sync).
let at = 0
const check = compileRules(flatTrafficRules, { now: () => at })

/** The rule ids `validateTraffic` can report, for counters. */
export const TRAFFIC_RULE_IDS: readonly string[] = check.rules.map((r) => r.id)

/**
 * Seed 001's validation of a flattened record, as data (`flatTrafficRules`): field presence
 * (sensor_id, timestamp, speed, volume, highway, direction); speed 0–120 mph; volume 0–10,000 veh/h;
 * timestamp not in the future (beyond 60 s of clock skew) and not older than a year. A value of the
 * wrong type fails the check for its field. Returns every violation; an empty array means valid.
 *
 * @example
 * validateTraffic(flattenMetrLa(raw), Date.now()) // [] or [{ rule: 'speed-range', field: 'speed', … }]
 */
export function validateTraffic(flat: TrafficEvent, now: number): readonly Violation[] {
  at = now
  return check(flat)
}

/**
 * Test-data generators for the bundled apps: pure, seeded (same seed + same clock = same records) and
 * fast (plain objects; the caller serializes). Each has `next()` and `take(n)`.
 *
 * @example
 * const g = trafficGenerator({ seed: 1, invalidShare: 0.05 })
 * for (const r of g.take(100)) if (r.defect) console.log(r.defect.kind, r.defect.field)
 */
export {
  type MillionxDefect,
  MILLIONX_DEFECTS,
  millionxGenerator,
  type MillionxGeneratorOptions,
  type MillionxRecord,
} from './millionx.ts'
export { type RideshareGeneratorOptions, rideshareGenerator, type RideshareRecord } from './rideshare.ts'
export { createRng, cumulative, type Rng } from './rng.ts'
export {
  pacificHour,
  TRAFFIC_DEFECTS,
  type TrafficDefect,
  trafficGenerator,
  type TrafficGeneratorOptions,
  type TrafficRecord,
} from './traffic.ts'
export type { Defect, Generated, InvalidRecord, RecordGenerator, ValidRecord } from './types.ts'

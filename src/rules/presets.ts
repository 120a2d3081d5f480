/**
 * Ready rule sets for the bundled traffic app. Both are plain data: print one with
 * `JSON.stringify(trafficRules)`, edit it, and pass the file back in without touching code.
 */
import type { RuleSetInput } from './schema.ts'

/** METR-LA has 207 loop detectors; Weir names them METR_LA_000 … METR_LA_206. */
export const METR_LA_SENSOR_COUNT = 207

export function metrLaSensorId(index: number): string {
  return `METR_LA_${String(index).padStart(3, '0')}`
}

export const METR_LA_SENSOR_IDS: readonly string[] = Object.freeze(
  Array.from({ length: METR_LA_SENSOR_COUNT }, (_, i) => metrLaSensorId(i)),
)

/** Los Angeles bounds of seed 002: lat 33.7–34.5, lon −119 to −117. */
export const LA_BOUNDS = { minLat: 33.7, maxLat: 34.5, minLon: -119, maxLon: -117 } as const

const HOUR = 3_600_000
const YEAR = 365 * 24 * HOUR
/** Producers' clocks drift; a timestamp this far ahead still counts as "now". */
export const CLOCK_SKEW_MS = 60_000

/**
 * Seed 002's data-quality checks on the raw nested METR-LA record (`traffic-raw`): required
 * sensor_id / timestamp / speed_mph / coordinates; speed 0–120 mph, volume 0–10,000 veh/h, occupancy
 * 0–100 %; coordinates inside Los Angeles; known sensors only; message age under 1 h and not in the
 * future; no duplicate sensor_id + timestamp.
 */
export const trafficRules = {
  name: 'metr-la-data-quality',
  sets: { metrLaSensors: METR_LA_SENSOR_IDS },
  rules: [
    {
      id: 'required',
      type: 'required',
      fields: ['sensor_id', 'timestamp', 'traffic_data.speed_mph', 'location.coordinates'],
    },
    { id: 'speed-range', type: 'range', field: 'traffic_data.speed_mph', min: 0, max: 120 },
    {
      id: 'volume-range',
      type: 'range',
      field: 'traffic_data.volume_vehicles_per_hour',
      min: 0,
      max: 10_000,
    },
    { id: 'occupancy-range', type: 'range', field: 'traffic_data.occupancy', min: 0, max: 100 },
    {
      id: 'la-bounds',
      type: 'geo',
      latField: 'location.coordinates.latitude',
      lonField: 'location.coordinates.longitude',
      ...LA_BOUNDS,
    },
    { id: 'known-sensor', type: 'enum', field: 'sensor_id', set: 'metrLaSensors' },
    { id: 'not-in-future', type: 'notInFuture', field: 'timestamp', skewMs: CLOCK_SKEW_MS },
    { id: 'fresh', type: 'maxAge', field: 'timestamp', maxAgeMs: HOUR },
    {
      id: 'duplicate',
      type: 'duplicate',
      keys: ['sensor_id', 'timestamp'],
      timestampField: 'timestamp',
      withinMs: HOUR,
      // The seed's own bound: its DataQualityValidator keeps the last 10,000 messages in all. Over the
      // input's partitions (the traffic app gives each INPUT_PARTITIONS' share: 2,000 of 5), since a
      // sensor's readings all land in one partition. METR-LA's 207 sensors every 5 minutes make ~2,500
      // keys an hour, so the bound only bites on a backlog. 100,000 per partition filled ~110 MB of heap
      // at 5 partitions (218 bytes a key) and left the traffic app at 6.5k records/s under its 256 MB
      // limit; 10,000 per partition still held ~12 MB more than this (BENCHMARKS.md).
      maxKeys: 10_000,
    },
  ],
} as const satisfies RuleSetInput

/**
 * Seed 001's validation of the flattened record (`traffic-events`): field presence; speed 0–120 mph;
 * volume 0–10,000 veh/h; timestamp not in the future (beyond clock skew) and not older than a year.
 */
export const flatTrafficRules = {
  name: 'metr-la-flat',
  rules: [
    {
      id: 'required',
      type: 'required',
      fields: ['sensor_id', 'timestamp', 'speed', 'volume', 'highway', 'direction'],
    },
    { id: 'speed-range', type: 'range', field: 'speed', min: 0, max: 120 },
    { id: 'volume-range', type: 'range', field: 'volume', min: 0, max: 10_000 },
    { id: 'timestamp-not-in-future', type: 'notInFuture', field: 'timestamp', skewMs: CLOCK_SKEW_MS },
    { id: 'timestamp-max-age', type: 'maxAge', field: 'timestamp', maxAgeMs: YEAR },
  ],
} as const satisfies RuleSetInput

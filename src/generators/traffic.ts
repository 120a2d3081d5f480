/**
 * METR-LA traffic readings (seed 001's input on `traffic-raw`): 207 loop detectors on real LA
 * highways, round-robin like a polling feed; speeds dip in the morning and evening rush hours (Pacific
 * time), volume and occupancy follow; weather changes slowly for the whole region. A share of records is
 * spoiled on purpose, each with a `defect` saying how.
 *
 * Valid records are valid under both seed 001's `validateTraffic` and seed 002's `trafficRules`: event
 * times are 0–2 s behind `now()` and strictly increasing per sensor (no sensor_id + timestamp repeats).
 *
 * @example
 * const g = trafficGenerator({ seed: 7, invalidShare: 0.05 })
 * const { key, value, defect } = g.next() // defect: undefined or { kind: 'speed_out_of_range', field: 'traffic_data.speed_mph' }
 */
import {
  METR_LA_SENSORS,
  type MetrLaRecord,
  type SensorInfo,
  sensorInfo,
  type WeatherCondition,
} from '../apps/traffic/domain/index.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { createRng, cumulative } from './rng.ts'
import { checkCount, checkShare, type Generated, type RecordGenerator, takeFrom } from './types.ts'

export const TRAFFIC_DEFECTS = [
  'missing_field',
  'speed_out_of_range',
  'negative_volume',
  'future_timestamp',
  'stale_timestamp',
  'wrong_type',
] as const
export type TrafficDefect = (typeof TRAFFIC_DEFECTS)[number]

export type TrafficRecord = Generated<MetrLaRecord, TrafficDefect>

export interface TrafficGeneratorOptions {
  readonly seed?: number
  /** How many sensors report (1–10,000; default 207). Past 207 the ids are not METR-LA's own. */
  readonly sensors?: number
  /** Share of deliberately invalid records, 0–1 (default 0). */
  readonly invalidShare?: number
  /** Which defects to draw from (default all). */
  readonly defects?: readonly TrafficDefect[]
  /** Wall clock the event times follow (default Date.now). Pass a fixed one for reproducible output. */
  readonly now?: () => number
  readonly topic?: string
}

/** Fraction of free-flow speed, and vehicles per hour per lane, for each hour of the day (Pacific). */
const SPEED_FACTOR = [
  1, 1, 1, 1, 0.98, 0.93, 0.8, 0.55, 0.5, 0.68, 0.85, 0.88, 0.86, 0.86, 0.83, 0.72, 0.55, 0.47, 0.58, 0.75,
  0.88, 0.93, 0.96, 0.98,
]
const VOLUME_PER_LANE = [
  300, 220, 180, 170, 250, 700, 1400, 1650, 1600, 1450, 1300, 1300, 1350, 1350, 1400, 1550, 1600, 1600, 1500,
  1250, 1000, 800, 600, 420,
]
/** Pacific Standard Time; daylight saving is ignored (an hour off in summer changes nothing here). */
const PACIFIC_OFFSET_MS = -8 * 3_600_000
const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

const WEATHERS: readonly WeatherCondition[] = ['clear', 'cloudy', 'fog', 'rain', 'windy']
const WEATHER_WEIGHTS = cumulative([70, 15, 5, 7, 3])
const WEATHER_SPEED: Record<WeatherCondition, number> = {
  clear: 1,
  cloudy: 1,
  fog: 0.9,
  rain: 0.85,
  windy: 0.97,
}

const MISSING = ['sensor_id', 'timestamp', 'traffic_data.speed_mph'] as const

/** Where in the day `ts` falls, in fractional Pacific hours [0, 24). */
export function pacificHour(ts: number): number {
  const ms = (((ts + PACIFIC_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS
  return ms / HOUR_MS
}

function atHour(table: readonly number[], hour: number): number {
  const h = Math.floor(hour)
  const f = hour - h
  return table[h]! * (1 - f) + table[(h + 1) % 24]! * f
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x))
const round1 = (x: number) => Math.round(x * 10) / 10

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] }

export function trafficGenerator(options: TrafficGeneratorOptions = {}): RecordGenerator<TrafficRecord> {
  const rng = createRng(options.seed ?? 1)
  const count = checkCount('sensors', options.sensors ?? 207, 1, 10_000)
  const share = checkShare('invalidShare', options.invalidShare ?? 0)
  const defects = options.defects ?? TRAFFIC_DEFECTS
  if (share > 0 && defects.length === 0)
    throw new WeirError(ErrorCode.CONFIG_INVALID, 'defects must not be empty when invalidShare > 0')
  const now = options.now ?? Date.now
  const topic = options.topic ?? 'traffic-raw'
  const sensors: SensorInfo[] = Array.from({ length: count }, (_, i) => METR_LA_SENSORS[i] ?? sensorInfo(i))
  const lastTs = new Float64Array(count)
  let i = 0
  let weather: WeatherCondition = 'clear'

  function valid(sensor: SensorInfo, t: number): Mutable<MetrLaRecord> {
    if (rng.next() < 0.0002) weather = WEATHERS[rng.weighted(WEATHER_WEIGHTS)]!
    const hour = pacificHour(t)
    const lanes = sensor.lanes
    const speed = round1(
      clamp(
        sensor.highway.freeFlowMph *
          atHour(SPEED_FACTOR, hour) *
          WEATHER_SPEED[weather] *
          (1 + rng.normal(0, 0.06)),
        3,
        85,
      ),
    )
    const volume = Math.round(
      clamp(lanes * atHour(VOLUME_PER_LANE, hour) * (1 + rng.normal(0, 0.08)), 0, 9800),
    )
    const occupancy = round1(clamp((volume / lanes / speed) * 0.38, 0, 95))
    const temperature = Math.round(62 + 12 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + rng.normal(0, 2))
    return {
      sensor_id: sensor.sensor_id,
      timestamp: new Date(t).toISOString(),
      traffic_data: { speed_mph: speed, volume_vehicles_per_hour: volume, occupancy },
      location: {
        highway: sensor.highway.name,
        direction: sensor.direction,
        lanes,
        postmile: sensor.postmile,
        coordinates: { latitude: sensor.latitude, longitude: sensor.longitude },
      },
      weather: {
        condition: weather,
        temperature_f: temperature,
        visibility_miles:
          weather === 'fog' ? round1(rng.float(0.3, 2)) : weather === 'rain' ? round1(rng.float(2, 6)) : 10,
      },
      source: 'METR-LA',
    }
  }

  /** Spoils `r` in place; returns the field it spoiled. */
  function spoil(r: Mutable<MetrLaRecord>, kind: TrafficDefect, t: number): string {
    const loose = r as unknown as Record<string, Record<string, unknown>>
    switch (kind) {
      case 'missing_field': {
        const field = rng.pick(MISSING)
        if (field === 'traffic_data.speed_mph') delete loose.traffic_data!.speed_mph
        else delete loose[field]
        return field
      }
      case 'speed_out_of_range':
        r.traffic_data.speed_mph = rng.chance(0.5)
          ? 250
          : rng.chance(0.6)
            ? round1(rng.float(120.1, 400))
            : -round1(rng.float(0.1, 50))
        return 'traffic_data.speed_mph'
      case 'negative_volume':
        r.traffic_data.volume_vehicles_per_hour = -rng.int(1, 5000)
        return 'traffic_data.volume_vehicles_per_hour'
      case 'future_timestamp':
        r.timestamp = new Date(t + rng.int(HOUR_MS, 30 * DAY_MS)).toISOString()
        return 'timestamp'
      case 'stale_timestamp':
        r.timestamp = new Date(t - 2 * 365 * DAY_MS + rng.int(-30 * DAY_MS, 30 * DAY_MS)).toISOString()
        return 'timestamp'
      case 'wrong_type':
        if (rng.chance(0.5)) {
          loose.traffic_data!.speed_mph = rng.chance(0.5) ? String(r.traffic_data.speed_mph) : 'fast'
          return 'traffic_data.speed_mph'
        }
        loose.traffic_data!.volume_vehicles_per_hour = String(r.traffic_data.volume_vehicles_per_hour)
        return 'traffic_data.volume_vehicles_per_hour'
    }
  }

  function next(): TrafficRecord {
    const s = i % count
    i++
    const sensor = sensors[s]!
    const wall = now()
    const bad = share > 0 && rng.next() < share
    // Event time: a little behind the wall clock, and after this sensor's previous reading.
    let t = wall - rng.int(0, 2000)
    if (!bad) {
      if (t <= lastTs[s]!) t = lastTs[s]! + 1
      lastTs[s] = t
    }
    const value = valid(sensor, t)
    if (!bad) return { topic, key: sensor.sensor_id, value, timestamp: wall }
    const kind = defects[Math.floor(rng.next() * defects.length)]!
    const field = spoil(value, kind, wall)
    return { topic, key: sensor.sensor_id, value, timestamp: wall, defect: { kind, field } }
  }

  return { next, take: (n) => takeFrom(next, n) }
}

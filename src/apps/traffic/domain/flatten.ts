import type { MetrLaRecord, TrafficEvent } from './types.ts'

type Loose = Record<string, unknown> | undefined

function obj(v: unknown): Loose {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined
}

function orNull<T>(v: T | undefined): T | null {
  return v === undefined ? null : v
}

/**
 * Nested METR-LA → seed 001's flat record. Total: never throws, whatever arrives (a missing `location`,
 * a `null` value); values are copied as they are so `validateTraffic` sees exactly what came in.
 *
 * @example
 * flattenMetrLa({ sensor_id: 'METR_LA_001', timestamp: '2025-10-05T07:42:44Z',
 *   traffic_data: { speed_mph: 31.6, volume_vehicles_per_hour: 2203 },
 *   location: { highway: 'I-10', direction: 'E', lanes: 5 }, weather: { condition: 'cloudy' } })
 * // { sensor_id: 'METR_LA_001', …, speed: 31.6, volume: 2203, highway: 'I-10', direction: 'E',
 * //   lane_count: 5, weather_conditions: 'cloudy', occupancy: null, latitude: null, … }
 */
export function flattenMetrLa(raw: MetrLaRecord): TrafficEvent {
  const r = obj(raw)
  const traffic = obj(r?.traffic_data)
  const location = obj(r?.location)
  const coordinates = obj(location?.coordinates)
  const weather = obj(r?.weather)
  return {
    sensor_id: r?.sensor_id as TrafficEvent['sensor_id'],
    timestamp: r?.timestamp as TrafficEvent['timestamp'],
    speed: traffic?.speed_mph as TrafficEvent['speed'],
    volume: traffic?.volume_vehicles_per_hour as TrafficEvent['volume'],
    occupancy: orNull(traffic?.occupancy as TrafficEvent['occupancy']),
    highway: location?.highway as TrafficEvent['highway'],
    direction: location?.direction as TrafficEvent['direction'],
    lane_count: location?.lanes as TrafficEvent['lane_count'],
    latitude: orNull(coordinates?.latitude as TrafficEvent['latitude']),
    longitude: orNull(coordinates?.longitude as TrafficEvent['longitude']),
    weather_conditions: orNull(weather?.condition as TrafficEvent['weather_conditions']),
    temperature_f: orNull(weather?.temperature_f as TrafficEvent['temperature_f']),
  }
}

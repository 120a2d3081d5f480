/**
 * METR-LA traffic records (seed 001): the nested JSON the loop-detector feed puts on `traffic-raw`,
 * and the flat record the processor writes to `traffic-events`.
 */

export type Direction = 'N' | 'S' | 'E' | 'W'

export const WEATHER_CONDITIONS = ['clear', 'cloudy', 'fog', 'rain', 'windy'] as const
export type WeatherCondition = (typeof WEATHER_CONDITIONS)[number]

/** One loop-detector reading as produced to `traffic-raw`. */
export interface MetrLaRecord {
  /** `METR_LA_000` … `METR_LA_206`. */
  readonly sensor_id: string
  /** ISO-8601 UTC, e.g. `2025-10-05T07:42:44.651Z`. */
  readonly timestamp: string
  readonly traffic_data: {
    readonly speed_mph: number
    /** All lanes together. */
    readonly volume_vehicles_per_hour: number
    /** Share of time the detector is occupied, in percent (0–100). */
    readonly occupancy?: number
  }
  readonly location: {
    /** `I-405`, `US-101`, `SR-134`, … */
    readonly highway: string
    readonly direction: Direction
    readonly lanes: number
    /** Caltrans-style postmile along the highway. */
    readonly postmile?: number
    readonly coordinates?: { readonly latitude: number; readonly longitude: number }
  }
  readonly weather: {
    readonly condition: WeatherCondition
    readonly temperature_f?: number
    readonly visibility_miles?: number
  }
  /** Feed name, `METR-LA`. */
  readonly source?: string
}

/**
 * The flattened record (seed 001's output minus the three fields the pipeline stamps on:
 * processed_at, processor_id, validation_status). Optional inputs that are absent become `null`, so the
 * output always has the same columns. Only trustworthy after `validateTraffic` returned no violation:
 * `flattenMetrLa` copies values, it does not coerce them.
 */
export interface TrafficEvent {
  readonly sensor_id: string
  readonly timestamp: string
  readonly speed: number
  readonly volume: number
  readonly occupancy: number | null
  readonly highway: string
  readonly direction: Direction
  readonly lane_count: number
  readonly latitude: number | null
  readonly longitude: number | null
  readonly weather_conditions: WeatherCondition | null
  readonly temperature_f: number | null
}

/** Seed 002 subtask 2.2: one sensor's 5-minute tumbling window. Times are epoch ms. */
export interface TrafficWindowAggregate {
  readonly sensor_id: string
  readonly window_start: number
  readonly window_end: number
  readonly avg_speed: number
  readonly avg_volume: number
  /** `null` when no reading in the window carried an occupancy. */
  readonly avg_occupancy: number | null
  /** Population variance of the speeds (mph²). */
  readonly speed_variance: number
  readonly message_count: number
}

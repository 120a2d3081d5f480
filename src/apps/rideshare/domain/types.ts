/**
 * The six Kafka topics of the rideshare simulation (seed 000) and their payloads. Times are ISO-8601
 * UTC text; positions are WGS-84 degrees; money is in the city's currency (BRL for São Paulo).
 */

export const RIDESHARE_TOPICS = [
  'gps_pings',
  'trips',
  'driver_status',
  'surge_updates',
  'driver_profiles',
  'rider_profiles',
] as const
export type RideshareTopic = (typeof RIDESHARE_TOPICS)[number]

export interface LatLon {
  readonly lat: number
  readonly lon: number
}

/** `gps_pings`, keyed by driver_id. The bridge's windowed handler keeps the latest per driver. */
export interface GpsPing {
  readonly event_id: string
  readonly driver_id: string
  /** The trip the driver is serving (en route to pickup or carrying the rider), else null. */
  readonly trip_id: string | null
  readonly lat: number
  readonly lon: number
  /** Degrees clockwise from north, [0, 360). */
  readonly heading: number
  /** km/h. */
  readonly speed: number
  /** Horizontal accuracy in metres. */
  readonly accuracy: number
  readonly timestamp: string
}

export const TRIP_STATUSES = [
  'requested',
  'matched',
  'driver_arrived',
  'started',
  'completed',
  'cancelled',
] as const
export type TripStatus = (typeof TRIP_STATUSES)[number]

/** `trips`, keyed by trip_id: one event per state change. */
export interface TripEvent {
  readonly event_id: string
  /** `trip.<status>`. */
  readonly event_type: `trip.${TripStatus}`
  readonly trip_id: string
  readonly status: TripStatus
  readonly rider_id: string
  readonly driver_id: string | null
  readonly pickup: LatLon
  readonly dropoff: LatLon
  readonly pickup_zone_id: string
  readonly dropoff_zone_id: string
  readonly surge_multiplier: number
  /** Estimated at request, final at completion; null once cancelled. */
  readonly fare: number | null
  readonly currency: string
  /** Who cancelled, for `cancelled`. */
  readonly cancelled_by?: 'rider' | 'driver'
  readonly timestamp: string
}

export const DRIVER_STATES = ['offline', 'online', 'en_route_pickup', 'on_trip'] as const
export type DriverState = (typeof DRIVER_STATES)[number]

/** `driver_status`, keyed by driver_id. */
export interface DriverStatusEvent {
  readonly event_id: string
  readonly driver_id: string
  readonly previous_status: DriverState | null
  readonly new_status: DriverState
  /** What caused it: `shift_start`, `shift_end`, `trip_matched`, `trip_started`, `trip_completed`, `trip_cancelled`. */
  readonly trigger: string
  readonly lat: number
  readonly lon: number
  readonly timestamp: string
}

/** `surge_updates`, keyed by zone_id. */
export interface SurgeUpdate {
  readonly event_id: string
  readonly zone_id: string
  readonly zone_name: string
  readonly previous_multiplier: number
  readonly new_multiplier: number
  readonly available_drivers: number
  readonly pending_requests: number
  readonly timestamp: string
}

/** `driver_profiles`, keyed by driver_id. Carries PII (name, email, phone). */
export interface DriverProfile {
  readonly event_id: string
  readonly event_type: 'driver.created' | 'driver.updated'
  readonly driver_id: string
  readonly first_name: string
  readonly last_name: string
  readonly email: string
  readonly phone: string
  readonly rating: number
  readonly vehicle: {
    readonly make: string
    readonly model: string
    readonly year: number
    readonly color: string
    readonly plate: string
  }
  readonly home: LatLon
  readonly timestamp: string
}

/** `rider_profiles`, keyed by rider_id. Carries PII (name, email, phone). */
export interface RiderProfile {
  readonly event_id: string
  readonly event_type: 'rider.created' | 'rider.updated'
  readonly rider_id: string
  readonly first_name: string
  readonly last_name: string
  readonly email: string
  readonly phone: string
  readonly home: LatLon
  readonly payment_method_type: 'credit_card' | 'debit_card' | 'pix' | 'cash'
  readonly rating: number
  readonly timestamp: string
}

/** Payload type of each topic. */
export interface RidesharePayloads {
  readonly gps_pings: GpsPing
  readonly trips: TripEvent
  readonly driver_status: DriverStatusEvent
  readonly surge_updates: SurgeUpdate
  readonly driver_profiles: DriverProfile
  readonly rider_profiles: RiderProfile
}

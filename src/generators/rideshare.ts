/**
 * A small rideshare simulation of São Paulo (seed 000's six topics). Drivers cruise, get matched to
 * riders, drive to the pickup, carry the rider to the drop-off and go back to cruising; each GPS ping
 * moves a driver a few tens of metres, so tracks are smooth. GPS pings are ~95 % of events (as in a real
 * fleet: a ping every few seconds, a trip state change every few minutes); trips, status changes, surge
 * updates and profile changes share the rest. Events that follow from one another (a match and the
 * driver's status change) come out back to back.
 *
 * @example
 * const g = rideshareGenerator({ seed: 1, drivers: 50, riders: 200 })
 * for (const r of g.take(1000)) producer.send(r.topic, r.key, JSON.stringify(r.value))
 */
import {
  type DriverState,
  type RidesharePayloads,
  type RideshareTopic,
  SAO_PAULO,
  SAO_PAULO_ZONES,
  zoneOf,
} from '../apps/rideshare/domain/index.ts'
import { bearing, distanceM, move, normalizeHeading, round6 } from './geo.ts'
import { spPhone } from './people.ts'
import { createCity, type Driver, type Person, type Trip } from './rideshare-world.ts'
import { createRng, cumulative } from './rng.ts'
import { checkCount, type RecordGenerator, takeFrom, type ValidRecord } from './types.ts'

export type RideshareRecord = { [T in RideshareTopic]: ValidRecord<RidesharePayloads[T], T> }[RideshareTopic]

export interface RideshareGeneratorOptions {
  readonly seed?: number
  /** 1–100,000 (default 50). */
  readonly drivers?: number
  /** 1–1,000,000 (default 200). */
  readonly riders?: number
  /** Simulated seconds between two pings of one driver: sets how far a ping moves it (default 3). */
  readonly pingSeconds?: number
  readonly now?: () => number
}

// gps, trip, driver shift change, surge, driver profile, rider profile
const EVENT_WEIGHTS = cumulative([90, 7, 1.2, 1, 0.4, 0.4])
const ARRIVED_M = 150
const SURGE_SAMPLE = 1000
const { bounds, center } = SAO_PAULO

export function rideshareGenerator(
  options: RideshareGeneratorOptions = {},
): RecordGenerator<RideshareRecord> {
  const rng = createRng(options.seed ?? 1)
  const driverCount = checkCount('drivers', options.drivers ?? 50, 1, 100_000)
  const riderCount = checkCount('riders', options.riders ?? 200, 1, 1_000_000)
  const pingSeconds = options.pingSeconds ?? 3
  const now = options.now ?? Date.now
  const maxActiveTrips = Math.max(1, Math.floor(driverCount * 0.6))

  const { drivers, riders, near } = createCity(rng, driverCount, riderCount)
  const trips: Trip[] = []
  const surge = new Map<string, number>(SAO_PAULO_ZONES.map((z) => [z.zone_id, 1]))
  const queue: RideshareRecord[] = []
  let wall = Number.NaN
  let iso = ''

  /** `value` comes without its timestamp (the event's wall-clock time, added here). */
  function emit<T extends RideshareTopic>(
    topic: T,
    key: string,
    value: Omit<RidesharePayloads[T], 'timestamp'>,
  ): RideshareRecord {
    ;(value as { timestamp?: string }).timestamp = iso
    return { topic, key, value, timestamp: wall } as unknown as RideshareRecord
  }

  function setStatus(d: Driver, status: DriverState, trigger: string): RideshareRecord {
    const previous = d.status
    d.status = status
    return emit('driver_status', d.id, {
      event_id: rng.uuid(),
      driver_id: d.id,
      previous_status: previous,
      new_status: status,
      trigger,
      lat: round6(d.lat),
      lon: round6(d.lon),
    })
  }

  function tripEvent(t: Trip, extra: { cancelled_by?: 'rider' | 'driver' } = {}): RideshareRecord {
    const pz = zoneOf(t.pickup.lat, t.pickup.lon).zone_id
    const dz = zoneOf(t.dropoff.lat, t.dropoff.lon).zone_id
    return emit('trips', t.id, {
      event_id: rng.uuid(),
      event_type: `trip.${t.status}`,
      trip_id: t.id,
      status: t.status,
      rider_id: t.rider.id,
      driver_id: t.driver?.id ?? null,
      pickup: { ...t.pickup },
      dropoff: { ...t.dropoff },
      pickup_zone_id: pz,
      dropoff_zone_id: dz,
      surge_multiplier: t.surge,
      fare: t.status === 'cancelled' ? null : t.fare,
      currency: SAO_PAULO.currency,
      ...extra,
    })
  }

  function ping(d: Driver): RideshareRecord {
    const target =
      d.trip === null
        ? null
        : d.status === 'en_route_pickup'
          ? d.trip.pickup
          : d.status === 'on_trip'
            ? d.trip.dropoff
            : null
    d.speed = Math.min(60, Math.max(0, d.speed + rng.normal(0, 4)))
    if (target !== null) {
      const left = distanceM(d.lat, d.lon, target.lat, target.lon)
      const step = Math.max(8, d.speed / 3.6) * pingSeconds
      if (left <= step) {
        d.lat = target.lat
        d.lon = target.lon
        d.speed = 0
      } else {
        d.heading = normalizeHeading(bearing(d.lat, d.lon, target.lat, target.lon) + rng.normal(0, 8))
        const p = move(d.lat, d.lon, d.heading, step)
        d.lat = p.lat
        d.lon = p.lon
      }
    } else {
      const out =
        d.lat < bounds.minLat || d.lat > bounds.maxLat || d.lon < bounds.minLon || d.lon > bounds.maxLon
      d.heading = out
        ? bearing(d.lat, d.lon, center.lat, center.lon)
        : normalizeHeading(d.heading + rng.normal(0, 12))
      const p = move(d.lat, d.lon, d.heading, (d.speed / 3.6) * pingSeconds)
      d.lat = p.lat
      d.lon = p.lon
    }
    return emit('gps_pings', d.id, {
      event_id: rng.uuid(),
      driver_id: d.id,
      trip_id: d.trip?.id ?? null,
      lat: round6(d.lat),
      lon: round6(d.lon),
      heading: (Math.round(d.heading * 10) / 10) % 360,
      speed: Math.round(d.speed * 10) / 10,
      accuracy: Math.round(rng.float(3, 15) * 10) / 10,
    })
  }

  function findDriver(ok: (d: Driver) => boolean): Driver | undefined {
    for (let k = 0; k < 12; k++) {
      const d = drivers[(rng.next() * driverCount) | 0]!
      if (ok(d)) return d
    }
    return drivers.find(ok)
  }

  function gps(): RideshareRecord {
    const d = findDriver((x) => x.status !== 'offline')
    return d === undefined ? shift() : ping(d)
  }

  function shift(): RideshareRecord {
    const d = findDriver((x) => x.trip === null)
    if (d === undefined) return gps()
    return d.status === 'offline'
      ? setStatus(d, 'online', 'shift_start')
      : rng.chance(0.3)
        ? setStatus(d, 'offline', 'shift_end')
        : ping(d)
  }

  function endTrip(t: Trip, status: 'completed' | 'cancelled'): void {
    t.status = status
    t.rider.busy = false
    trips.splice(trips.indexOf(t), 1)
  }

  function trip(): RideshareRecord {
    if (trips.length < maxActiveTrips && (trips.length === 0 || rng.chance(0.35))) {
      const rider = riders[(rng.next() * riderCount) | 0]!
      if (!rider.busy) {
        rider.busy = true
        const pickup = near(rider.home, 1500)
        const dropoff = near(pickup, 9000)
        const multiplier = surge.get(zoneOf(pickup.lat, pickup.lon).zone_id) ?? 1
        const km = distanceM(pickup.lat, pickup.lon, dropoff.lat, dropoff.lon) / 1000
        const t: Trip = {
          id: rng.uuid(),
          rider,
          driver: null,
          status: 'requested',
          pickup,
          dropoff,
          surge: multiplier,
          fare: Math.round((5 + 2.2 * km) * multiplier * 100) / 100,
        }
        trips.push(t)
        return tripEvent(t)
      }
    }
    if (trips.length === 0) return gps()
    const t = trips[(rng.next() * trips.length) | 0]!
    const d = t.driver
    switch (t.status) {
      case 'requested': {
        const free = findDriver((x) => x.status === 'online' && x.trip === null)
        if (free === undefined) {
          if (!rng.chance(0.1)) return gps()
          endTrip(t, 'cancelled')
          return tripEvent(t, { cancelled_by: 'rider' })
        }
        t.driver = free
        free.trip = t
        t.status = 'matched'
        queue.push(setStatus(free, 'en_route_pickup', 'trip_matched'))
        return tripEvent(t)
      }
      case 'matched':
        if (d !== null && distanceM(d.lat, d.lon, t.pickup.lat, t.pickup.lon) <= ARRIVED_M) {
          t.status = 'driver_arrived'
          return tripEvent(t)
        }
        if (d !== null && rng.chance(0.02)) {
          d.trip = null
          endTrip(t, 'cancelled')
          queue.push(setStatus(d, 'online', 'trip_cancelled'))
          return tripEvent(t, { cancelled_by: rng.chance(0.5) ? 'rider' : 'driver' })
        }
        return d === null ? gps() : ping(d)
      case 'driver_arrived':
        t.status = 'started'
        if (d !== null) queue.push(setStatus(d, 'on_trip', 'trip_started'))
        return tripEvent(t)
      case 'started':
        if (d !== null && distanceM(d.lat, d.lon, t.dropoff.lat, t.dropoff.lon) <= ARRIVED_M) {
          d.trip = null
          endTrip(t, 'completed')
          queue.push(setStatus(d, 'online', 'trip_completed'))
          return tripEvent(t)
        }
        return d === null ? gps() : ping(d)
      default:
        return gps()
    }
  }

  function surgeUpdate(): RideshareRecord {
    const zone = rng.pick(SAO_PAULO_ZONES)
    // Count over at most SURGE_SAMPLE drivers (scaled up): a surge tick stays cheap with 100k drivers.
    const sample = Math.min(driverCount, SURGE_SAMPLE)
    const from = (rng.next() * (driverCount - sample + 1)) | 0
    let seen = 0
    for (let k = from; k < from + sample; k++) {
      const d = drivers[k]!
      if (d.status === 'online' && zoneOf(d.lat, d.lon) === zone) seen++
    }
    const available = Math.round((seen * driverCount) / sample)
    let pending = 0
    for (const t of trips)
      if (t.status === 'requested' && zoneOf(t.pickup.lat, t.pickup.lon) === zone) pending++
    const previous = surge.get(zone.zone_id) ?? 1
    const raw = 1 + Math.max(0, pending - available) * 0.25 + rng.float(0, 0.3)
    const next = Math.round(Math.min(3.5, raw) * 10) / 10
    surge.set(zone.zone_id, next)
    return emit('surge_updates', zone.zone_id, {
      event_id: rng.uuid(),
      zone_id: zone.zone_id,
      zone_name: zone.name,
      previous_multiplier: previous,
      new_multiplier: next,
      available_drivers: available,
      pending_requests: pending,
    })
  }

  function touch(p: Person): 'created' | 'updated' {
    if (!p.profiled) {
      p.profiled = true
      return 'created'
    }
    if (rng.chance(0.3)) p.phone = spPhone(rng)
    p.rating = Math.round(Math.min(5, Math.max(3.5, p.rating + rng.normal(0, 0.05))) * 100) / 100
    return 'updated'
  }

  function driverProfile(): RideshareRecord {
    const d = drivers[(rng.next() * driverCount) | 0]!
    const kind = touch(d)
    return emit('driver_profiles', d.id, {
      event_id: rng.uuid(),
      event_type: `driver.${kind}`,
      driver_id: d.id,
      first_name: d.first,
      last_name: d.last,
      email: d.email,
      phone: d.phone,
      rating: d.rating,
      vehicle: { ...d.vehicle },
      home: { ...d.home },
    })
  }

  function riderProfile(): RideshareRecord {
    const r = riders[(rng.next() * riderCount) | 0]!
    const kind = touch(r)
    return emit('rider_profiles', r.id, {
      event_id: rng.uuid(),
      event_type: `rider.${kind}`,
      rider_id: r.id,
      first_name: r.first,
      last_name: r.last,
      email: r.email,
      phone: r.phone,
      home: { ...r.home },
      payment_method_type: r.payment,
      rating: r.rating,
    })
  }

  const makers = [gps, trip, shift, surgeUpdate, driverProfile, riderProfile]
  let queued = 0

  function next(): RideshareRecord {
    if (queued < queue.length) {
      const r = queue[queued++]!
      if (queued === queue.length) queue.length = queued = 0
      return r
    }
    const t = now()
    if (t !== wall) {
      wall = t
      iso = new Date(t).toISOString()
    }
    return makers[rng.weighted(EVENT_WEIGHTS)]!()
  }

  return { next, take: (n) => takeFrom(next, n) }
}

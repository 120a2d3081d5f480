/**
 * The people and places of the rideshare simulation: drivers with cars, riders with homes, trips.
 * Mutable on purpose: the generator moves drivers and advances trips in place.
 */
import { type DriverState, type LatLon, SAO_PAULO, type TripStatus } from '../apps/rideshare/domain/index.ts'
import { move, round6 } from './geo.ts'
import { BR_FIRST, BR_LAST, email, plate, spPhone } from './people.ts'
import type { Rng } from './rng.ts'

export interface Person {
  readonly id: string
  readonly first: string
  readonly last: string
  email: string
  phone: string
  rating: number
  readonly home: LatLon
  profiled: boolean
}

export interface Driver extends Person {
  status: DriverState
  lat: number
  lon: number
  heading: number
  speed: number
  trip: Trip | null
  readonly vehicle: { make: string; model: string; year: number; color: string; plate: string }
}

export interface Rider extends Person {
  busy: boolean
  readonly payment: 'credit_card' | 'debit_card' | 'pix' | 'cash'
}

export interface Trip {
  readonly id: string
  readonly rider: Rider
  driver: Driver | null
  status: TripStatus
  readonly pickup: LatLon
  readonly dropoff: LatLon
  readonly surge: number
  readonly fare: number
}

const VEHICLES = [
  ['Chevrolet', 'Onix'],
  ['Hyundai', 'HB20'],
  ['Fiat', 'Argo'],
  ['Volkswagen', 'Gol'],
  ['Volkswagen', 'Polo'],
  ['Toyota', 'Corolla'],
  ['Renault', 'Kwid'],
  ['Fiat', 'Mobi'],
] as const
const COLORS = ['white', 'silver', 'black', 'grey', 'red', 'blue']
const PAYMENTS = ['credit_card', 'debit_card', 'pix', 'cash'] as const

const { bounds } = SAO_PAULO

export interface City {
  readonly drivers: Driver[]
  readonly riders: Rider[]
  /** A point `maxM / 5 … maxM` metres from `p` in a random direction, clamped to the city. */
  near(p: LatLon, maxM: number): LatLon
}

/** Makes `driverCount` drivers (80 % online, near home) and `riderCount` riders, from `rng`. */
export function createCity(rng: Rng, driverCount: number, riderCount: number): City {
  const inCity = (): LatLon => ({
    lat: round6(rng.float(bounds.minLat, bounds.maxLat)),
    lon: round6(rng.float(bounds.minLon, bounds.maxLon)),
  })
  const near = (p: LatLon, maxM: number): LatLon => {
    const q = move(p.lat, p.lon, rng.float(0, 360), rng.float(maxM / 5, maxM))
    return {
      lat: round6(Math.min(bounds.maxLat, Math.max(bounds.minLat, q.lat))),
      lon: round6(Math.min(bounds.maxLon, Math.max(bounds.minLon, q.lon))),
    }
  }
  const person = (): Person => {
    const first = rng.pick(BR_FIRST)
    const last = rng.pick(BR_LAST)
    return {
      id: rng.uuid(),
      first,
      last,
      email: email(rng, first, last),
      phone: spPhone(rng),
      rating: Math.round(rng.float(4.2, 5) * 100) / 100,
      home: inCity(),
      profiled: false,
    }
  }
  const drivers: Driver[] = Array.from({ length: driverCount }, () => {
    const p = person()
    const [make, model] = rng.pick(VEHICLES)
    const start = near(p.home, 3000)
    return {
      ...p,
      status: rng.chance(0.8) ? 'online' : 'offline',
      lat: start.lat,
      lon: start.lon,
      heading: rng.float(0, 360),
      speed: rng.float(15, 45),
      trip: null,
      vehicle: { make, model, year: rng.int(2015, 2025), color: rng.pick(COLORS), plate: plate(rng) },
    }
  })
  const riders: Rider[] = Array.from({ length: riderCount }, () => ({
    ...person(),
    busy: false,
    payment: rng.pick(PAYMENTS),
  }))
  return { drivers, riders, near }
}

/**
 * Where the METR-LA loop detectors are: Los Angeles highways as rough polylines, and a fixed catalogue
 * placing sensor `METR_LA_nnn` on one of them. The catalogue is a pure function of the index (no
 * randomness), so a sensor id means the same highway, direction and place in every run and every app.
 */
import { metrLaSensorId } from '../../../rules/index.ts'
import type { Direction } from './types.ts'

export interface Highway {
  readonly name: string
  /** The two directions of travel as Caltrans signs them. */
  readonly directions: readonly [Direction, Direction]
  readonly lanes: readonly [min: number, max: number]
  /** Free-flow speed in mph. */
  readonly freeFlowMph: number
  /** [latitude, longitude] waypoints, all inside LA bounds (lat 33.7–34.5, lon −119 to −117). */
  readonly path: ReadonlyArray<readonly [number, number]>
}

export const LA_HIGHWAYS: readonly Highway[] = [
  {
    name: 'I-5',
    directions: ['N', 'S'],
    lanes: [4, 6],
    freeFlowMph: 65,
    path: [
      [34.38, -118.56],
      [34.2, -118.36],
      [34.06, -118.22],
      [33.87, -118.01],
    ],
  },
  {
    name: 'I-10',
    directions: ['E', 'W'],
    lanes: [4, 6],
    freeFlowMph: 65,
    path: [
      [34.02, -118.49],
      [34.03, -118.33],
      [34.03, -118.23],
      [34.07, -117.95],
      [34.07, -117.75],
    ],
  },
  {
    name: 'I-105',
    directions: ['E', 'W'],
    lanes: [3, 5],
    freeFlowMph: 65,
    path: [
      [33.93, -118.4],
      [33.92, -118.25],
      [33.91, -118.1],
    ],
  },
  {
    name: 'I-110',
    directions: ['N', 'S'],
    lanes: [4, 5],
    freeFlowMph: 60,
    path: [
      [33.74, -118.28],
      [33.93, -118.28],
      [34.05, -118.26],
      [34.11, -118.19],
    ],
  },
  {
    name: 'I-210',
    directions: ['E', 'W'],
    lanes: [4, 5],
    freeFlowMph: 65,
    path: [
      [34.31, -118.47],
      [34.2, -118.22],
      [34.15, -118.13],
      [34.13, -117.8],
    ],
  },
  {
    name: 'I-405',
    directions: ['N', 'S'],
    lanes: [4, 6],
    freeFlowMph: 65,
    path: [
      [33.8, -118.1],
      [33.93, -118.37],
      [34.07, -118.45],
      [34.28, -118.47],
    ],
  },
  {
    name: 'I-605',
    directions: ['N', 'S'],
    lanes: [4, 5],
    freeFlowMph: 65,
    path: [
      [33.78, -118.08],
      [33.95, -118.08],
      [34.13, -117.99],
    ],
  },
  {
    name: 'I-710',
    directions: ['N', 'S'],
    lanes: [3, 4],
    freeFlowMph: 55,
    path: [
      [33.77, -118.2],
      [33.93, -118.17],
      [34.07, -118.17],
    ],
  },
  {
    name: 'US-101',
    directions: ['N', 'S'],
    lanes: [4, 5],
    freeFlowMph: 65,
    path: [
      [34.06, -118.24],
      [34.14, -118.36],
      [34.17, -118.6],
      [34.15, -118.8],
    ],
  },
  {
    name: 'SR-2',
    directions: ['N', 'S'],
    lanes: [2, 3],
    freeFlowMph: 55,
    path: [
      [34.08, -118.26],
      [34.14, -118.22],
      [34.21, -118.2],
    ],
  },
  {
    name: 'SR-60',
    directions: ['E', 'W'],
    lanes: [4, 5],
    freeFlowMph: 65,
    path: [
      [34.03, -118.2],
      [34.03, -118.0],
      [34.02, -117.82],
    ],
  },
  {
    name: 'SR-91',
    directions: ['E', 'W'],
    lanes: [4, 5],
    freeFlowMph: 65,
    path: [
      [33.87, -118.3],
      [33.87, -118.15],
      [33.86, -118.02],
    ],
  },
  {
    name: 'SR-118',
    directions: ['E', 'W'],
    lanes: [3, 4],
    freeFlowMph: 65,
    path: [
      [34.27, -118.77],
      [34.27, -118.6],
      [34.28, -118.42],
    ],
  },
  {
    name: 'SR-134',
    directions: ['E', 'W'],
    lanes: [3, 4],
    freeFlowMph: 65,
    path: [
      [34.15, -118.36],
      [34.16, -118.25],
      [34.14, -118.14],
    ],
  },
  {
    name: 'SR-170',
    directions: ['N', 'S'],
    lanes: [3, 4],
    freeFlowMph: 65,
    path: [
      [34.14, -118.36],
      [34.18, -118.39],
      [34.22, -118.41],
    ],
  },
]

export interface SensorInfo {
  readonly sensor_id: string
  readonly index: number
  readonly highway: Highway
  readonly direction: Direction
  readonly lanes: number
  readonly latitude: number
  readonly longitude: number
  readonly postmile: number
}

const MILES_PER_DEGREE_LAT = 69.05
const GOLDEN = 0.6180339887498949

function pointAlong(path: Highway['path'], t: number): { lat: number; lon: number; miles: number } {
  const legs: number[] = []
  let total = 0
  for (let i = 1; i < path.length; i++) {
    const [a0, o0] = path[i - 1]!
    const [a1, o1] = path[i]!
    const dy = (a1 - a0) * MILES_PER_DEGREE_LAT
    const dx = (o1 - o0) * MILES_PER_DEGREE_LAT * Math.cos((a0 * Math.PI) / 180)
    const d = Math.hypot(dx, dy)
    legs.push(d)
    total += d
  }
  let want = t * total
  for (let i = 0; i < legs.length; i++) {
    const leg = legs[i]!
    if (want <= leg || i === legs.length - 1) {
      const f = leg === 0 ? 0 : Math.min(1, want / leg)
      const [a0, o0] = path[i]!
      const [a1, o1] = path[i + 1]!
      return { lat: a0 + (a1 - a0) * f, lon: o0 + (o1 - o0) * f, miles: t * total }
    }
    want -= leg
  }
  const [lat, lon] = path[0]!
  return { lat, lon, miles: 0 }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits

/** Sensor `index` (0-based): spread round-robin over the highways, at golden-ratio steps along each. */
export function sensorInfo(index: number): SensorInfo {
  const h = LA_HIGHWAYS[index % LA_HIGHWAYS.length]!
  const round_ = Math.floor(index / LA_HIGHWAYS.length)
  const t = ((round_ + 1) * GOLDEN) % 1
  const p = pointAlong(h.path, t)
  const [minLanes, maxLanes] = h.lanes
  return {
    sensor_id: metrLaSensorId(index),
    index,
    highway: h,
    direction: h.directions[round_ % 2]!,
    lanes: minLanes + ((index * 7) % (maxLanes - minLanes + 1)),
    latitude: round(p.lat, 6),
    longitude: round(p.lon, 6),
    postmile: round(p.miles, 2),
  }
}

/** The 207 sensors of METR-LA. */
export const METR_LA_SENSORS: readonly SensorInfo[] = Object.freeze(
  Array.from({ length: 207 }, (_, i) => sensorInfo(i)),
)

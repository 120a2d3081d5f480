/**
 * The rideshare dashboard's live map: what the bridge publishes (the GPS windows' one update per driver,
 * driver status changes, trips, surge) read off its Redis sink, kept as the latest position and status
 * per driver, and sent to the page as Server-Sent Events (up to four frames a second, only when
 * something changed). Positions go quantized to the city's bounding box (two 16-bit numbers per driver,
 * base64), at most `maxDrivers` per frame, so a fleet of 100,000 stays a few hundred KB a frame and the
 * page draws it on a canvas.
 *
 * Work happens only while someone watches (and for a minute after, so a reload keeps the picture): with
 * no page open the tap is one boolean test per message.
 */
import type { Sink } from '../../connectors/contract.ts'
import type { RedisMessage } from '../../connectors/redis/index.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { DashboardView } from '../../ops/dashboard/index.ts'
import { sseResponse } from '../../ops/dashboard/index.ts'
import { SAO_PAULO, SAO_PAULO_ZONES } from './domain/index.ts'
import { LIVE_MAP_CLIENT } from './live-map-client.ts'

/** Driver states as sent to the page (index = code). */
export const MAP_STATES = ['unknown', 'offline', 'online', 'en_route_pickup', 'on_trip'] as const

interface Dot {
  x: number
  y: number
  state: number
  seen: number
}

export interface LiveMapOptions {
  /** Drivers sent per frame at most (a stable sample beyond it). Default 100,000. */
  readonly maxDrivers?: number
  /**
   * Published messages read per second at most while someone watches (default 50,000): at 200,000
   * GPS updates a second the map then costs a bounded share of a core, and a driver whose update was
   * skipped moves on one of its next.
   */
  readonly maxReadsPerSecond?: number
  /** A driver not heard from for this long leaves the map. Default 5 min. */
  readonly forgetAfterMs?: number
  readonly frameMs?: number
  readonly now?: () => number
  /**
   * Map tiles under the drivers, an optional layer an operator configures (`OPS_MAP_TILES_URL`): a URL
   * template with {z}, {x} and {y}, e.g. a tile server inside the network. Unset: no tiles, no fetches.
   */
  readonly tiles?: string
}

/** OPS_MAP_TILES_URL, checked: an http(s) URL template with {z}, {x} and {y}. */
export function mapTilesFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const template = env.OPS_MAP_TILES_URL?.trim()
  if (!template) return undefined
  let origin: string | undefined
  try {
    origin = new URL(template.replace(/\{[zxy]\}/g, '0')).origin
  } catch {
    origin = undefined
  }
  if (
    origin === undefined ||
    !/^https?:/.test(origin) ||
    !['{z}', '{x}', '{y}'].every((p) => template.includes(p))
  ) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `OPS_MAP_TILES_URL: expected an http(s) URL template with {z}, {x} and {y}, e.g. https://tiles.example/{z}/{x}/{y}.png, got "${template}"`,
    )
  }
  return template
}

const GPS_HEAD = '{"type":"gps_ping"'
const STATUS_HEAD = '{"type":"driver_status"'
const TRIP_HEAD = '{"type":"trip"'
const SURGE_HEAD = '{"type":"surge_update"'
const LINGER_MS = 60_000
const MAX_PENDING = 2000

function numberAfter(text: string, field: string, from: number): number {
  const i = text.indexOf(field, from)
  // parseFloat stops at the first character that is not part of the number.
  return i < 0 ? Number.NaN : Number.parseFloat(text.slice(i + field.length, i + field.length + 24))
}

export class LiveMap {
  readonly #drivers = new Map<string, Dot>()
  readonly #states = new Map<string, number>()
  readonly #surge = new Map<string, number>()
  readonly #pending = new Map<string, { x: number; y: number }>()
  readonly #trips = new Map<string, number>()
  readonly #o: Required<Omit<LiveMapOptions, 'tiles'>> & { tiles: string | undefined }
  #watchers = 0
  #lingerUntil = 0
  #pings = 0
  /** Bumped by every change, so a frame is built once per change and sent only to who has not seen it. */
  #version = 0
  #built: { version: number; text: string } | undefined
  #lastForget = 0
  /** Reads left until the next refill (a quarter of a second's worth, refilled by the frame timer). */
  #reads = 0
  #refilled = Number.NEGATIVE_INFINITY

  constructor(options: LiveMapOptions = {}) {
    this.#o = {
      maxDrivers: options.maxDrivers ?? 100_000,
      maxReadsPerSecond: options.maxReadsPerSecond ?? 50_000,
      forgetAfterMs: options.forgetAfterMs ?? 5 * 60_000,
      frameMs: options.frameMs ?? 250,
      now: options.now ?? Date.now,
      tiles: options.tiles,
    }
  }

  /** The sink as the pipeline sees it, observed on the way through. */
  tap(sink: Sink<RedisMessage>): Sink<RedisMessage> {
    return {
      id: sink.id,
      open: () => sink.open(),
      add: (item) => {
        if (
          (this.#watchers > 0 || (this.#lingerUntil !== 0 && this.#lingering())) &&
          typeof item.message === 'string' &&
          this.#reads-- > 0
        )
          this.observe(item.message)
        return sink.add(item)
      },
      flush: () => sink.flush(),
      backlog: () => sink.backlog(),
      close: () => sink.close(),
      status: () => sink.status(),
    }
  }

  /** Still within a minute of the last page leaving; once past, no clock is read per message. */
  #lingering(): boolean {
    if (this.#lingerUntil > this.#o.now()) return true
    this.#lingerUntil = 0
    return false
  }

  #xy(lat: number, lon: number): { x: number; y: number } | undefined {
    const b = SAO_PAULO.bounds
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) return undefined
    const x = Math.round(((lon - b.minLon) / (b.maxLon - b.minLon)) * 65535)
    const y = Math.round(((b.maxLat - lat) / (b.maxLat - b.minLat)) * 65535)
    return { x: Math.min(65535, Math.max(0, x)), y: Math.min(65535, Math.max(0, y)) }
  }

  /** One published message (the bridge's JSON text). */
  observe(message: string): void {
    if (message.startsWith(GPS_HEAD)) {
      // The hot path: no JSON.parse, three field lookups in the text.
      // Pings are keyed by driver_id; an unkeyed one names its driver in the payload.
      let k = message.indexOf('"key":"')
      let at = k + 7
      if (k < 0) {
        k = message.indexOf('"driver_id":"')
        at = k + 13
      }
      if (k < 0) return
      const driver = message.slice(at, message.indexOf('"', at))
      const data = message.indexOf('"data":')
      const p = this.#xy(numberAfter(message, '"lat":', data), numberAfter(message, '"lon":', data))
      if (p === undefined) return
      this.#pings++
      this.#version++
      const dot = this.#drivers.get(driver)
      const now = this.#o.now()
      if (dot === undefined)
        this.#drivers.set(driver, { ...p, state: this.#states.get(driver) ?? 0, seen: now })
      else {
        dot.x = p.x
        dot.y = p.y
        dot.seen = now
      }
      return
    }
    this.#version++
    if (message.startsWith(STATUS_HEAD)) this.#status(message)
    else if (message.startsWith(TRIP_HEAD)) this.#trip(message)
    else if (message.startsWith(SURGE_HEAD)) this.#surgeUpdate(message)
  }

  #data(message: string): Record<string, unknown> | undefined {
    try {
      const parsed = JSON.parse(message) as { data?: unknown }
      return typeof parsed.data === 'object' && parsed.data !== null
        ? (parsed.data as Record<string, unknown>)
        : undefined
    } catch {
      return undefined
    }
  }

  #status(message: string): void {
    const d = this.#data(message)
    if (d === undefined || typeof d.driver_id !== 'string') return
    const state = Math.max(0, MAP_STATES.indexOf(String(d.new_status) as (typeof MAP_STATES)[number]))
    this.#states.set(d.driver_id, state)
    const dot = this.#drivers.get(d.driver_id)
    if (dot !== undefined) dot.state = state
  }

  #trip(message: string): void {
    const d = this.#data(message)
    if (d === undefined || typeof d.trip_id !== 'string') return
    const status = String(d.status)
    if (status === 'requested') {
      const pickup = d.pickup as { lat?: unknown; lon?: unknown } | undefined
      const p = pickup && this.#xy(Number(pickup.lat), Number(pickup.lon))
      if (p !== undefined && this.#pending.size < MAX_PENDING) this.#pending.set(d.trip_id, p)
    } else this.#pending.delete(d.trip_id)
    this.#trips.set(status, (this.#trips.get(status) ?? 0) + 1)
  }

  #surgeUpdate(message: string): void {
    const d = this.#data(message)
    if (d === undefined || typeof d.zone_id !== 'string') return
    const m = Number(d.new_multiplier)
    if (Number.isFinite(m)) this.#surge.set(d.zone_id, m)
  }

  /** The current frame for the page (JSON text), built at most once per change. */
  frame(): string {
    const now = this.#o.now()
    if (now - this.#refilled >= 250) {
      this.#refilled = now
      this.#reads = Math.ceil(this.#o.maxReadsPerSecond / 4)
    }
    if (now - this.#lastForget >= Math.min(5000, this.#o.forgetAfterMs)) {
      this.#lastForget = now
      const forget = now - this.#o.forgetAfterMs
      for (const [id, dot] of this.#drivers) {
        if (dot.seen >= forget) continue
        this.#drivers.delete(id)
        this.#version++
      }
    }
    if (this.#built?.version === this.#version) return this.#built.text
    const total = this.#drivers.size
    const stride = Math.max(1, Math.ceil(total / this.#o.maxDrivers))
    const shown = Math.ceil(total / stride)
    const xy = new Uint16Array(shown * 2)
    const states = new Uint8Array(shown)
    let i = 0
    let n = 0
    for (const dot of this.#drivers.values()) {
      if (n++ % stride !== 0 || i >= shown) continue
      xy[i * 2] = dot.x
      xy[i * 2 + 1] = dot.y
      states[i] = dot.state
      i++
    }
    const pending = [...this.#pending.values()].map((p) => [p.x, p.y])
    const text = JSON.stringify({
      time: now,
      total,
      shown: i,
      pings: this.#pings,
      xy: Buffer.from(xy.buffer, 0, i * 4).toString('base64'),
      states: Buffer.from(states.buffer, 0, i).toString('base64'),
      pending,
      trips: Object.fromEntries(this.#trips),
      surge: Object.fromEntries(this.#surge),
    })
    this.#built = { version: this.#version, text }
    return text
  }

  /** The dashboard tab: the city's box and zones from the app's own data, no map tiles needed. */
  view(): DashboardView {
    const b = SAO_PAULO.bounds
    const zones = SAO_PAULO_ZONES.map((z) => {
      const p = this.#xy(z.lat, z.lon)!
      return { id: z.zone_id, name: z.name, x: p.x, y: p.y }
    })
    const tiles = this.#o.tiles
    const city = { name: SAO_PAULO.name, bounds: b, zones, states: MAP_STATES, tiles: tiles ?? null }
    return {
      id: 'map',
      title: 'Live map',
      script: `var CITY = ${JSON.stringify(city)};\n${LIVE_MAP_CLIENT}`,
      ...(tiles !== undefined && { imageOrigins: [new URL(tiles.replace(/\{[zxy]\}/g, '0')).origin] }),
      routes: [
        {
          method: 'GET',
          path: '/views/map/live',
          handler: () => {
            let sent = -1
            return sseResponse({
              intervalMs: this.#o.frameMs,
              // Nothing new since this client's last frame: nothing to send.
              frame: () => {
                const text = this.frame()
                if (this.#version === sent) return undefined
                sent = this.#version
                return text
              },
              onOpen: () => {
                this.#watchers++
              },
              onClose: () => {
                this.#watchers--
                this.#lingerUntil = this.#o.now() + LINGER_MS
              },
            })
          },
        },
      ],
    }
  }
}

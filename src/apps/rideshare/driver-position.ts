import type { TopicPartition } from '../../core/record.ts'
import { mine } from '../../dsl/operators/aggregate.ts'
import type { AnyRecord, Processor, ProcessorInit } from '../../runtime/processor.ts'
import { StateStores } from '../../state/changelog.ts'
import { encodeKey } from '../../state/keys.ts'
import { type QueryableStore, stateStoresView } from '../../state/query.ts'
import type { DriverState } from './domain/index.ts'
import type { JsonText } from './json-text.ts'

/** The store's name: `GET /state/driver-position/<driver id>`. */
export const DRIVER_POSITION_STORE = 'driver-position'

export interface DriverPositionOptions {
  readonly name: string
  /** The GPS and driver-status topics as read (with their prefix); either may be absent. */
  readonly gpsTopic: string | undefined
  readonly statusTopic: string | undefined
  /** The changelog topic (durable, restored on assignment like any other state). */
  readonly changelog: string
}

/**
 * One driver's last known position and status, kept small (100,000 drivers are ~100 bytes each in
 * the changelog): short field names, times as epoch ms. `presentDriver` gives the readable shape.
 */
interface Slot {
  lat: number
  lon: number
  /** Heading and speed (km/h) of the last ping; null when the position came from a status change. */
  h: number | null
  s: number | null
  /** Trip served at the last ping. */
  trip: string | null
  /** Event time of the position. */
  at: number
  status: DriverState | null
  /** Event time of the status. */
  sat: number | null
}

/** What `GET /state/driver-position/<id>` returns. */
export interface DriverPosition {
  readonly driver_id: string
  readonly lat: number
  readonly lon: number
  readonly heading: number | null
  readonly speed: number | null
  readonly trip_id: string | null
  /** When the driver was there (ISO-8601 UTC). */
  readonly position_at: string
  /** offline, online, en_route_pickup, on_trip; null until a driver_status event is seen. */
  readonly status: DriverState | null
  readonly status_at: string | null
}

/**
 * Seed 000's map frontend loads the fleet on connect, then follows Redis: this keeps the last position
 * (from `gps_pings`, and from `driver_status`, which carries one too) and the last status per driver,
 * newest event time wins (a late ping does not move a driver back; equal times keep the first). Durable like every other state
 * (changelog `rideshare-driver-position-changelog`, restored when a partition is assigned); both topics
 * are keyed by driver_id and assigned together (co-partitioned), so partition p of the store has one
 * owner. It emits nothing and never fails a record: the pass-through and GPS handlers already check
 * and dead-letter what is unusable, and a record must not be dead-lettered twice.
 */
export class DriverPositionStore implements Processor {
  readonly name: string
  readonly #o: DriverPositionOptions
  readonly #state: StateStores<Slot>
  readonly #sources: ReadonlySet<string>
  #view: QueryableStore | undefined

  constructor(options: DriverPositionOptions) {
    this.name = options.name
    this.#o = options
    this.#state = new StateStores({
      operator: options.name,
      changelog: options.changelog,
      signature: 'driver-position:1',
    })
    this.#sources = new Set([options.gpsTopic, options.statusTopic].filter((t) => t !== undefined))
  }

  async init(init: ProcessorInit): Promise<void> {
    this.#state.init(init)
    const { gpsTopic, statusTopic } = this.#o
    if (gpsTopic === undefined || statusTopic === undefined || init.partitionCount === undefined) return
    const [gps, status] = await Promise.all([init.partitionCount(gpsTopic), init.partitionCount(statusTopic)])
    // Partition p of the store holds the drivers of partition p of both topics: only right when they match.
    if (gps > 0 && status > 0 && gps !== status)
      init.logger.warn(
        "driver-position: gps_pings and driver_status have different partition counts; a driver's position and status may be kept apart",
        {
          [gpsTopic]: gps,
          [statusTopic]: status,
        },
      )
  }

  process(record: AnyRecord): void {
    const value = (record.value as JsonText).value as Record<string, unknown> | null
    if (value === null || typeof value !== 'object') return
    const driver = value.driver_id
    const lat = value.lat
    const lon = value.lon
    if (typeof driver !== 'string' || driver === '' || typeof lat !== 'number' || typeof lon !== 'number')
      return
    // No replay bookkeeping (offsets per record, a metadata record per flush): a newer event time is
    // the only thing that changes a slot, so a record read again after a restore changes nothing.
    const store = this.#state.open(record.partition)
    const k = encodeKey(driver)
    const at = eventTime(value.timestamp, record.timestamp)
    // Changed in place: the changelog serialises the slot at the next flush.
    const slot: Slot = store.get(k) ?? {
      lat,
      lon,
      h: null,
      s: null,
      trip: null,
      at: Number.NEGATIVE_INFINITY,
      status: null,
      sat: null,
    }
    let changed = false
    if (at > slot.at) {
      const ping = record.topic === this.#o.gpsTopic
      slot.lat = lat
      slot.lon = lon
      slot.h = ping && typeof value.heading === 'number' ? value.heading : null
      slot.s = ping && typeof value.speed === 'number' ? value.speed : null
      slot.trip = ping ? (typeof value.trip_id === 'string' ? value.trip_id : null) : slot.trip
      slot.at = at
      changed = true
    }
    if (
      record.topic === this.#o.statusTopic &&
      typeof value.new_status === 'string' &&
      at > (slot.sat ?? Number.NEGATIVE_INFINITY)
    ) {
      slot.status = value.new_status as DriverState
      slot.sat = at
      changed = true
    }
    if (changed) store.put(k, slot)
  }

  async assigned(partitions: readonly TopicPartition[]): Promise<void> {
    for (const p of mine(partitions, this.#sources))
      if (this.#state.get(p) === undefined) await this.#state.restore(p)
  }

  revoked(partitions: readonly TopicPartition[]): void {
    for (const p of mine(partitions, this.#sources)) {
      const store = this.#state.get(p)
      if (store === undefined) continue
      this.#state.flush([store])
      this.#state.drop(p)
    }
  }

  flushState(): void {
    this.#state.flush()
  }

  stores(): readonly QueryableStore[] {
    this.#view ??= stateStoresView(DRIVER_POSITION_STORE, this.#state, false, (slot) => slot)
    const view = this.#view
    // The driver id is the state key; the view hands out the slot, shown with readable names.
    return [
      {
        ...view,
        get(key) {
          const r = view.get(key)
          return r.state === 'found' ? { state: 'found', value: presentDriver(key, r.value as Slot) } : r
        },
        range(q) {
          const page = view.range(q)
          return {
            ...page,
            entries: page.entries.map((e) => ({ key: e.key, value: presentDriver(e.key, e.value as Slot) })),
          }
        },
      },
    ]
  }

  close(): void {
    this.#state.close()
  }
}

export function presentDriver(driver: string, slot: Slot): DriverPosition {
  return {
    driver_id: driver,
    lat: slot.lat,
    lon: slot.lon,
    heading: slot.h,
    speed: slot.s,
    trip_id: slot.trip,
    position_at: new Date(slot.at).toISOString(),
    status: slot.status,
    status_at: slot.sat === null ? null : new Date(slot.sat).toISOString(),
  }
}

/** The event's own time (the payload's ISO timestamp), else the record's. */
function eventTime(text: unknown, fallback: number): number {
  const t = typeof text === 'string' ? Date.parse(text) : Number.NaN
  return Number.isFinite(t) ? t : fallback
}

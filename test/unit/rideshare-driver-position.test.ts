/**
 * Seed 000's driver-position store through the TestDriver (virtual clock, in-process broker): the last
 * position and status per driver, newest event time wins, restored from its changelog.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { DriverStatusEvent, GpsPing } from '../../src/apps/rideshare/domain/index.ts'
import { ridesharePipeline } from '../../src/apps/rideshare/pipeline.ts'
import type { ConnectorStatus, Sink } from '../../src/connectors/contract.ts'
import { MemoryBroker } from '../../src/connectors/memory/index.ts'
import type { RedisMessage } from '../../src/connectors/redis/index.ts'
import { queryableStores } from '../../src/state/query.ts'
import { TestDriver } from '../../src/testing/driver.ts'

const T0 = Date.UTC(2026, 0, 1)
const iso = (ms: number) => new Date(T0 + ms).toISOString()

/** Redis stands in as a sink that accepts everything (the store is what is tested here). */
const nowhere: Sink<RedisMessage> = {
  id: 'nowhere',
  open: async () => {},
  add: () => {},
  flush: async () => {},
  backlog: () => 0,
  close: async () => {},
  status: (): ConnectorStatus => ({ connected: true }),
}

function bridge(broker = new MemoryBroker(), driverPosition = true) {
  const p = ridesharePipeline({
    topics: ['gps_pings', 'trips', 'driver_status'],
    windowSizeMs: 100,
    strategy: 'latest',
    sampleRate: 10,
    sink: nowhere,
    driverPosition,
  })
  return new TestDriver(p, { startTime: T0, broker })
}

function ping(driver: string, atMs: number, lat: number, trip: string | null = null): GpsPing {
  return {
    event_id: `gps-${driver}-${atMs}`,
    driver_id: driver,
    trip_id: trip,
    lat,
    lon: -46.63,
    heading: 90,
    speed: 30,
    accuracy: 5,
    timestamp: iso(atMs),
  }
}

function status(driver: string, atMs: number, next: DriverStatusEvent['new_status']): DriverStatusEvent {
  return {
    event_id: `st-${driver}-${atMs}`,
    driver_id: driver,
    previous_status: null,
    new_status: next,
    trigger: 'shift_start',
    lat: -23.5,
    lon: -46.6,
    timestamp: iso(atMs),
  }
}

const positionOf = (driver: TestDriver, id: string) =>
  queryableStores(driver.task.graph.processors).get('driver-position')?.get(id)

describe('rideshare: the driver-position store (GET /state/driver-position/<id>)', () => {
  it('keeps the newest position and status per driver; a late ping does not move a driver back', async () => {
    const driver = bridge()
    const gps = driver.input<GpsPing>('gps_pings')
    const st = driver.input<DriverStatusEvent>('driver_status')
    st.pipe(status('d1', 0, 'online'), { key: 'd1' })
    gps.pipe(ping('d1', 1000, -23.51), { key: 'd1' })
    gps.pipe(ping('d1', 3000, -23.53, 't-9'), { key: 'd1' })
    gps.pipe(ping('d1', 2000, -23.52), { key: 'd1' }) // late: older than the one before
    st.pipe(status('d1', 2500, 'on_trip'), { key: 'd1' }) // newer status, older position: status only
    gps.pipe(ping('d2', 1000, -23.6), { key: 'd2' })
    await driver.settle()
    assert.deepEqual(positionOf(driver, 'd1'), {
      state: 'found',
      value: {
        driver_id: 'd1',
        lat: -23.53,
        lon: -46.63,
        heading: 90,
        speed: 30,
        trip_id: 't-9',
        position_at: iso(3000),
        status: 'on_trip',
        status_at: iso(2500),
      },
    })
    const d2 = positionOf(driver, 'd2')
    assert.equal(d2?.state === 'found' && (d2.value as { status: unknown }).status, null)
    assert.deepEqual(positionOf(driver, 'd3'), { state: 'missing' })
    // Nothing is dead-lettered by the store, even for a record it cannot use.
    st.pipe({ driver_id: 'd4' } as unknown as DriverStatusEvent, { key: 'd4' })
    await driver.settle()
    assert.deepEqual(positionOf(driver, 'd4'), { state: 'missing' })
    assert.equal(driver.deadLetters().length, 0)
    await driver.close()
  })

  it('is durable: a new instance restores every driver from the changelog', async () => {
    const broker = new MemoryBroker()
    const first = bridge(broker)
    const gps = first.input<GpsPing>('gps_pings')
    for (let i = 0; i < 50; i++) gps.pipe(ping(`d${i}`, 1000 + i, -23 - i / 100), { key: `d${i}` })
    first.input<DriverStatusEvent>('driver_status').pipe(status('d7', 5000, 'offline'), { key: 'd7' })
    await first.close()
    assert.ok(broker.all('rideshare-driver-position-changelog').length >= 50)

    const second = bridge(broker)
    await second.init()
    const d7 = positionOf(second, 'd7')
    assert.equal(d7?.state, 'found')
    assert.deepEqual(
      {
        status: (d7 as { value: { status: string } }).value.status,
        lat: (d7 as { value: { lat: number } }).value.lat,
      },
      { status: 'offline', lat: -23.5 },
    )
    const page = queryableStores(second.task.graph.processors).get('driver-position')?.range({ limit: 1000 })
    assert.equal(page?.entries.length, 50)
    await second.close()
  })

  it('PROCESSOR_DRIVER_POSITION=false: no store, no changelog', () => {
    const p = ridesharePipeline({
      topics: ['gps_pings', 'driver_status'],
      windowSizeMs: 100,
      strategy: 'latest',
      sampleRate: 10,
      sink: nowhere,
      driverPosition: false,
    })
    assert.deepEqual(
      p.topology.topics().filter((t) => t.role === 'internal'),
      [],
    )
  })
})

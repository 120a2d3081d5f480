import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  channelFor,
  DEFAULT_PROCESSOR_TOPICS,
  type GpsPing,
  isRideshareTopic,
  RIDESHARE_TOPICS,
  SAO_PAULO_ZONES,
  TOPIC_ROUTES,
  toBridgeMessage,
  zoneOf,
} from '../../src/apps/rideshare/domain/index.ts'

describe('rideshare topic routing', () => {
  it("is seed 000's table exactly", () => {
    const table = RIDESHARE_TOPICS.map((t) => [t, TOPIC_ROUTES[t].channel, TOPIC_ROUTES[t].handler])
    assert.deepEqual(table, [
      ['gps_pings', 'driver-updates', 'GPSHandler'],
      ['trips', 'trip-updates', 'TripHandler'],
      ['driver_status', 'driver-updates', 'DriverStatusHandler'],
      ['surge_updates', 'surge_updates', 'SurgeHandler'],
      ['driver_profiles', 'driver-updates', 'DriverProfileHandler'],
      ['rider_profiles', 'rider-updates', 'RiderProfileHandler'],
    ])
    assert.equal(channelFor('surge_updates'), 'surge_updates')
  })

  it('only GPS pings are windowed', () => {
    assert.deepEqual(
      RIDESHARE_TOPICS.filter((t) => TOPIC_ROUTES[t].mode === 'windowed'),
      ['gps_pings'],
    )
  })

  it('defaults to the four topics of PROCESSOR_TOPICS', () => {
    assert.deepEqual(DEFAULT_PROCESSOR_TOPICS, ['gps_pings', 'trips', 'driver_status', 'surge_updates'])
  })

  it('gives each topic sharing a channel its own message type', () => {
    const types = RIDESHARE_TOPICS.map((t) => TOPIC_ROUTES[t].type)
    assert.equal(new Set(types).size, types.length)
  })

  it('recognises its topics', () => {
    assert.ok(isRideshareTopic('trips'))
    assert.ok(!isRideshareTopic('toString'))
  })
})

describe('bridge message', () => {
  it('carries type, topic, key, the payload unchanged and the record time', () => {
    const ping: GpsPing = {
      event_id: 'e1',
      driver_id: 'd1',
      trip_id: null,
      lat: -23.55,
      lon: -46.63,
      heading: 90,
      speed: 30,
      accuracy: 5,
      timestamp: '2025-01-29T00:00:00.000Z',
    }
    const msg = toBridgeMessage('gps_pings', ping, { key: 'd1', timestamp: 1738108800000 })
    assert.deepEqual(msg, {
      type: 'gps_ping',
      topic: 'gps_pings',
      key: 'd1',
      data: ping,
      timestamp: 1738108800000,
    })
    assert.equal(msg.data, ping)
    assert.deepEqual(JSON.parse(JSON.stringify(msg)), msg)
  })

  it('uses a null key when there is none', () => {
    const msg = toBridgeMessage('surge_updates', {} as never, { timestamp: 0 })
    assert.equal(msg.key, null)
    assert.equal(msg.type, 'surge_update')
  })
})

describe('São Paulo zones', () => {
  it('finds the zone whose centre is nearest', () => {
    for (const z of SAO_PAULO_ZONES) assert.equal(zoneOf(z.lat, z.lon), z)
    assert.equal(zoneOf(-23.5672, -46.6932).zone_id, 'pinheiros')
  })
})

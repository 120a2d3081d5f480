import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DRIVER_STATES,
  type GpsPing,
  RIDESHARE_TOPICS,
  SAO_PAULO,
  TOPIC_ROUTES,
} from '../../src/apps/rideshare/domain/index.ts'
import { rideshareGenerator } from '../../src/generators/index.ts'

const T0 = Date.parse('2025-01-29T12:00:00Z')
const M_PER_DEG = 111_320

function metres(a: GpsPing, b: GpsPing): number {
  const dy = (b.lat - a.lat) * M_PER_DEG
  const dx = (b.lon - a.lon) * M_PER_DEG * Math.cos((a.lat * Math.PI) / 180)
  return Math.hypot(dx, dy)
}

describe('rideshareGenerator', () => {
  const records = rideshareGenerator({ seed: 7, drivers: 40, riders: 150, now: () => T0 }).take(150_000)

  it('is deterministic for a seed and clock', () => {
    const a = rideshareGenerator({ seed: 1, now: () => T0 }).take(5000)
    const b = rideshareGenerator({ seed: 1, now: () => T0 }).take(5000)
    assert.deepEqual(a, b)
    assert.notDeepEqual(a, rideshareGenerator({ seed: 2, now: () => T0 }).take(5000))
  })

  it('emits all six topics, GPS pings dominating', () => {
    const counts = new Map<string, number>()
    for (const r of records) counts.set(r.topic, (counts.get(r.topic) ?? 0) + 1)
    assert.deepEqual([...counts.keys()].sort(), [...RIDESHARE_TOPICS].sort())
    const gps = counts.get('gps_pings')! / records.length
    assert.ok(gps > 0.8 && gps < 0.98, `gps share ${gps}`)
    for (const t of RIDESHARE_TOPICS)
      if (t !== 'gps_pings') assert.ok(counts.get(t)! < counts.get('gps_pings')! / 10, t)
  })

  it('keys every record by its entity id', () => {
    for (const r of records) {
      const v = r.value as unknown as Record<string, string>
      const id = {
        gps_pings: v.driver_id,
        trips: v.trip_id,
        driver_status: v.driver_id,
        surge_updates: v.zone_id,
        driver_profiles: v.driver_id,
        rider_profiles: v.rider_id,
      }[r.topic]
      assert.equal(r.key, id)
      assert.equal(v.timestamp, new Date(T0).toISOString())
      assert.ok(r.topic in TOPIC_ROUTES)
    }
  })

  it('moves drivers smoothly: consecutive pings of a driver are a few tens of metres apart', () => {
    const last = new Map<string, GpsPing>()
    let steps = 0
    for (const r of records) {
      if (r.topic !== 'gps_pings') continue
      const p = r.value
      const prev = last.get(p.driver_id)
      if (prev !== undefined) {
        const d = metres(prev, p)
        assert.ok(d <= 60 * 1.01, `jump of ${d} m`)
        steps++
      }
      last.set(p.driver_id, p)
      assert.ok(p.heading >= 0 && p.heading < 360)
      assert.ok(p.speed >= 0 && p.speed <= 60)
    }
    assert.ok(steps > 100_000)
  })

  it('keeps drivers in and around São Paulo', () => {
    const { minLat, maxLat, minLon, maxLon } = SAO_PAULO.bounds
    for (const r of records) {
      if (r.topic !== 'gps_pings') continue
      assert.ok(r.value.lat > minLat - 0.02 && r.value.lat < maxLat + 0.02, `${r.value.lat}`)
      assert.ok(r.value.lon > minLon - 0.02 && r.value.lon < maxLon + 0.02, `${r.value.lon}`)
    }
  })

  it('runs trips through their lifecycle in order', () => {
    const ORDER = ['requested', 'matched', 'driver_arrived', 'started', 'completed']
    const seen = new Map<string, string[]>()
    for (const r of records)
      if (r.topic === 'trips') seen.set(r.key, [...(seen.get(r.key) ?? []), r.value.status])
    let completed = 0
    for (const statuses of seen.values()) {
      const upTo = statuses.filter((s) => s !== 'cancelled')
      assert.deepEqual(upTo, ORDER.slice(0, upTo.length), statuses.join(' → '))
      if (statuses.includes('cancelled')) assert.equal(statuses.at(-1), 'cancelled')
      if (statuses.at(-1) === 'completed') completed++
    }
    assert.ok(completed > 20, `${completed} completed trips`)
  })

  it('follows a match with the driver going en route, with a consistent status chain', () => {
    const status = new Map<string, string>()
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      if (r.topic === 'trips' && r.value.status === 'matched') {
        const next = records[i + 1]!
        assert.equal(next.topic, 'driver_status')
        assert.ok(
          next.topic === 'driver_status' &&
            next.value.new_status === 'en_route_pickup' &&
            next.value.driver_id === r.value.driver_id,
        )
      }
      if (r.topic === 'driver_status') {
        assert.ok(DRIVER_STATES.includes(r.value.new_status))
        const prev = status.get(r.key)
        if (prev !== undefined) assert.equal(r.value.previous_status, prev)
        status.set(r.key, r.value.new_status)
      }
    }
  })

  it('publishes a profile as created first, then updated', () => {
    const seen = new Set<string>()
    for (const r of records) {
      if (r.topic !== 'driver_profiles' && r.topic !== 'rider_profiles') continue
      const created = r.value.event_type.endsWith('.created')
      assert.equal(created, !seen.has(r.key), r.key)
      seen.add(r.key)
      assert.match(r.value.phone, /^\+55119\d{8}$/)
      assert.match(r.value.email, /^[a-z._]+\d*@/)
    }
  })

})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LA_HIGHWAYS, type MetrLaRecord } from '../../src/apps/traffic/domain/index.ts'
import { WeirError } from '../../src/core/errors.ts'
import { createRng, pacificHour, TRAFFIC_DEFECTS, trafficGenerator } from '../../src/generators/index.ts'
import { LA_BOUNDS } from '../../src/rules/index.ts'

/** 2025-06-03 at the given Pacific (UTC−8) hour. */
const at = (hour: number) => Date.UTC(2025, 5, 3, hour + 8)

function meanSpeed(hour: number): number {
  const rs = trafficGenerator({ seed: 5, now: () => at(hour) }).take(2070)
  return rs.reduce((s, r) => s + (r.value as MetrLaRecord).traffic_data.speed_mph, 0) / rs.length
}

describe('trafficGenerator', () => {
  it('is deterministic for a seed and clock, and differs across seeds', () => {
    const a = trafficGenerator({ seed: 42, invalidShare: 0.1, now: () => at(8) }).take(3000)
    const b = trafficGenerator({ seed: 42, invalidShare: 0.1, now: () => at(8) }).take(3000)
    const c = trafficGenerator({ seed: 43, invalidShare: 0.1, now: () => at(8) }).take(3000)
    assert.deepEqual(a, b)
    assert.notDeepEqual(a, c)
  })

  it('polls METR_LA_000 … METR_LA_206 round-robin, keyed by sensor', () => {
    const rs = trafficGenerator({ seed: 1, now: () => at(12) }).take(414)
    assert.equal(rs[0]!.key, 'METR_LA_000')
    assert.equal(rs[206]!.key, 'METR_LA_206')
    assert.equal(rs[207]!.key, 'METR_LA_000')
    assert.equal(new Set(rs.map((r) => r.key)).size, 207)
    for (const r of rs) assert.equal(r.topic, 'traffic-raw')
  })

  it('honours a smaller sensor count', () => {
    const keys = new Set(
      trafficGenerator({ seed: 1, sensors: 10 })
        .take(100)
        .map((r) => r.key),
    )
    assert.equal(keys.size, 10)
  })

  it('produces realistic, in-bounds values on real LA highways', () => {
    const names = new Set(LA_HIGHWAYS.map((h) => h.name))
    for (const r of trafficGenerator({ seed: 2, now: () => at(17) }).take(2000)) {
      const v = r.value as MetrLaRecord
      assert.ok(names.has(v.location.highway))
      assert.ok(['N', 'S', 'E', 'W'].includes(v.location.direction))
      const { latitude, longitude } = v.location.coordinates!
      assert.ok(latitude >= LA_BOUNDS.minLat && latitude <= LA_BOUNDS.maxLat)
      assert.ok(longitude >= LA_BOUNDS.minLon && longitude <= LA_BOUNDS.maxLon)
      assert.ok(v.traffic_data.speed_mph >= 0 && v.traffic_data.speed_mph <= 120)
      assert.ok(
        v.traffic_data.volume_vehicles_per_hour >= 0 && v.traffic_data.volume_vehicles_per_hour <= 10_000,
      )
      assert.ok(v.traffic_data.occupancy! >= 0 && v.traffic_data.occupancy! <= 100)
      assert.ok(Number.isInteger(v.traffic_data.volume_vehicles_per_hour))
    }
  })

  it('slows down in the rush hours', () => {
    const night = meanSpeed(3)
    const morning = meanSpeed(8)
    const noon = meanSpeed(12)
    const evening = meanSpeed(17)
    assert.ok(morning < noon * 0.8, `morning ${morning} vs noon ${noon}`)
    assert.ok(evening < noon * 0.8, `evening ${evening} vs noon ${noon}`)
    assert.ok(night > noon, `night ${night} vs noon ${noon}`)
  })

  it('stamps event times just behind the clock, strictly increasing per sensor', () => {
    const t = at(9)
    const rs = trafficGenerator({ seed: 3, sensors: 5, now: () => t }).take(5000)
    const last = new Map<string, number>()
    for (const r of rs) {
      const ts = Date.parse((r.value as MetrLaRecord).timestamp)
      assert.ok(ts <= t + 60_000 && ts >= t - 2000)
      assert.ok(ts > (last.get(r.key) ?? Number.NEGATIVE_INFINITY))
      last.set(r.key, ts)
      assert.equal(r.timestamp, t)
    }
  })

  it('spoils about the requested share, with every kind and a field', () => {
    const rs = trafficGenerator({ seed: 4, invalidShare: 0.1 }).take(20_000)
    const bad = rs.filter((r) => r.defect !== undefined)
    assert.ok(Math.abs(bad.length / rs.length - 0.1) < 0.01, `${bad.length}`)
    const kinds = new Map<string, number>()
    for (const r of bad) kinds.set(r.defect!.kind, (kinds.get(r.defect!.kind) ?? 0) + 1)
    assert.deepEqual([...kinds.keys()].sort(), [...TRAFFIC_DEFECTS].sort())
    for (const n of kinds.values()) assert.ok(n > 200)
  })

  it('makes each kind of defect as its name says', () => {
    const t = at(10)
    const g = trafficGenerator({ seed: 6, invalidShare: 1, now: () => t })
    for (const r of g.take(3000)) {
      const v = r.value as Record<string, Record<string, unknown>>
      const td = v.traffic_data!
      switch (r.defect!.kind) {
        case 'missing_field': {
          const [a, b] = r.defect!.field.split('.') as [string, string?]
          assert.equal(b === undefined ? v[a] : v[a]![b], undefined)
          break
        }
        case 'speed_out_of_range':
          assert.ok((td.speed_mph as number) > 120 || (td.speed_mph as number) < 0)
          break
        case 'negative_volume':
          assert.ok((td.volume_vehicles_per_hour as number) < 0)
          break
        case 'future_timestamp':
          assert.ok(Date.parse(v.timestamp as unknown as string) >= t + 3_600_000)
          break
        case 'stale_timestamp':
          assert.ok(Date.parse(v.timestamp as unknown as string) < t - 600 * 86_400_000)
          break
        case 'wrong_type':
          assert.equal(
            typeof (r.defect!.field.endsWith('speed_mph') ? td.speed_mph : td.volume_vehicles_per_hour),
            'string',
          )
          break
      }
    }
  })

  it('can be limited to some defect kinds', () => {
    const kinds = new Set(
      trafficGenerator({ seed: 1, invalidShare: 1, defects: ['negative_volume'] })
        .take(100)
        .map((r) => r.defect?.kind),
    )
    assert.deepEqual([...kinds], ['negative_volume'])
  })

  it('refuses bad options', () => {
    assert.throws(() => trafficGenerator({ invalidShare: 1.5 }), WeirError)
    assert.throws(() => trafficGenerator({ sensors: 0 }), WeirError)
    assert.throws(() => trafficGenerator({ invalidShare: 0.5, defects: [] }), WeirError)
  })

})

describe('pacificHour and the RNG', () => {
  it('reads the Pacific hour of a timestamp', () => {
    assert.equal(pacificHour(at(8)), 8)
    assert.equal(pacificHour(Date.UTC(2025, 0, 1, 7, 30)), 23.5)
  })

  it('draws the same sequence for the same seed, in range', () => {
    const a = createRng(9)
    const b = createRng(9)
    for (let i = 0; i < 1000; i++) {
      const x = a.next()
      assert.equal(x, b.next())
      assert.ok(x >= 0 && x < 1)
    }
    assert.match(createRng(1).uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

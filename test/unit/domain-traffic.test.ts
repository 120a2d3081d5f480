import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  addTrafficEvent,
  emptyTrafficWindow,
  flattenMetrLa,
  LA_HIGHWAYS,
  METR_LA_SENSORS,
  type MetrLaRecord,
  mergeTrafficWindows,
  TRAFFIC_RULE_IDS,
  TRAFFIC_WINDOW_MS,
  trafficWindowResult,
  trafficWindowStart,
  validateTraffic,
} from '../../src/apps/traffic/domain/index.ts'
import { TRAFFIC_DEFECTS, type TrafficDefect, trafficGenerator } from '../../src/generators/index.ts'
import { compileRules, LA_BOUNDS, METR_LA_SENSOR_IDS, trafficRules } from '../../src/rules/index.ts'

const T0 = Date.parse('2025-10-05T14:42:44Z')

const seedExample: MetrLaRecord = {
  sensor_id: 'METR_LA_042',
  timestamp: '2025-10-05T14:42:40.651Z',
  traffic_data: { speed_mph: 31.6, volume_vehicles_per_hour: 2203 },
  location: { highway: 'I-10', direction: 'E', lanes: 5 },
  weather: { condition: 'cloudy' },
}

/** Raw (nested) path the generator spoils → the flat field seed 001 validates. */
const FLAT_FIELD: Record<string, string> = {
  sensor_id: 'sensor_id',
  timestamp: 'timestamp',
  'traffic_data.speed_mph': 'speed',
  'traffic_data.volume_vehicles_per_hour': 'volume',
}

const SEED_001_RULES: Record<TrafficDefect, readonly string[]> = {
  missing_field: ['required'],
  speed_out_of_range: ['speed-range'],
  negative_volume: ['volume-range'],
  future_timestamp: ['timestamp-not-in-future'],
  stale_timestamp: ['timestamp-max-age'],
  wrong_type: ['speed-range', 'volume-range'],
}

const SEED_002_RULES: Record<TrafficDefect, readonly string[]> = {
  missing_field: ['required'],
  speed_out_of_range: ['speed-range'],
  negative_volume: ['volume-range'],
  future_timestamp: ['not-in-future'],
  stale_timestamp: ['fresh'],
  wrong_type: ['speed-range', 'volume-range'],
}

describe('flattenMetrLa', () => {
  it("produces seed 001's flat output from its nested example", () => {
    assert.deepEqual(flattenMetrLa(seedExample), {
      sensor_id: 'METR_LA_042',
      timestamp: '2025-10-05T14:42:40.651Z',
      speed: 31.6,
      volume: 2203,
      occupancy: null,
      highway: 'I-10',
      direction: 'E',
      lane_count: 5,
      latitude: null,
      longitude: null,
      weather_conditions: 'cloudy',
      temperature_f: null,
    })
  })

  it('copies coordinates, occupancy and temperature when present', () => {
    const flat = flattenMetrLa({
      ...seedExample,
      traffic_data: { ...seedExample.traffic_data, occupancy: 12.5 },
      location: { ...seedExample.location, coordinates: { latitude: 34.03, longitude: -118.23 } },
      weather: { condition: 'clear', temperature_f: 71 },
    })
    assert.equal(flat.occupancy, 12.5)
    assert.equal(flat.latitude, 34.03)
    assert.equal(flat.longitude, -118.23)
    assert.equal(flat.temperature_f, 71)
  })

  it('never throws, whatever arrives', () => {
    for (const junk of [null, undefined, 42, 'x', [], {}, { traffic_data: null, location: 'I-5' }]) {
      const flat = flattenMetrLa(junk as unknown as MetrLaRecord)
      assert.equal(flat.speed, undefined)
      assert.equal(flat.latitude, null)
    }
  })
})

describe('validateTraffic (seed 001)', () => {
  const valid = flattenMetrLa(seedExample)

  it('accepts a complete, in-range, recent record', () => {
    assert.deepEqual(validateTraffic(valid, T0), [])
  })

  it('checks presence, speed 0–120, volume 0–10,000, not future, not older than a year', () => {
    const reasons = validateTraffic({ ...valid, highway: undefined as never, speed: 121, volume: 10_001 }, T0)
    assert.deepEqual(
      reasons.map((r) => [r.rule, r.field]),
      [
        ['required', 'highway'],
        ['speed-range', 'speed'],
        ['volume-range', 'volume'],
      ],
    )
    assert.deepEqual(
      validateTraffic({ ...valid, timestamp: new Date(T0 + 3_600_000).toISOString() }, T0).map((r) => r.rule),
      ['timestamp-not-in-future'],
    )
    assert.deepEqual(
      validateTraffic({ ...valid, timestamp: new Date(T0 - 366 * 86_400_000).toISOString() }, T0).map(
        (r) => r.rule,
      ),
      ['timestamp-max-age'],
    )
  })

  it('uses the now it is given for each call', () => {
    assert.equal(validateTraffic(valid, T0 + 2 * 365 * 86_400_000).length, 1)
    assert.deepEqual(validateTraffic(valid, T0), [])
  })

  it('exposes its rule ids for counters', () => {
    assert.deepEqual(TRAFFIC_RULE_IDS, [
      'required',
      'speed-range',
      'volume-range',
      'timestamp-not-in-future',
      'timestamp-max-age',
    ])
  })
})

describe('traffic generator output through flatten + validate', () => {
  const records = trafficGenerator({ seed: 11, invalidShare: 0.2, now: () => T0 }).take(20_000)

  it('draws every defect kind', () => {
    const kinds = new Set(records.map((r) => r.defect?.kind).filter(Boolean))
    assert.deepEqual([...kinds].sort(), [...TRAFFIC_DEFECTS].sort())
  })

  it('every valid record passes seed 001 validation', () => {
    for (const r of records)
      if (r.defect === undefined)
        assert.deepEqual(validateTraffic(flattenMetrLa(r.value), T0), [], JSON.stringify(r.value))
  })

  it('every invalid record fails seed 001 validation for its defect, on the spoiled field', () => {
    for (const r of records) {
      if (r.defect === undefined) continue
      const reasons = validateTraffic(flattenMetrLa(r.value as MetrLaRecord), T0)
      const hit = reasons.find(
        (v) => v.field === FLAT_FIELD[r.defect!.field] && SEED_001_RULES[r.defect!.kind].includes(v.rule),
      )
      assert.ok(hit, `${JSON.stringify(r.defect)} → ${JSON.stringify(reasons)}`)
    }
  })

  it('the same holds for seed 002 trafficRules on the nested record, duplicates and bounds included', () => {
    const check = compileRules(trafficRules, { now: () => T0 })
    for (const r of records) {
      const vs = check(r.value)
      if (r.defect === undefined) assert.deepEqual(vs, [], JSON.stringify(r.value))
      else
        assert.ok(
          vs.some((v) => v.field === r.defect!.field && SEED_002_RULES[r.defect!.kind].includes(v.rule)),
          `${JSON.stringify(r.defect)} → ${JSON.stringify(vs)}`,
        )
    }
  })
})

describe('sensor catalogue', () => {
  it('has the 207 METR-LA ids, in order, matching the rule preset', () => {
    assert.deepEqual(
      METR_LA_SENSORS.map((s) => s.sensor_id),
      METR_LA_SENSOR_IDS,
    )
    assert.equal(METR_LA_SENSORS[206]!.sensor_id, 'METR_LA_206')
  })

  it('places every sensor on an LA highway inside the LA bounds, with a valid direction', () => {
    for (const s of METR_LA_SENSORS) {
      assert.ok(s.latitude >= LA_BOUNDS.minLat && s.latitude <= LA_BOUNDS.maxLat, s.sensor_id)
      assert.ok(s.longitude >= LA_BOUNDS.minLon && s.longitude <= LA_BOUNDS.maxLon, s.sensor_id)
      assert.ok(s.highway.directions.includes(s.direction))
      assert.ok(s.lanes >= s.highway.lanes[0] && s.lanes <= s.highway.lanes[1])
    }
    assert.equal(new Set(METR_LA_SENSORS.map((s) => s.highway.name)).size, LA_HIGHWAYS.length)
  })
})

describe('5-minute window aggregate', () => {
  const events = [
    { speed: 60, volume: 1000, occupancy: 10 },
    { speed: 50, volume: 2000, occupancy: null },
    { speed: 40, volume: 3000, occupancy: 20 },
  ]

  it('averages speed, volume and occupancy and gives the population variance of speed', () => {
    let s = emptyTrafficWindow()
    for (const e of events) s = addTrafficEvent(s, e)
    const start = trafficWindowStart(T0)
    const agg = trafficWindowResult(s, {
      sensor_id: 'METR_LA_001',
      window_start: start,
      window_end: start + TRAFFIC_WINDOW_MS,
    })
    assert.equal(agg.avg_speed, 50)
    assert.equal(agg.avg_volume, 2000)
    assert.equal(agg.avg_occupancy, 15)
    assert.ok(Math.abs(agg.speed_variance - 200 / 3) < 1e-9)
    assert.equal(agg.message_count, 3)
    assert.equal(agg.window_end - agg.window_start, 300_000)
    assert.equal(agg.window_start % 300_000, 0)
  })

  it('does not change the state it is given', () => {
    const s = emptyTrafficWindow()
    addTrafficEvent(s, events[0]!)
    assert.equal(s.count, 0)
  })

  it('merges partial states to the same result as one pass', () => {
    let all = emptyTrafficWindow()
    let a = emptyTrafficWindow()
    let b = emptyTrafficWindow()
    events.forEach((e, i) => {
      all = addTrafficEvent(all, e)
      if (i < 1) a = addTrafficEvent(a, e)
      else b = addTrafficEvent(b, e)
    })
    const m = mergeTrafficWindows(a, b)
    assert.equal(m.count, all.count)
    assert.ok(Math.abs(m.speedM2 - all.speedM2) < 1e-9)
    assert.ok(Math.abs(m.speedMean - all.speedMean) < 1e-9)
  })

  it('has null occupancy and zeros when empty', () => {
    const agg = trafficWindowResult(emptyTrafficWindow(), { sensor_id: 's', window_start: 0, window_end: 1 })
    assert.deepEqual(
      [agg.avg_speed, agg.avg_occupancy, agg.speed_variance, agg.message_count],
      [0, null, 0, 0],
    )
  })
})

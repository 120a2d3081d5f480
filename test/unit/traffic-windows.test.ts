import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { trafficWindowsPipeline } from '../../src/apps/traffic-windows/app.ts'
import type { TrafficEvent, TrafficWindowAggregate } from '../../src/apps/traffic/domain/index.ts'
import { ErrorCode } from '../../src/core/errors.ts'
import { TestDriver } from '../../src/testing/driver.ts'

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0)
const config = { GROUP_ID: 'traffic-windows-group', INPUT_TOPIC: 'traffic-events', OUTPUT_TOPIC: 'traffic-aggregates', INPUT_PARTITIONS: 1, WINDOW_SIZE: 300_000, WINDOW_GRACE: 60_000 }

function event(sensor: string, at: number, speed: number, volume: number, occupancy: number | null = 10): TrafficEvent {
  return {
    sensor_id: sensor,
    timestamp: new Date(at).toISOString(),
    speed,
    volume,
    occupancy,
    highway: 'I-10',
    direction: 'E',
    lane_count: 4,
    weather_conditions: 'clear',
  } as unknown as TrafficEvent
}

describe('traffic windows app (seed 002 §2.2) through the test driver', () => {
  it('emits one aggregate per sensor per 5-minute window with the seed fields', async () => {
    const d = new TestDriver(trafficWindowsPipeline(config), { startTime: T0 })
    const input = d.input<TrafficEvent>('traffic-events')
    input.pipe(event('A', T0 + 1_000, 60, 1000, 10), { key: 'A' })
    input.pipe(event('A', T0 + 2_000, 40, 2000, 20), { key: 'A' })
    input.pipe(event('B', T0 + 3_000, 30, 500, null), { key: 'B' })
    input.pipe(event('A', T0 + 300_000, 50, 1500), { key: 'A' }) // next window: [T0+5m, T0+10m)
    // Nothing is final before end + grace …
    assert.equal(d.output('traffic-aggregates').size, 0)
    // … and windows close on the wall clock with no further input: the watermark (T0+5m, the latest
    // event) follows wall time once input stops, so after 65 s the first window (end T0+5m, grace 1m) closes.
    await d.advance(65_000)
    const out = d.output<TrafficWindowAggregate>('traffic-aggregates').values()
    const a = out.find((w) => w.sensor_id === 'A' && w.window_start === T0)!
    assert.deepEqual(a, {
      sensor_id: 'A',
      window_start: T0,
      window_end: T0 + 300_000,
      avg_speed: 50,
      avg_volume: 1500,
      avg_occupancy: 15,
      speed_variance: 100,
      message_count: 2,
    })
    const b = out.find((w) => w.sensor_id === 'B')!
    assert.equal(b.avg_occupancy, null)
    assert.equal(b.message_count, 1)
    assert.equal(out.filter((w) => w.window_start === T0 + 300_000).length, 0, 'the second window is still open')
    await d.advance(300_000)
    const second = d.output<TrafficWindowAggregate>('traffic-aggregates').values().filter((w) => w.window_start === T0 + 300_000)
    assert.deepEqual(second.map((w) => [w.sensor_id, w.message_count]), [['A', 1]])
  })

  it('late records (after the grace period) go to the dead-letter topic as LATE_RECORD', async () => {
    const d = new TestDriver(trafficWindowsPipeline(config), { startTime: T0 })
    const input = d.input<TrafficEvent>('traffic-events')
    input.pipe(event('A', T0 + 1_000, 60, 1000), { key: 'A' })
    input.pipe(event('A', T0 + 400_000, 60, 1000), { key: 'A' }) // watermark past the first window + grace
    await d.advance(1000)
    input.pipe(event('A', T0 + 2_000, 99, 1000), { key: 'A' }) // belongs to the closed window
    await d.settle()
    const dead = d.deadLetters()
    assert.equal(dead.length, 1)
    assert.equal(dead[0]?.info.code, ErrorCode.LATE_RECORD)
    const first = d.output<TrafficWindowAggregate>('traffic-aggregates').values().find((w) => w.window_start === T0)
    assert.equal(first?.message_count, 1, 'the late record did not change the emitted window')
  })
})

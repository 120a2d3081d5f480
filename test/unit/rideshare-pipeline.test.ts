/**
 * The rideshare bridge's operator logic through the TestDriver (virtual clock, no broker). A recording
 * sink stands in for Redis here only; the Redis path itself is tested against real Redis in
 * test/integration/rideshare-bridge.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { rideshareApp } from '../../src/apps/rideshare/app.ts'
import {
  type BridgeMessage,
  type GpsPing,
  RIDESHARE_TOPICS,
  type RidesharePayloads,
  type RideshareTopic,
  TOPIC_ROUTES,
  toBridgeMessage,
} from '../../src/apps/rideshare/domain/index.ts'
import { type RidesharePipelineOptions, ridesharePipeline } from '../../src/apps/rideshare/pipeline.ts'
import type { ConnectorStatus, Sink } from '../../src/connectors/contract.ts'
import type { RedisMessage } from '../../src/connectors/redis/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { rideshareGenerator } from '../../src/generators/index.ts'
import { TestDriver } from '../../src/testing/driver.ts'

const T0 = Date.UTC(2026, 0, 1)

/** Keeps what it is given; `down` makes flush fail like a Redis outage. */
class RecordingSink implements Sink<RedisMessage> {
  readonly id = 'recording'
  readonly published: RedisMessage[] = []
  #buffer: RedisMessage[] = []
  down = false

  async open(): Promise<void> {}
  add(item: RedisMessage): void {
    this.#buffer.push(item)
  }
  async flush(): Promise<void> {
    if (this.down) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, 'recording sink is down')
    this.published.push(...this.#buffer)
    this.#buffer = []
  }
  backlog(): number {
    return this.#buffer.length
  }
  async close(): Promise<void> {}
  status(): ConnectorStatus {
    return { connected: !this.down }
  }
  /** Everything handed over so far (flushed or not), decoded. */
  messages(): Array<{ channel: string; message: BridgeMessage }> {
    return [...this.published, ...this.#buffer].map((m) => ({
      channel: m.channel,
      message: JSON.parse(String(m.message)) as BridgeMessage,
    }))
  }
}

function bridge(options: Partial<RidesharePipelineOptions> = {}) {
  const sink = new RecordingSink()
  const p = ridesharePipeline({
    topics: RIDESHARE_TOPICS,
    windowSizeMs: 100,
    strategy: 'latest',
    sampleRate: 10,
    sink,
    ...options,
  })
  return { sink, driver: new TestDriver(p, { startTime: T0 }) }
}

let seq = 0
function ping(driver: string, lat = -23.55): GpsPing {
  seq++
  return {
    event_id: `gps-${seq}`,
    driver_id: driver,
    trip_id: null,
    lat,
    lon: -46.63,
    heading: 90,
    speed: 30,
    accuracy: 5,
    timestamp: new Date(T0).toISOString(),
  }
}

/** One realistic payload of each topic, from the generator. */
function oneOfEach(): { [T in RideshareTopic]: RidesharePayloads[T] } {
  const out: Partial<Record<RideshareTopic, unknown>> = {}
  const g = rideshareGenerator({ seed: 3, drivers: 20, riders: 50, now: () => T0 })
  for (let i = 0; i < 200_000 && Object.keys(out).length < RIDESHARE_TOPICS.length; i++) {
    const r = g.next()
    out[r.topic] ??= r.value
  }
  return out as { [T in RideshareTopic]: RidesharePayloads[T] }
}

describe('rideshare bridge: routing', () => {
  it('publishes each topic on its seed channel as a BridgeMessage; pass-through at once, GPS at window close', async () => {
    const { sink, driver } = bridge()
    const payloads = oneOfEach()
    for (const topic of RIDESHARE_TOPICS) {
      driver.input(topic).pipe(payloads[topic], { key: `key-${topic}`, timestamp: T0 + 7 })
    }
    await driver.settle()
    const passThrough = RIDESHARE_TOPICS.filter((t) => t !== 'gps_pings')
    assert.deepEqual(
      sink.messages(),
      passThrough.map((topic) => ({
        channel: TOPIC_ROUTES[topic].channel,
        message: toBridgeMessage(topic, payloads[topic] as never, { key: `key-${topic}`, timestamp: T0 + 7 }),
      })),
      'pass-through events are handed to Redis as they come, in order',
    )
    await driver.advance(100)
    const last = sink.messages().at(-1)!
    assert.equal(sink.messages().length, 6)
    assert.deepEqual(last, {
      channel: 'driver-updates',
      message: toBridgeMessage('gps_pings', payloads.gps_pings, { key: 'key-gps_pings', timestamp: T0 + 7 }),
    })
  })

  it('routes exactly as the seed table: gps, driver_status, driver_profiles → driver-updates; trips → trip-updates; surge_updates → surge_updates; rider_profiles → rider-updates', () => {
    assert.deepEqual(Object.fromEntries(RIDESHARE_TOPICS.map((t) => [t, TOPIC_ROUTES[t].channel])), {
      gps_pings: 'driver-updates',
      trips: 'trip-updates',
      driver_status: 'driver-updates',
      surge_updates: 'surge_updates',
      driver_profiles: 'driver-updates',
      rider_profiles: 'rider-updates',
    })
  })

  it('reads only the configured topics, under the prefix', async () => {
    const { driver } = bridge({ topics: ['gps_pings', 'trips'], prefix: 'dev.' })
    assert.deepEqual([...new Set(driver.task.graph.roots.keys())].sort(), ['dev.gps_pings', 'dev.trips'])
  })

  it('sends unreadable records and GPS pings without a driver to the dead-letter topic, and goes on', async () => {
    const { sink, driver } = bridge()
    driver.pipeRaw('trips', Buffer.from('{"trip_id": '))
    driver.input('gps_pings').pipe({ lat: 1, lon: 2 })
    driver.input('surge_updates').pipe([1, 2, 3])
    driver.input('trips').pipe(oneOfEach().trips)
    await driver.advance(100)
    const reasons = driver.deadLetters().map((d) => d.info.code)
    assert.deepEqual(reasons, ['DESERIALIZE_FAILED', 'VALIDATION_FAILED', 'VALIDATION_FAILED'])
    assert.deepEqual(
      sink.messages().map((m) => m.channel),
      ['trip-updates'],
    )
  })
})

describe('rideshare bridge: GPS windows on the wall clock', () => {
  const gpsOf = (sink: RecordingSink) =>
    sink
      .messages()
      .filter((m) => m.message.type === 'gps_ping')
      .map((m) => (m.message.data as GpsPing).event_id)

  it('latest: one update per driver per window, its most recent ping', async () => {
    const { sink, driver } = bridge({ windowSizeMs: 100 })
    const gps = driver.input<GpsPing>('gps_pings')
    const a1 = ping('d1')
    const a2 = ping('d1')
    const b1 = ping('d2')
    const a3 = ping('d1')
    for (const p of [a1, a2, b1]) gps.pipe(p, { key: p.driver_id })
    await driver.advance(60)
    gps.pipe(a3, { key: 'd1' })
    assert.deepEqual(gpsOf(sink), [], 'nothing before the window closes')
    await driver.advance(40)
    assert.deepEqual(gpsOf(sink).sort(), [a3.event_id, b1.event_id].sort())
    const a4 = ping('d1')
    gps.pipe(a4, { key: 'd1' })
    await driver.advance(100)
    assert.deepEqual(gpsOf(sink).slice(2), [a4.event_id], 'the next window is separate')
  })

  it('closes windows with no further input and follows PROCESSOR_WINDOW_SIZE_MS', async () => {
    const { sink, driver } = bridge({ windowSizeMs: 500 })
    const p = ping('d1')
    driver.input<GpsPing>('gps_pings').pipe(p, { key: 'd1' })
    await driver.advance(499)
    assert.deepEqual(gpsOf(sink), [])
    await driver.advance(1)
    assert.deepEqual(gpsOf(sink), [p.event_id])
  })

  it('sample: every Nth ping of each driver, counted across windows, the latest sampled per window', async () => {
    const { sink, driver } = bridge({ strategy: 'sample', sampleRate: 3 })
    const gps = driver.input<GpsPing>('gps_pings')
    const d1 = Array.from({ length: 7 }, () => ping('d1'))
    const d2 = Array.from({ length: 3 }, () => ping('d2'))
    // Window 1: d1 pings 1–2 and d2 pings 1–3; window 2: d1 pings 3–7 (the 3rd and 6th are sampled).
    for (const p of [d1[0]!, d1[1]!, ...d2]) gps.pipe(p, { key: p.driver_id })
    await driver.advance(100)
    assert.deepEqual(gpsOf(sink), [d2[2]!.event_id], 'd2: its 3rd ping; d1: none yet')
    for (const p of d1.slice(2)) gps.pipe(p, { key: 'd1' })
    await driver.advance(100)
    assert.deepEqual(
      gpsOf(sink),
      [d2[2]!.event_id, d1[5]!.event_id],
      'd1: its 6th ping (the 3rd went in the same window)',
    )
  })

  it('sample: 1 in N overall for a fleet pinging slower than the window', async () => {
    const { sink, driver } = bridge({ strategy: 'sample', sampleRate: 10, windowSizeMs: 100 })
    const gps = driver.input<GpsPing>('gps_pings')
    for (let round = 0; round < 20; round++) {
      for (let d = 0; d < 50; d++) gps.pipe(ping(`d${d}`), { key: `d${d}` })
      await driver.advance(100)
    }
    assert.equal(gpsOf(sink).length, 100, '1,000 pings → 100 updates')
  })

  it('counts pings in and updates out for gps_aggregation_ratio', async () => {
    let received = 0
    let emitted = 0
    const channels: string[] = []
    const { driver } = bridge({
      counters: {
        gpsReceived: () => received++,
        gpsEmitted: () => emitted++,
        routed: (c) => channels.push(c),
      },
    })
    for (let i = 0; i < 10; i++) driver.input<GpsPing>('gps_pings').pipe(ping('d1'), { key: 'd1' })
    driver.input('trips').pipe(oneOfEach().trips)
    await driver.advance(100)
    assert.deepEqual([received, emitted], [10, 1])
    assert.deepEqual(channels, ['trip-updates', 'driver-updates'])
  })
})

describe('rideshare bridge: dedupe and offsets', () => {
  it('drops a re-delivered topic:partition:offset within 60 s; the same payload at another offset passes', async () => {
    const { sink, driver } = bridge()
    const trip = oneOfEach().trips
    const trips = driver.input('trips')
    trips.pipe(trip, { offset: 5 })
    trips.pipe(trip, { offset: 5 })
    trips.pipe(trip, { offset: 6 })
    await driver.advance(59_000)
    trips.pipe(trip, { offset: 5 })
    assert.equal(sink.messages().length, 2)
    await driver.advance(1000)
    trips.pipe(trip, { offset: 5 })
    assert.equal(sink.messages().length, 3, 'after 60 s the offset is forgotten')
  })

  it('a re-delivered GPS ping is not counted twice in its window', async () => {
    let received = 0
    const { driver } = bridge({ counters: { gpsReceived: () => received++, gpsEmitted() {}, routed() {} } })
    const p = ping('d1')
    driver.input<GpsPing>('gps_pings').pipe(p, { key: 'd1', offset: 0 }).pipe(p, { key: 'd1', offset: 0 })
    await driver.advance(100)
    assert.equal(received, 1)
  })

  it('commits nothing past a GPS ping whose window is open, nor while the sink cannot flush', async () => {
    const { sink, driver } = bridge()
    const gps = driver.input<GpsPing>('gps_pings')
    gps.pipe(ping('d1'), { key: 'd1' })
    driver.input('trips').pipe(oneOfEach().trips)
    assert.deepEqual(await driver.checkpoint(), [{ topic: 'trips', partition: 0, offset: 1 }])
    assert.equal(driver.committed('gps_pings'), undefined, 'the open window holds offset 0')
    await driver.advance(100)
    sink.down = true
    gps.pipe(ping('d1'), { key: 'd1' })
    await driver.advance(100)
    await assert.rejects(driver.checkpoint(), /down/)
    assert.equal(driver.committed('gps_pings'), undefined, 'a failed flush commits nothing')
    sink.down = false
    await driver.checkpoint()
    assert.equal(driver.committed('gps_pings'), 2)
    assert.equal(sink.published.length, 3)
  })

  it('a clean stop emits open windows before the final commit', async () => {
    const { sink, driver } = bridge({ windowSizeMs: 5000 })
    driver.input<GpsPing>('gps_pings').pipe(ping('d1'), { key: 'd1' })
    await driver.close()
    assert.equal(sink.published.length, 1)
    assert.equal(driver.committed('gps_pings'), 1)
  })
})

describe('rideshare app', () => {
  it('its generator writes all six topics, under --topic-prefix', () => {
    const g = rideshareApp.generator!({ seed: 1, drivers: 30, topicPrefix: 't.' })
    const topics = new Set<string>()
    for (let i = 0; i < 50_000; i++) topics.add(g.next().topic)
    assert.deepEqual([...topics].sort(), RIDESHARE_TOPICS.map((t) => `t.${t}`).sort())
    assert.deepEqual(
      rideshareApp.inputTopics?.map((t) => t.name),
      [...RIDESHARE_TOPICS],
    )
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { trafficWindowsApp } from '../../src/apps/traffic-windows/app.ts'
import { feed } from '../../src/cli/feed.ts'
import { MemoryBroker, memoryTransport } from '../../src/connectors/memory/index.ts'
import { json, string } from '../../src/core/serde.ts'
import { count } from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { opsAccessFromEnv } from '../../src/ops/auth.ts'
import { healthFrom } from '../../src/ops/health.ts'
import { createOpsServer } from '../../src/ops/http.ts'
import { stateRoutes } from '../../src/ops/state.ts'
import { startService } from '../../src/service/service.ts'
import { queryableStores } from '../../src/state/query.ts'
import { TableStore } from '../../src/state/table-store.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { tumbling } from '../../src/time/windows.ts'

interface Position {
  readonly driver: string
  readonly lat: number
  readonly status: string
}

/** Seed 000's use: the last position and status per driver, a table of the positions topic. */
async function positionsApp() {
  const p = pipeline('rides')
  const rides = p.stream<{ driver: string }>('rides')
  rides
    .leftJoin(p.table<Position>('driver-positions', { name: 'driver-position' }), (r, pos) => ({
      ...r,
      status: pos?.status ?? 'unknown',
    }))
    .to('rides-out')
  rides
    .groupBy((r) => r.driver)
    .aggregate(count(), { name: 'rides-per-driver' })
    .to('counts')
  const driver = new TestDriver(p)
  for (const [id, lat, status] of [
    ['d1', 51.5, 'free'],
    ['d2', 48.8, 'busy'],
    ['d1', 51.6, 'busy'],
  ] as const) {
    driver.broker.append(
      {
        topic: 'driver-positions',
        key: Buffer.from(id),
        value: Buffer.from(JSON.stringify({ driver: id, lat, status })),
      },
      0,
    )
  }
  await driver.init()
  driver
    .input<{ driver: string }, string>('rides')
    .pipeAll([{ driver: 'd1' }, { driver: 'd1' }, { driver: 'd3' }], { key: 'd1' })
  await driver.settle()
  return driver
}

function server(driver: TestDriver, env: Record<string, string> = {}) {
  return createOpsServer({
    logger: silentLogger,
    health: () => healthFrom({ kafka: { connected: true } }),
    metricsJson: () => ({}),
    prometheus: () => '',
    routes: stateRoutes(() => queryableStores(driver.task.graph.processors)),
    auth: opsAccessFromEnv(env).auth,
  })
}

const body = (r: { body: string | Uint8Array }) => JSON.parse(String(r.body))

describe('interactive queries: GET /state', () => {
  it('reads a table by key: the latest value, 404 for an unknown key or store', async () => {
    const s = server(await positionsApp())
    const r = await s.handle({ url: '/state/driver-position/d1' })
    assert.equal(r.status, 200)
    assert.deepEqual(body(r), {
      store: 'driver-position',
      key: 'd1',
      value: { driver: 'd1', lat: 51.6, status: 'busy' },
    })
    assert.equal((await s.handle({ url: '/state/driver-position/d9' })).status, 404)
    const unknown = await s.handle({ url: '/state/nope/d1' })
    assert.equal(unknown.status, 404)
    assert.deepEqual(body(unknown).stores.sort(), ['driver-position', 'rides-per-driver'])
  })

  it('reads a named aggregate by key, as its result (not its accumulator)', async () => {
    const s = server(await positionsApp())
    const r = await s.handle({ url: '/state/rides-per-driver/d1' })
    assert.equal(r.status, 200)
    assert.equal(body(r).value, 2)
  })

  it('lists by prefix in bounded pages, and rejects a limit out of range', async () => {
    const s = server(await positionsApp())
    const first = body(await s.handle({ url: '/state/driver-position?prefix=d&limit=1' }))
    assert.deepEqual(
      first.entries.map((e: { key: string }) => e.key),
      ['d1'],
    )
    assert.equal(first.next, 'd1')
    const second = body(
      await s.handle({ url: `/state/driver-position?prefix=d&limit=1&after=${first.next}` }),
    )
    assert.deepEqual(
      second.entries.map((e: { key: string }) => e.key),
      ['d2'],
    )
    assert.equal(second.next, undefined)
    assert.equal((await s.handle({ url: '/state/driver-position?limit=5000' })).status, 400)
    assert.equal((await s.handle({ url: '/state/driver-position?from=1&to=2' })).status, 400)
  })

  it('needs auth when auth is on, like every route but /health', async () => {
    const s = server(await positionsApp(), { OPS_AUTH_TOKEN: 'tok-123456' })
    assert.equal((await s.handle({ url: '/state/driver-position/d1' })).status, 401)
    assert.equal((await s.handle({ url: '/state' })).status, 401)
    const ok = await s.handle({
      url: '/state/driver-position/d1',
      headers: { Authorization: 'Bearer tok-123456' },
    })
    assert.equal(ok.status, 200)
  })

  it('answers 503 with Retry-After for a key whose partition is being restored', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const table = new TableStore(
      { name: 'slow', topic: 'slow', key: string(), value: json() },
      // An empty partition that takes until `release` to read.
      async function* () {
        await gate
        yield* []
      },
      false,
    )
    table.partitionCount = 1
    const loading = table.load(0)
    const s = createOpsServer({
      logger: silentLogger,
      health: () => healthFrom({}),
      metricsJson: () => ({}),
      prometheus: () => '',
      routes: stateRoutes(() => new Map([['slow', table]])),
    })
    const r = await s.handle({ url: '/state/slow/k' })
    assert.equal(r.status, 503)
    assert.equal(r.headers['retry-after'], '1')
    release()
    await loading
    assert.equal((await s.handle({ url: '/state/slow/k' })).status, 404)
  })

  it('reads open windows of a windowed aggregate, all of a key or those starting in [from, to)', async () => {
    const p = pipeline('speeds')
    p.stream<{ sensor: string; t: number }>('readings')
      .groupBy((r) => r.sensor)
      .window(tumbling({ size: 1000, grace: 60_000 }), { timestamp: (r) => r.t })
      .aggregate(count(), { name: 'per-second', emit: 'final' })
      .to('out')
    const T0 = Date.UTC(2026, 0, 1)
    const driver = new TestDriver(p, { startTime: T0 })
    const input = driver.input<{ sensor: string; t: number }>('readings')
    for (const [sensor, dt] of [
      ['s1', 10],
      ['s1', 20],
      ['s1', 1500],
      ['s2', 30],
    ] as const)
      input.pipe({ sensor, t: T0 + dt })
    await driver.settle()
    const s = server(driver)
    const all = body(await s.handle({ url: '/state/per-second/s1' }))
    assert.deepEqual(all.value, [
      { start: T0, end: T0 + 1000, value: 2 },
      { start: T0 + 1000, end: T0 + 2000, value: 1 },
    ])
    const second = body(
      await s.handle({ url: `/state/per-second?from=${new Date(T0 + 1000).toISOString()}&to=${T0 + 2000}` }),
    )
    assert.deepEqual(second.entries, [
      { key: 's1', windowStart: T0 + 1000, value: { start: T0 + 1000, end: T0 + 2000, value: 1 } },
    ])
    assert.equal((await s.handle({ url: '/state/per-second?from=yesterday' })).status, 400)
  })

  it('every app serves its stores: the traffic-windows service answers /state/traffic-5m', async (t) => {
    const broker = new MemoryBroker()
    for (const topic of trafficWindowsApp.inputTopics ?? []) broker.createTopic(topic.name, topic.partitions)
    const service = await startService(trafficWindowsApp, {
      transport: () => memoryTransport(broker),
      env: {},
      logger: silentLogger,
      http: { host: '127.0.0.1', port: 0 },
      handleSignals: false,
    })
    t.after(() => service.stop())
    await feed(trafficWindowsApp.generator!({ seed: 5 }), memoryTransport(broker).sink({ clientId: 'g' }), {
      rate: 100_000,
      count: 500,
    })
    const get = async (url: string) => {
      const r = await service.ops!.handle({ url })
      return { status: r.status, body: JSON.parse(String(r.body)) }
    }
    // All input processed first, so no window closes between the two reads below.
    for (let i = 0; i < 200 && (await get('/dashboard/summary.json')).body.consumed_total !== 500; i++) {
      await new Promise((r) => setTimeout(r, 25))
    }
    assert.equal((await get('/dashboard/summary.json')).body.consumed_total, 500)
    assert.deepEqual((await get('/state')).body.stores, [{ name: 'traffic-5m', kind: 'window' }])
    let page = (await get('/state/traffic-5m?limit=5')).body
    for (let i = 0; i < 100 && page.entries.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50))
      page = (await get('/state/traffic-5m?limit=5')).body
    }
    assert.equal(page.entries.length, 5)
    const first = page.entries[0] as { key: string; windowStart: number }
    const one = await get(`/state/traffic-5m/${encodeURIComponent(first.key)}`)
    assert.equal(one.status, 200)
    assert.ok(Array.isArray(one.body.value) && one.body.value.length > 0)
    // One instance on the in-process transport: a key it does not hold is a 404, not a forward.
    assert.equal((await get('/state/traffic-5m/no-such-sensor')).status, 404)
  })
})

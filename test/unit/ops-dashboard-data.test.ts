import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { rideshareApp } from '../../src/apps/rideshare/app.ts'
import { bridgeMessageJson, SAO_PAULO } from '../../src/apps/rideshare/domain/index.ts'
import { LiveMap, MAP_STATES } from '../../src/apps/rideshare/live-map.ts'
import { trafficApp } from '../../src/apps/traffic/app.ts'
import { feed } from '../../src/cli/feed.ts'
import { MemoryBroker, memoryTransport } from '../../src/connectors/memory/index.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { latestTable } from '../../src/ops/dashboard/index.ts'
import { startService } from '../../src/service/service.ts'

const ping = (driver: string, lat: number, lon: number) =>
  bridgeMessageJson(
    'gps_pings',
    JSON.stringify({
      event_id: 'e',
      driver_id: driver,
      trip_id: null,
      lat,
      lon,
      heading: 0,
      speed: 1,
      accuracy: 1,
      timestamp: 't',
    }),
    { key: driver, timestamp: 1 },
  )

interface Frame {
  total: number
  shown: number
  xy: string
  states: string
  pending: number[][]
  surge: Record<string, number>
}

describe('live map', () => {
  it('keeps the latest position and status per driver, quantized to the city box', () => {
    const map = new LiveMap()
    const b = SAO_PAULO.bounds
    map.observe(ping('d1', b.maxLat, b.minLon))
    map.observe(ping('d2', b.minLat, b.maxLon))
    map.observe(ping('d1', (b.minLat + b.maxLat) / 2, (b.minLon + b.maxLon) / 2))
    map.observe(
      bridgeMessageJson(
        'driver_status',
        JSON.stringify({ driver_id: 'd2', new_status: 'on_trip', lat: 0, lon: 0 }),
        {
          key: 'd2',
          timestamp: 1,
        },
      ),
    )
    map.observe(
      bridgeMessageJson('surge_updates', JSON.stringify({ zone_id: 'se', new_multiplier: 2.5 }), {
        key: 'se',
        timestamp: 1,
      }),
    )
    const f = JSON.parse(map.frame()) as Frame
    assert.equal(f.total, 2)
    const xy = new Uint16Array(new Uint8Array(Buffer.from(f.xy, 'base64')).buffer)
    // The centre of the box, then its south-east corner (y grows southwards, as on a screen).
    assert.ok(Math.abs(xy[0]! - 32768) <= 1 && Math.abs(xy[1]! - 32768) <= 1, `${[...xy]}`)
    assert.deepEqual([...xy.slice(2)], [65535, 65535])
    assert.deepEqual([...Buffer.from(f.states, 'base64')], [0, MAP_STATES.indexOf('on_trip')])
    assert.deepEqual(f.surge, { se: 2.5 })
  })

  it('sends at most maxDrivers per frame and forgets drivers it has not heard from', () => {
    let now = 0
    const map = new LiveMap({ maxDrivers: 10, forgetAfterMs: 1000, now: () => now })
    for (let i = 0; i < 25; i++) map.observe(ping(`d${i}`, -23.6, -46.6))
    const f = JSON.parse(map.frame()) as Frame
    assert.equal(f.total, 25)
    assert.ok(f.shown <= 10 && f.shown >= 8, `${f.shown}`)
    now = 2000
    assert.equal((JSON.parse(map.frame()) as Frame).total, 0)
  })

  it('streams frames as Server-Sent Events from the rideshare app, and reads pings only while watched', async (t) => {
    const map = new LiveMap({ frameMs: 50 })
    const published: string[] = []
    const sink = map.tap({
      id: 'recording',
      open: async () => {},
      add: (item) => {
        published.push(String(item.message))
      },
      flush: async () => {},
      backlog: () => 0,
      close: async () => {},
      status: () => ({ connected: true }),
    })
    sink.add({ channel: 'driver-updates', message: ping('unwatched', -23.6, -46.6) })
    const { createOpsServer } = await import('../../src/ops/http.ts')
    const ops = createOpsServer({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      health: () => ({ status: 'healthy', uptime_seconds: 1, message: '' }),
      metricsJson: () => ({}),
      prometheus: () => '',
      dashboard: { views: [map.view()] },
    })
    const { url } = await ops.start()
    t.after(() => ops.close())
    const abort = new AbortController()
    t.after(() => abort.abort())
    const res = await fetch(`${url}/views/map/live`, { signal: abort.signal })
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    const reader = res.body!.getReader()
    let text = ''
    const frames = async (n: number) => {
      while ((text.match(/^data: /gm) ?? []).length < n)
        text += new TextDecoder().decode((await reader.read()).value)
    }
    await frames(1)
    sink.add({ channel: 'driver-updates', message: ping('watched', -23.6, -46.6) })
    text = ''
    await frames(1)
    const last = JSON.parse(text.split('data: ').pop()!.trim()) as Frame
    assert.equal(last.total, 1, 'the ping sent while nobody watched is not on the map; the one after is')
    assert.equal(published.length, 2, 'both reached the sink')
  })

  it('reads at most maxReadsPerSecond published messages while watched (a quarter per 250 ms)', async () => {
    const map = new LiveMap({ maxReadsPerSecond: 8, frameMs: 60_000 })
    const sink = map.tap({
      id: 'recording',
      open: async () => {},
      add: () => {},
      flush: async () => {},
      backlog: () => 0,
      close: async () => {},
      status: () => ({ connected: true }),
    })
    const route = map.view().routes![0]!
    const res = await route.handler({
      method: 'GET',
      path: route.path,
      query: new URLSearchParams(),
      headers: {},
      params: {},
      body: '',
    })
    const closed = new AbortController()
    const written: string[] = []
    res.stream!({ write: (c) => void written.push(c), unreadBytes: () => 0, closed: closed.signal })
    for (let i = 0; i < 5; i++) sink.add({ channel: 'driver-updates', message: ping(`d${i}`, -23.6, -46.6) })
    closed.abort()
    assert.equal((JSON.parse(map.frame()) as Frame).total, 2, 'two reads per quarter second at 8 a second')
    assert.match(written.join(''), /^retry: 1000\n\ndata: \{/)
  })

  it('is a view of the rideshare app, which hides dead-letter values by default', async () => {
    assert.equal(rideshareApp.personalData, true)
  })
})

describe('latest table view', () => {
  it('keeps the latest row per key, at most maxRows, and serves them', async () => {
    const table = latestTable<{ id: string; v: number }>({
      id: 'things',
      title: 'Things',
      key: (r) => r.id,
      columns: [{ field: 'id', title: 'Id', text: true }],
      maxRows: 2,
    })
    table.update({ id: 'a', v: 1 })
    table.update({ id: 'b', v: 1 })
    table.update({ id: 'a', v: 2 })
    assert.deepEqual(table.rows(), [
      { id: 'a', v: 2 },
      { id: 'b', v: 1 },
    ])
    table.update({ id: 'c', v: 1 })
    assert.deepEqual(
      table.rows().map((r) => r.id),
      ['b', 'c'],
    )
    const route = table.view.routes![0]!
    assert.equal(route.path, '/views/things/rows.json')
    const res = await route.handler({
      method: 'GET',
      path: route.path,
      query: new URLSearchParams(),
      headers: {},
      params: {},
      body: '',
    })
    assert.equal((JSON.parse(String(res.body)) as { total: number }).total, 2)
  })
})

describe('dashboard data of a running service (in-process transport)', () => {
  it('summary, graph with per-node counts, and the dead letters read back from the dead-letter topic', async (t) => {
    const broker = new MemoryBroker({ retention: 10_000 })
    for (const topic of trafficApp.inputTopics ?? []) broker.createTopic(topic.name, topic.partitions)
    const start = (env: Record<string, string>) =>
      startService(trafficApp, {
        transport: () => memoryTransport(broker),
        env,
        logger: silentLogger,
        http: { host: '127.0.0.1', port: 0 },
        handleSignals: false,
      })
    const service = await start({})
    t.after(() => service.stop())
    await feed(
      trafficApp.generator!({ seed: 3, invalidShare: 0.2 }),
      memoryTransport(broker).sink({ clientId: 'g' }),
      {
        rate: 100_000,
        count: 2000,
      },
    )
    const get = async (url: string) =>
      JSON.parse(String((await service.ops!.handle({ url })).body)) as Record<string, unknown>
    let summary: Record<string, unknown> = {}
    for (let i = 0; i < 100 && summary.consumed_total !== 2000; i++) {
      await new Promise((r) => setTimeout(r, 50))
      summary = await get('/dashboard/summary.json')
    }
    assert.equal(summary.consumed_total, 2000)
    const dead = summary.dead_lettered_total as number
    assert.ok(dead > 200 && dead < 600, `${dead}`)
    assert.deepEqual(summary.dead_letters_by_code, { VALIDATION_FAILED: dead })

    const graph = (await get('/dashboard/graph.json')) as {
      nodes: Array<{ name: string; kind: string; count: number; exact: boolean }>
    }
    const source = graph.nodes.find((n) => n.kind === 'source')!
    assert.deepEqual([source.count, source.exact], [2000, true])
    const sink = graph.nodes.find((n) => n.kind === 'topic-sink')!
    assert.deepEqual([sink.count, sink.exact], [2000 - dead, true])

    const tail = (await get('/dashboard/dead-letters.json?limit=5')) as {
      total: number
      rows: Array<{ code: string; stage: string; source: { topic: string }; value?: string }>
      replay_command: string
    }
    assert.equal(tail.total, dead)
    assert.equal(tail.rows.length, 5)
    for (const r of tail.rows) {
      assert.equal(r.code, 'VALIDATION_FAILED')
      assert.equal(r.stage, 'validate')
      assert.equal(r.source.topic, 'traffic-raw')
      assert.match(r.value!, /sensor_id/)
    }
    assert.equal(tail.replay_command, 'weir dlq replay traffic-raw-dlq --dry-run')

    // The same records with OPS_SHOW_VALUES=false: reasons, no values.
    const hidden = await start({ OPS_SHOW_VALUES: 'false', GROUP_ID: 'second' })
    t.after(() => hidden.stop())
    const res = await hidden.ops!.handle({ url: '/dashboard/dead-letters.json?limit=5' })
    const rows = (
      JSON.parse(String(res.body)) as { rows: Array<{ code: string; value?: string; key?: string }> }
    ).rows
    assert.equal(rows.length, 5)
    assert.ok(
      rows.every((r) => r.code === 'VALIDATION_FAILED' && r.value === undefined && r.key === undefined),
    )
  })
})

describe('traffic-windows view', () => {
  it('shows each sensor’s latest window as written to the output topic', async () => {
    const { trafficWindowsPipeline } = await import('../../src/apps/traffic-windows/app.ts')
    const { windowsView } = await import('../../src/apps/traffic-windows/view.ts')
    const { TestDriver } = await import('../../src/testing/driver.ts')
    const T0 = Date.UTC(2026, 0, 1, 8, 0, 0)
    const config = {
      GROUP_ID: 'g',
      INPUT_TOPIC: 'traffic-events',
      OUTPUT_TOPIC: 'traffic-aggregates',
      INPUT_PARTITIONS: 1,
      WINDOW_SIZE: 60_000,
      WINDOW_GRACE: 0,
    }
    const windows = windowsView()
    const d = new TestDriver(
      trafficWindowsPipeline(config, {}, { onResult: (w) => windows.update(w) }),
      { startTime: T0 },
    )
    const input = d.input<Record<string, unknown>>('traffic-events')
    const event = (sensor: string, at: number, speed: number) => ({
      sensor_id: sensor,
      timestamp: new Date(at).toISOString(),
      speed,
      volume: 100,
      occupancy: 5,
    })
    input.pipe(event('A', T0 + 1000, 50), { key: 'A' })
    input.pipe(event('B', T0 + 2000, 30), { key: 'B' })
    input.pipe(event('A', T0 + 61_000, 70), { key: 'A' })
    await d.advance(130_000)
    const rows = windows.rows()
    assert.deepEqual(
      rows.map((w) => [w.sensor_id, w.window_start - T0, w.avg_speed]).sort(),
      [
        ['A', 60_000, 70],
        ['B', 0, 30],
      ],
      'A keeps only its latest window',
    )
    assert.deepEqual(
      d.output<{ sensor_id: string }>('traffic-aggregates').values().length,
      3,
      'every window still reaches the topic',
    )
    assert.equal(windows.view.id, 'windows')
  })
})

describe('map tiles setting', () => {
  it('OPS_MAP_TILES_URL: unset means no tiles; a template needs http(s) and {z}, {x}, {y}', async () => {
    const { mapTilesFromEnv } = await import('../../src/apps/rideshare/live-map.ts')
    assert.equal(mapTilesFromEnv({}), undefined)
    assert.equal(
      mapTilesFromEnv({ OPS_MAP_TILES_URL: 'https://t.example/{z}/{x}/{y}.png' }),
      'https://t.example/{z}/{x}/{y}.png',
    )
    assert.throws(
      () => mapTilesFromEnv({ OPS_MAP_TILES_URL: 'https://t.example/tiles.png' }),
      /OPS_MAP_TILES_URL: expected/,
    )
    assert.throws(() => mapTilesFromEnv({ OPS_MAP_TILES_URL: 'file:///{z}/{x}/{y}' }), /OPS_MAP_TILES_URL/)
    const view = new LiveMap({ tiles: 'https://t.example:8443/{z}/{x}/{y}.png' }).view()
    assert.deepEqual(view.imageOrigins, ['https://t.example:8443'])
    const { dashboardCsp } = await import('../../src/ops/dashboard/index.ts')
    assert.match(dashboardCsp([view]), /img-src data: https:\/\/t\.example:8443;/)
    assert.match(dashboardCsp([new LiveMap().view()]), /img-src data:;/)
  })
})

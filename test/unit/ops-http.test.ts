import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../src/log/logger.ts'
import { type HealthReport, healthFrom } from '../../src/ops/health.ts'
import { createOpsServer, json, type OpsServerOptions } from '../../src/ops/http.ts'
import { createMetrics } from '../../src/ops/metrics.ts'
import { prefersPrometheus } from '../../src/ops/negotiate.ts'

const PROM_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

function makeServer(overrides: Partial<OpsServerOptions> = {}) {
  const metrics = createMetrics()
  metrics.counter('messages_consumed_total', 'Records read').inc(undefined, 15420)
  return createOpsServer({
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
    health: () => healthFrom({ kafka: { connected: true }, redis: { connected: true } }),
    metricsJson: () => ({ messages_consumed_total: metrics.counter('messages_consumed_total', '').get() }),
    prometheus: () => metrics.prometheus(),
    ...overrides,
  })
}

describe('prefersPrometheus', () => {
  it('picks text for Prometheus scrapers and JSON for browsers, curl and JSON clients', () => {
    const prometheus =
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
    assert.equal(prefersPrometheus(prometheus), true)
    assert.equal(prefersPrometheus('text/plain'), true)
    assert.equal(prefersPrometheus('application/openmetrics-text'), true)
    assert.equal(prefersPrometheus('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), false)
    assert.equal(prefersPrometheus('*/*'), false)
    assert.equal(prefersPrometheus(undefined), false)
    assert.equal(prefersPrometheus('application/json'), false)
    assert.equal(prefersPrometheus('application/json;q=0.5, text/plain'), true)
    assert.equal(prefersPrometheus('text/plain;q=0.2, application/json'), false)
  })
})

describe('ops routes in-process', () => {
  it('serves /health with 200 when healthy and 503 when unhealthy', async () => {
    const ok = await makeServer().handle({ url: '/health' })
    assert.equal(ok.status, 200)
    assert.equal(JSON.parse(String(ok.body)).message, 'All connections active')
    const bad = makeServer({ health: () => healthFrom({ kafka: { connected: false } }) })
    assert.equal((await bad.handle({ url: '/health' })).status, 503)
  })

  it('answers 503 with a message when the health check itself throws', async () => {
    const server = makeServer({
      health: (): HealthReport => {
        throw new Error('probe broke')
      },
    })
    const res = await server.handle({ url: '/health' })
    assert.equal(res.status, 503)
    assert.match(JSON.parse(String(res.body)).message, /probe broke/)
  })

  it('negotiates /metrics and always serves text at /metrics/prometheus', async () => {
    const server = makeServer()
    const asJson = await server.handle({ url: '/metrics' })
    assert.match(asJson.headers['content-type']!, /^application\/json/)
    assert.deepEqual(JSON.parse(String(asJson.body)), { messages_consumed_total: 15420 })
    assert.equal(asJson.headers.vary, 'Accept')
    const asText = await server.handle({ url: '/metrics', headers: { Accept: 'text/plain' } })
    assert.equal(asText.headers['content-type'], PROM_TYPE)
    assert.match(String(asText.body), /^weir_messages_consumed_total 15420$/m)
    const forced = await server.handle({ url: '/metrics?format=prometheus' })
    assert.equal(forced.headers['content-type'], PROM_TYPE)
    const always = await server.handle({
      url: '/metrics/prometheus',
      headers: { accept: 'application/json' },
    })
    assert.equal(always.headers['content-type'], PROM_TYPE)
  })

  it('answers unknown paths with 404 JSON and wrong methods with 405 and Allow', async () => {
    const server = makeServer()
    const missing = await server.handle({ url: '/nope' })
    assert.equal(missing.status, 404)
    assert.equal(JSON.parse(String(missing.body)).error, 'not_found')
    const wrong = await server.handle({ method: 'POST', url: '/health' })
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.allow, 'GET, HEAD')
  })

  it('answers HEAD like GET without a body', async () => {
    const server = makeServer()
    const get = await server.handle({ url: '/health' })
    const head = await server.handle({ method: 'HEAD', url: '/health' })
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
    assert.equal(head.headers['content-length'], get.headers['content-length'])
  })

  it('turns a throwing route into a logged 500 JSON without leaking the error', async () => {
    const logged: string[] = []
    const server = makeServer({
      logger: { ...silentLogger, error: (msg) => void logged.push(msg) },
      routes: [
        {
          method: 'GET',
          path: '/boom',
          handler: () => {
            throw new Error('secret internals')
          },
        },
      ],
    })
    const res = await server.handle({ url: '/boom' })
    assert.equal(res.status, 500)
    assert.equal(JSON.parse(String(res.body)).error, 'internal_error')
    assert.doesNotMatch(String(res.body), /secret internals/)
    assert.deepEqual(logged, ['ops route failed'])
  })

  it('routes extra routes with :params, query and body', async () => {
    const server = makeServer({
      routes: [
        {
          method: 'POST',
          path: '/dlq/:id/replay',
          handler: (req) => json(202, { id: req.params.id, dry: req.query.get('dry'), body: req.body }),
        },
      ],
    })
    const res = await server.handle({ method: 'POST', url: '/dlq/a%20b/replay?dry=1', body: 'x' })
    assert.equal(res.status, 202)
    assert.deepEqual(JSON.parse(String(res.body)), { id: 'a b', dry: '1', body: 'x' })
  })

  it('refuses an extra route that redefines a built-in one', () => {
    assert.throws(
      () => makeServer({ routes: [{ method: 'GET', path: '/health', handler: () => json(200, {}) }] }),
      {
        code: 'CONFIG_INVALID',
      },
    )
  })
})

describe('ops server over a real port', () => {
  const server = makeServer({
    routes: [{ method: 'POST', path: '/echo', handler: (req) => json(200, { got: req.body }) }],
  })
  let base = ''
  before(async () => {
    base = (await server.start()).url
  })
  after(() => server.close())

  it('binds port 0 to a free port and serves health', async () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(`${base}/health`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(((await res.json()) as { status: string }).status, 'healthy')
  })

  it('negotiates /metrics by Accept header the way a Prometheus scraper asks', async () => {
    const scrape = await fetch(`${base}/metrics`, {
      headers: {
        accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      },
    })
    assert.equal(scrape.headers.get('content-type'), PROM_TYPE)
    assert.match(await scrape.text(), /# TYPE weir_messages_consumed_total counter/)
    const browser = await fetch(`${base}/metrics`)
    assert.deepEqual(await browser.json(), { messages_consumed_total: 15420 })
  })

  it('serves HEAD with headers only, and reads request bodies', async () => {
    const head = await fetch(`${base}/health`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
    const echo = await fetch(`${base}/echo`, { method: 'POST', body: 'hello' })
    assert.deepEqual(await echo.json(), { got: 'hello' })
  })

  it('rejects an oversized body with 413', async () => {
    const small = makeServer({
      maxBodyBytes: 10,
      routes: [{ method: 'POST', path: '/echo', handler: () => json(200, {}) }],
    })
    const { url } = await small.start()
    try {
      const res = await fetch(`${url}/echo`, { method: 'POST', body: 'x'.repeat(100) })
      assert.equal(res.status, 413)
    } finally {
      await small.close()
    }
  })

  it('start() is idempotent and close() is safe to call twice', async () => {
    const again = await server.start()
    assert.equal(again.url, base)
    const other = makeServer()
    await other.close()
  })
})

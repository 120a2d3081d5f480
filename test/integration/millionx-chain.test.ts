/**
 * The MillionX chain against real Kafka and Redis: `weir produce millionx` data → schema validator →
 * privacy shield → context enricher, all stages in one process (as `weir run millionx`), with the
 * weather from a local HTTP server answering in OpenWeatherMap's shape (the real service is out of
 * reach here; the client is the real one). Then the weather service failing: records go on with
 * `weather: null` and a reason, the circuit breaker bounds the calls.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { millionxApp } from '../../src/apps/millionx/app.ts'
import { SOURCE_TOPICS, STAGE_TOPICS, VALIDATED_TOPICS } from '../../src/apps/millionx/domain/index.ts'
import { CITIES, RedisCache } from '../../src/enrich/index.ts'
import { millionxGenerator } from '../../src/generators/index.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createAnonymizer } from '../../src/privacy/index.ts'
import { type RunningStages, startStages } from '../../src/service/stages.ts'
import { readAll, totalEnd, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'
import { type Cleanup, eventually, startRedisServer, suiteCleanup, testCleanup } from './helpers/services.ts'

const kafka = testKafka()
const CHAIN = 'schema-validator,privacy-shield,context-enricher'
const SALT = 'chain-test-salt'
const TEMPS: Record<string, number> = {
  Dhaka: 24.5,
  Chittagong: 26.1,
  Sylhet: 21.3,
  Rajshahi: 19.8,
  Khulna: 25.2,
}

type Mode = 'ok' | 'fail' | 'hang'

/** What the enricher writes (the fields this suite checks). */
interface Contextualized {
  readonly [field: string]: unknown
  readonly customer_email?: string
  readonly _anonymized: boolean
  readonly _anonymization_version: string
  readonly _pii_counts: Record<string, number>
  readonly product_context: { category: string; confidence: number }
  readonly city: string | null
  readonly weather: { temperature: number; conditions: string } | null
  readonly temporal_context: { season: string; is_weekend: boolean }
}

/** A local server in OpenWeatherMap's current-weather shape; counts calls; can fail or hang. */
async function fakeWeather(cleanup: Cleanup) {
  const state = { mode: 'ok' as Mode, calls: 0, keys: new Set<string>() }
  const hung: http.ServerResponse[] = []
  const server = http.createServer((req, res) => {
    state.calls++
    const url = new URL(req.url ?? '/', 'http://x')
    state.keys.add(url.searchParams.get('appid') ?? '')
    if (state.mode === 'hang') {
      hung.push(res)
      return
    }
    if (state.mode === 'fail') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"cod":500,"message":"internal error"}')
      return
    }
    const lat = Number(url.searchParams.get('lat'))
    const city = Object.entries(CITIES).find(([, c]) => Math.abs(c.lat - lat) < 1e-6)?.[0]
    if (city === undefined || url.searchParams.get('units') !== 'metric') {
      res.writeHead(400).end('{"cod":"400","message":"wrong query"}')
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        coord: { lon: Number(url.searchParams.get('lon')), lat },
        weather: [{ id: 721, main: 'Haze', description: 'haze', icon: '50d' }],
        main: { temp: TEMPS[city], feels_like: TEMPS[city]! + 1, pressure: 1012, humidity: 60 },
        wind: { speed: 2.5, deg: 300 },
        dt: 1_766_000_000,
        name: city,
        cod: 200,
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const r of hung) r.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/data/2.5/weather` }
}

/** Every topic and group of the chain under a prefix of its own, deleted with the suite. */
function chainNames(label: string, cleanup: Cleanup) {
  const prefix = `${uniqueName(label)}.`
  const topics = [
    ...SOURCE_TOPICS.map((t) => prefix + t),
    ...SOURCE_TOPICS.map((t) => prefix + VALIDATED_TOPICS[t]),
    `${prefix}schema-validation-errors`,
    `${prefix}privacy-shield-errors`,
    `${prefix}context-enricher-errors`,
    ...Object.values(STAGE_TOPICS.anonymized).map((t) => prefix + t),
    ...Object.values(STAGE_TOPICS.contextualized).map((t) => prefix + t),
  ]
  const groups = ['SCHEMA_VALIDATOR', 'PRIVACY_SHIELD', 'CONTEXT_ENRICHER'].map((s) => [
    s,
    `${prefix}${s.toLowerCase()}`,
  ])
  cleanup(async () => {
    await deleteTopics(topics)
    const admin = kafka.admin()
    await admin.deleteGroups(groups.map(([, g]) => g!)).finally(() => admin.close())
  })
  return {
    prefix,
    env: Object.fromEntries(groups.map(([s, g]) => [`${s}_KAFKA_GROUP_ID`, g!])),
  }
}

async function produce(prefix: string, count: number, seed: number) {
  for (const t of SOURCE_TOPICS) await createTopic(undefined, { name: prefix + t, partitions: 3 })
  const sink = kafka.sink({ clientId: 'millionx-chain-producer' })
  await sink.open()
  const records = millionxGenerator({ seed, invalidShare: 0.05 }).take(count)
  try {
    for (const r of records)
      sink.add({
        topic: prefix + r.topic,
        key: Buffer.from(r.key ?? ''),
        value: Buffer.from(JSON.stringify(r.value)),
        headers: {},
        timestamp: r.timestamp,
      })
    await sink.flush()
  } finally {
    await sink.close()
  }
  return records
}

async function startChain(cleanup: Cleanup, env: Record<string, string>): Promise<RunningStages> {
  const stages = await startStages(millionxApp, {
    env,
    logger: silentLogger,
    handleSignals: false,
    http: { host: '127.0.0.1', port: 0 },
  })
  cleanup(() => stages.stop())
  return stages
}

async function getJson(stages: RunningStages, stage: string, url: string) {
  const r = await stages.services.get(stage)!.ops!.handle({ url })
  return { status: r.status, body: JSON.parse(String(r.body)) as Record<string, unknown> }
}

describe('millionx chain: validator → privacy shield → context enricher (real Kafka and Redis)', {
  timeout: 180_000,
}, () => {
  const cleanup = suiteCleanup()

  it('every valid record arrives anonymised and enriched; weather once per city through Redis', async (t) => {
    const local = testCleanup(t)
    const weather = await fakeWeather(local)
    const { prefix, env } = chainNames('mxchain', cleanup)
    const cachePrefix = `${prefix}cache:`
    const cache = new RedisCache({ host: '127.0.0.1', port: 6379, keyPrefix: cachePrefix })
    local(async () => {
      for (const c of Object.keys(CITIES)) await cache.del(`weather:${c.toLowerCase()}`)
      await cache.close()
    })
    const N = 1500
    const records = await produce(prefix, N, 11)
    const valid = records.filter((r) => r.defect === undefined)
    const started = performance.now()
    const stages = await startChain(local, {
      ...env,
      KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
      TOPIC_PREFIX: prefix,
      PRIVACY_SALT: SALT,
      REDIS_HOST: '127.0.0.1',
      CACHE_KEY_PREFIX: cachePrefix,
      WEATHER_API_URL: weather.url,
      WEATHER_API_KEY: 'test-key',
      // The three stages this suite covers; the embedding stage has its own end-to-end suite.
      MILLIONX_STAGES: CHAIN,
    })
    assert.deepEqual([...stages.services.keys()], ['schema-validator', 'privacy-shield', 'context-enricher'])
    const outTopics = Object.values(STAGE_TOPICS.contextualized).map((x) => prefix + x)
    await waitUntil(
      'every valid record contextualized',
      async () => (await totalEnd(kafka, outTopics)) >= valid.length,
      120_000,
    )
    t.diagnostic(
      `${N} records through three stages in ${((performance.now() - started) / 1000).toFixed(1)} s (incl. start and group joins)`,
    )

    const out = [...(await readAll(kafka, outTopics[0]!)), ...(await readAll(kafka, outTopics[1]!))]
    assert.equal(out.length, valid.length, 'each valid record once')
    const byKey = new Map(
      out.map((r) => [r.key!.toString(), JSON.parse(r.value!.toString()) as Contextualized]),
    )
    const anon = createAnonymizer({ salt: SALT })
    let withPii = 0
    for (const r of valid) {
      const o = byKey.get(r.key!)
      assert.ok(o, `record ${r.key} arrived`)
      const text = JSON.stringify(o)
      const v = r.value as Record<string, unknown>
      // No PII left: the author / customer's name, phone and e-mail are gone, replaced by stable tokens.
      for (const f of ['author', 'customer_name', 'customer_phone', 'customer_email']) {
        if (typeof v[f] !== 'string') continue
        assert.ok(!text.includes(v[f] as string), `${f} of ${r.key} is not in the output`)
        assert.match(String(o[f]), /^(NAME|PHONE|EMAIL)_[0-9a-f]{16}$/)
      }
      if (typeof v.customer_email === 'string')
        assert.equal(
          o.customer_email,
          anon.token('EMAIL', (v.customer_email as string).toLowerCase()),
          'same value, same token',
        )
      assert.equal(o._anonymized, true)
      assert.equal(o._anonymization_version, '1.0')
      const counts = o._pii_counts as Record<string, number>
      if (Object.values(counts).some((n) => n > 0)) withPii++
      // Enriched: category, the city's weather from the fake service, temporal context.
      assert.ok(
        ['smartphone', 'laptop', 'fashion', 'electronics', 'home', 'general'].includes(
          o.product_context.category,
        ),
      )
      assert.ok(o.product_context.confidence > 0 && o.product_context.confidence < 1)
      assert.ok(o.city, `record ${r.key} has a city`)
      assert.equal(o.weather?.temperature, TEMPS[o.city], `weather of ${o.city}`)
      assert.equal(o.weather?.conditions, 'Haze')
      assert.ok(['winter', 'summer', 'monsoon', 'autumn'].includes(o.temporal_context.season))
      assert.equal(typeof o.temporal_context.is_weekend, 'boolean')
    }
    assert.equal(withPii, valid.length, 'every generated record carried PII')
    // Orders by product name: a phone is a smartphone.
    const phones = valid.filter(
      (r) => (r.value as { product_name?: string }).product_name === 'Xiaomi Redmi Note 13',
    )
    for (const r of phones) assert.equal(byKey.get(r.key!)!.product_context.category, 'smartphone')

    assert.ok(
      weather.state.calls <= Object.keys(CITIES).length,
      `${weather.state.calls} weather calls: one per city at most`,
    )
    assert.deepEqual([...weather.state.keys], ['test-key'])
    const cached = await cache.get('weather:dhaka')
    assert.equal(JSON.parse(cached!).temperature, TEMPS.Dhaka, 'the weather is in the shared Redis cache')

    for (const stage of stages.services.keys()) {
      const h = await getJson(stages, stage, '/health')
      assert.equal(h.status, 200, stage)
      assert.equal(h.body.status, 'healthy', `${stage}: ${JSON.stringify(h.body)}`)
    }
    const enricher = (await getJson(stages, 'context-enricher', '/metrics?format=json')).body
    assert.ok((enricher.cache_hit_rate as number) > 95, `cache hit rate ${enricher.cache_hit_rate}`)
    assert.equal(enricher.weather_api_calls, weather.state.calls)
    assert.equal(enricher.weather_api_errors, 0)
    assert.ok((enricher.enrichment_latency_ms as { p95_ms: number }).p95_ms >= 0)
    const shield = (await getJson(stages, 'privacy-shield', '/metrics?format=json')).body
    assert.equal(shield.messages_processed, valid.length)
    const pii = shield.pii_detected as Record<string, number>
    for (const type of ['EMAIL', 'PHONE', 'NAME', 'CARD', 'NID'])
      assert.ok(pii[type]! > 0, `${type} detected`)
    t.diagnostic(
      `PII replaced: ${JSON.stringify(pii)}; enricher p95 ${JSON.stringify(enricher.enrichment_latency_ms)}`,
    )
  })

  it('a weather service that hangs: records go on with weather null and a reason; the breaker bounds the calls', async (t) => {
    const local = testCleanup(t)
    const weather = await fakeWeather(local)
    weather.state.mode = 'hang'
    const { prefix, env } = chainNames('mxchain-down', cleanup)
    const N = 300
    const records = await produce(prefix, N, 12)
    const valid = records.filter((r) => r.defect === undefined)
    const stages = await startChain(local, {
      ...env,
      KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
      TOPIC_PREFIX: prefix,
      PRIVACY_SALT: SALT,
      REDIS_HOST: '127.0.0.1',
      CACHE_KEY_PREFIX: `${prefix}cache:`,
      WEATHER_API_URL: weather.url,
      WEATHER_API_KEY: 'test-key',
      WEATHER_TIMEOUT: '300ms',
      WEATHER_BREAKER_THRESHOLD: '3',
      WEATHER_BREAKER_COOLDOWN: '10m',
      MILLIONX_STAGES: CHAIN,
    })
    const outTopics = Object.values(STAGE_TOPICS.contextualized).map((x) => prefix + x)
    await waitUntil(
      'every valid record contextualized',
      async () => (await totalEnd(kafka, outTopics)) >= valid.length,
      120_000,
    )
    const out = [...(await readAll(kafka, outTopics[0]!)), ...(await readAll(kafka, outTopics[1]!))]
    assert.equal(out.length, valid.length)
    const reasons = new Map<string, number>()
    for (const r of out) {
      const o = JSON.parse(r.value!.toString()) as { weather: unknown; weather_unavailable_reason: string }
      assert.equal(o.weather, null)
      reasons.set(o.weather_unavailable_reason, (reasons.get(o.weather_unavailable_reason) ?? 0) + 1)
    }
    t.diagnostic(`reasons: ${JSON.stringify(Object.fromEntries(reasons))}; calls ${weather.state.calls}`)
    // Lookups of one city share a call, so the first wave all time out together; later ones skip it.
    assert.ok((reasons.get('timeout') ?? 0) >= 1)
    assert.ok((reasons.get('circuit_open') ?? 0) >= 1)
    assert.equal((reasons.get('timeout') ?? 0) + (reasons.get('circuit_open') ?? 0), valid.length)
    // Threshold 3 + calls already under way when it opened (at most the limiter's 4).
    assert.ok(weather.state.calls <= 3 + 4, `${weather.state.calls} calls`)
    const h = await getJson(stages, 'context-enricher', '/health')
    assert.equal(h.body.status, 'degraded')
    assert.match(JSON.stringify(h.body), /circuit open/)
  })

  it('Redis down: the enricher says so in /health, goes on without the cache, and recovers when it returns', async (t) => {
    const local = testCleanup(t)
    const weather = await fakeWeather(local)
    const redis = await startRedisServer(local)
    const { prefix, env } = chainNames('mxchain-redis', cleanup)
    for (const kind of ['social', 'market'] as const)
      await createTopic(undefined, { name: prefix + STAGE_TOPICS.anonymized[kind], partitions: 3 })
    const stages = await startChain(local, {
      ...env,
      KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
      TOPIC_PREFIX: prefix,
      REDIS_HOST: redis.host,
      REDIS_PORT: String(redis.port),
      WEATHER_API_URL: weather.url,
      WEATHER_API_KEY: 'test-key',
      MILLIONX_STAGES: 'context-enricher',
    })
    const health = async () => (await getJson(stages, 'context-enricher', '/health')).body
    await eventually(async () => (await health()).status === 'healthy', 20_000)
    await redis.stop()
    await eventually(async () => {
      const h = await health()
      return h.status === 'degraded' && h.redis_connected === false
    }, 20_000)
    // A record meanwhile is enriched all the same: weather straight from the API.
    const sink = kafka.sink({ clientId: 'millionx-chain-producer' })
    await sink.open()
    const order = millionxGenerator({ seed: 3 })
      .take(50)
      .find((r) => r.topic.startsWith('source.market.'))!
    sink.add({
      topic: prefix + STAGE_TOPICS.anonymized.market,
      key: Buffer.from(order.key!),
      value: Buffer.from(JSON.stringify(order.value)),
      headers: {},
    })
    await sink.flush()
    await sink.close()
    const out = prefix + STAGE_TOPICS.contextualized.market
    await waitUntil(
      'the record enriched without Redis',
      async () => (await totalEnd(kafka, [out])) >= 1,
      30_000,
    )
    const [r] = await readAll(kafka, out)
    const v = JSON.parse(r!.value!.toString()) as Contextualized
    assert.equal(v.weather?.temperature, TEMPS[v.city!])
    await redis.start()
    await eventually(async () => (await health()).status === 'healthy', 30_000)
  })
})

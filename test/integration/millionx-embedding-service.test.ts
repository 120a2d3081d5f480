/**
 * The MillionX embedding service end to end against the real broker and PostgreSQL with pgvector:
 * enriched posts and orders → 384-dim vectors in "SocialPost" / "MarketOrder" and the records byte for
 * byte on sink.snowflake.*; bad records dead-lettered with reasons; no offset committed while the vector
 * store is unreachable (a cut proxy), everything stored once it is back; a replay from the beginning
 * adds no rows; GET /search and `weir search millionx` put the relevant post first.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { embeddingServiceStage } from '../../src/apps/millionx/stages/embedding-service.ts'
import type { KafkaTransport } from '../../src/connectors/kafka/index.ts'
import { readDeadLetter } from '../../src/runtime/dead-letter.ts'
import { CLI, readAll, startApp, totalEnd, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka } from './helpers/kafka.ts'
import { pgConnection, pgQuery, suiteCleanup, tcpProxy, uniqueName } from './helpers/services.ts'

const kafka = testKafka()
const exec = promisify(execFile)

const RELEVANT = 'fb_post_cheap_android_dhaka'
const PRODUCTS = [
  ['Handwoven Jamdani saree with golden border', 'fashion', 'Sylhet'],
  ['Non-stick frying pan set for the kitchen', 'home', 'Khulna'],
  ['Miniket rice 25 kg sack', 'grocery', 'Rajshahi'],
  ['Gaming laptop with RTX graphics, 32GB RAM', 'laptop', 'Chittagong'],
  ['Cotton panjabi for Eid, all sizes', 'fashion', 'Dhaka'],
  ['Wall clock with wooden frame', 'home', 'Sylhet'],
  ['Lipstick set, long lasting matte colours', 'beauty', 'Khulna'],
  ['Ceiling fan 56 inch energy saving', 'electronics', 'Rajshahi'],
] as const

/** A post as the context enricher leaves it: anonymised author, category, weather, temporal context. */
function post(i: number) {
  const [product, category, city] = PRODUCTS[i % PRODUCTS.length]!
  return {
    post_id: `tt_post_${i}`,
    platform: 'tiktok',
    content: `Loving my new purchase: ${product}! Delivery to ${city} was quick #${category} #shopping`,
    author: `NAME_${(1e15 + i).toString(16)}`,
    engagement_count: 100 + i,
    hashtags: [category, 'shopping'],
    location: city,
    posted_at: '2026-12-01T10:00:00+06:00',
    _anonymized: true,
    _anonymization_version: '1.0',
    product_context: { category, confidence: 0.8, keywords: [category] },
    city,
    weather: {
      city,
      temperature: 24.5,
      humidity: 70,
      conditions: 'haze',
      wind_speed: 2.1,
      is_extreme_weather: false,
    },
    temporal_context: {
      hour: 10,
      day_of_week: 'Tuesday',
      season: 'winter',
      is_business_hours: true,
      is_weekend: false,
    },
  }
}

function order(i: number) {
  const [product, category, city] = PRODUCTS[(i + 3) % PRODUCTS.length]!
  return {
    order_id: `daraz_order_${i}`,
    platform: 'daraz',
    product_id: `p${i}`,
    product_name: product,
    category,
    quantity: 1,
    unit_price: 1500,
    total_price: 1500,
    currency: 'BDT',
    customer_name: `NAME_${(2e15 + i).toString(16)}`,
    shipping_city: city,
    payment_method: 'bkash',
    status: 'confirmed',
    order_date: '2026-12-01T11:00:00+06:00',
    _anonymized: true,
    product_context: { category, confidence: 0.7, keywords: [category] },
    city,
    weather: null,
    weather_unavailable_reason: 'timeout',
  }
}

const relevantPost = {
  ...post(9999),
  post_id: RELEVANT,
  platform: 'facebook',
  content:
    'Cheap Android phone in Dhaka: Samsung Galaxy A05, 4GB RAM, only 11,999 taka with home delivery in Mirpur',
  hashtags: ['smartphone', 'budget'],
  location: 'Dhaka',
  city: 'Dhaka',
  product_context: { category: 'smartphone', confidence: 0.9, keywords: ['android', 'phone'] },
}

async function produce(
  topic: string,
  values: ReadonlyArray<unknown | Buffer>,
  from: number,
): Promise<Map<string, Buffer>> {
  const sink = kafka.sink({ clientId: 'weir-test-producer' })
  await sink.open()
  const sent = new Map<string, Buffer>()
  try {
    values.forEach((v, k) => {
      const id = String(from + k)
      const value = Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))
      sent.set(id, value)
      sink.add({
        topic,
        key: Buffer.from(`key-${id}`),
        value,
        headers: { 'test-id': Buffer.from(id) },
        timestamp: Date.now(),
      })
    })
    await sink.flush()
  } finally {
    await sink.close()
  }
  return sent
}

async function committedTotal(k: KafkaTransport, group: string, topics: readonly string[]): Promise<number> {
  const admin = k.admin()
  try {
    let n = 0
    for (const v of (await admin.committedOffsets(group, topics)).values()) n += v
    return n
  } finally {
    await admin.close()
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('millionx embedding service (enriched.* → pgvector + sink.snowflake.*)', {
  timeout: 180_000,
}, () => {
  const cleanup = suiteCleanup()
  const prefix = `${uniqueName('emb')}.`
  const schema = prefix.slice(0, -1).replaceAll('-', '_')
  const inputs = {
    social: `${prefix}enriched.social.contextualized`,
    market: `${prefix}enriched.market.contextualized`,
  }
  const outputs = { social: `${prefix}sink.snowflake.social`, market: `${prefix}sink.snowflake.market` }
  const dlq = `${prefix}embedding-service-errors`
  const groups = [`${prefix}group`, `${prefix}replay`]
  cleanup(async () => {
    await deleteTopics([...Object.values(inputs), ...Object.values(outputs), dlq])
    const admin = kafka.admin()
    await admin.deleteGroups(groups)
    await admin.close()
  })
  cleanup(() => pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
  const pg = pgConnection()
  const rows = async () =>
    Number(
      (
        await pgQuery<{ n: string }>(
          `SELECT (SELECT count(*) FROM "${schema}"."SocialPost") + (SELECT count(*) FROM "${schema}"."MarketOrder") AS n`,
        )
      )[0]!.n,
    )
  const env = (group: string, pgPort: number) => ({
    KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
    TOPIC_PREFIX: prefix,
    KAFKA_GROUP_ID: group,
    KAFKA_CLIENT_ID: group,
    PGVECTOR_URL: `postgres://${pg.user}@${pg.host}:${pgPort}/${pg.database}`,
    PGVECTOR_SCHEMA: schema,
    EMBEDDING_FLUSH_INTERVAL: '300ms',
  })

  it('stores every post and order once, commits only stored records, survives a store outage and a replay, and finds the relevant post first', async (t) => {
    for (const topic of Object.values(inputs)) await createTopic(undefined, { name: topic, partitions: 3 })
    const proxy = await tcpProxy(cleanup, { host: pg.host, port: pg.port })
    const posts = [...Array.from({ length: 80 }, (_, i) => post(i)), relevantPost]
    const orders = Array.from({ length: 40 }, (_, i) => order(i))
    const bad = [Buffer.from('{not json'), { platform: 'tiktok', content: 'no post id here' }]
    const sent = new Map([
      ...(await produce(inputs.social, [...posts, ...bad], 0)),
      ...(await produce(inputs.market, orders, 1000)),
    ])
    const stored = posts.length + orders.length

    const started = performance.now()
    const app = await startApp(embeddingServiceStage, env(groups[0]!, proxy.port))
    cleanup(() => app.stop())
    const base = app.address!.url
    await waitUntil(
      'every record stored and committed',
      async () => {
        const [n, committed] = await Promise.all([
          rows().catch(() => 0),
          committedTotal(kafka, groups[0]!, Object.values(inputs)),
        ])
        return n === stored && committed === sent.size
      },
      90_000,
    )
    t.diagnostic(
      `embedding service: ${sent.size} records stored and committed in ${((performance.now() - started) / 1000).toFixed(2)} s (incl. model load and group join)`,
    )

    // The sink topics carry each input record unchanged (key and value bytes); bad ones are dead letters.
    const out = [...(await readAll(kafka, outputs.social)), ...(await readAll(kafka, outputs.market))]
    assert.equal(out.length, stored)
    for (const r of out) {
      const id = r.headers['test-id']!.toString()
      assert.deepEqual(r.value, sent.get(id), `record ${id}`)
      assert.equal(r.key?.toString(), `key-${id}`)
    }
    const dead = await readAll(kafka, dlq)
    assert.equal(dead.length, 2)
    for (const d of dead) {
      const info = readDeadLetter(d.headers)
      assert.equal(info.code, 'VALIDATION_FAILED')
      assert.equal(info.source.topic, inputs.social)
      assert.match(info.message ?? '', /not JSON|post_id/)
    }

    const phase = (name: string) =>
      t.diagnostic(`${name} at ${((performance.now() - started) / 1000).toFixed(1)} s`)
    // The vector store goes away: records keep coming, nothing more is committed, /health says why.
    const committedBefore = await committedTotal(kafka, groups[0]!, Object.values(inputs))
    await proxy.cut()
    const more = await produce(
      inputs.social,
      Array.from({ length: 20 }, (_, i) => ({ ...post(500 + i), post_id: `late_${i}` })),
      5000,
    )
    await waitUntil(
      'the outage on /health and in /metrics',
      async () => {
        const [health, metrics] = await Promise.all([getJson(`${base}/health`), getJson(`${base}/metrics`)])
        return (
          health.body.vector_store_connected === false &&
          health.body.status === 'degraded' &&
          metrics.body.checkpoint_error !== null
        )
      },
      30_000,
    )
    // Consumed (on the sink topic) but not committed: the vectors are not stored.
    await waitUntil(
      'the new records consumed',
      async () => (await totalEnd(kafka, [outputs.social])) >= posts.length + 20,
      30_000,
    )
    assert.equal(await committedTotal(kafka, groups[0]!, Object.values(inputs)), committedBefore)
    assert.equal(await rows(), stored)
    await proxy.restore()
    await waitUntil(
      'the held records stored and committed after the outage',
      async () => {
        const [n, committed] = await Promise.all([
          rows(),
          committedTotal(kafka, groups[0]!, Object.values(inputs)),
        ])
        return n === stored + more.size && committed === sent.size + more.size
      },
      60_000,
    )
    phase('outage over, everything stored')
    const health = await getJson(`${base}/health`)
    assert.equal(health.body.vector_store_connected, true)

    // Search on the service's port: the relevant post first, with its score and the full record.
    const search = await getJson(
      `${base}/search?q=${encodeURIComponent('cheap android phone in dhaka')}&limit=5`,
    )
    assert.equal(search.status, 200)
    const results = search.body.results as Array<{
      id: string
      score: number
      collection: string
      record: { post_id?: string }
    }>
    assert.equal(results.length, 5)
    assert.equal(results[0]!.id, RELEVANT)
    assert.equal(results[0]!.collection, 'SocialPost')
    assert.equal(results[0]!.record.post_id, RELEVANT)
    assert.ok(results[0]!.score > results[1]!.score + 0.1, `scores ${results.map((r) => r.score)}`)
    assert.equal((await getJson(`${base}/search`)).status, 400)
    const orderSearch = await getJson(`${base}/search?q=rice&limit=1&collection=MarketOrder`)
    assert.equal((orderSearch.body.results as Array<{ collection: string }>)[0]!.collection, 'MarketOrder')

    // The seed's embedding metrics.
    const metrics = (await getJson(`${base}/metrics`)).body
    assert.ok(Number(metrics.batch_size) >= 1 && Number(metrics.batch_size) <= 100)
    assert.ok((metrics.embedding_latency_ms as { p95_ms: number }).p95_ms > 0)
    assert.ok(
      Number(metrics.weaviate_write_success_rate) > 0 && Number(metrics.weaviate_write_success_rate) < 100,
    )
    assert.equal(metrics.records_stored, stored + more.size)
    await app.stop()

    phase('search and metrics checked')
    // A replay from the beginning (a new group) writes every record again: no row is added. With a long
    // flush interval (the seed's is 30 s; 5 min here so a slow machine cannot reach it), the first full
    // batch of 100 is stored at once and the rest waits, uncommitted, until the flush or, here, the
    // graceful stop's final checkpoint (here under exactly-once: offsets commit with the transaction).
    const replay = await startApp(embeddingServiceStage, {
      ...env(groups[1]!, pg.port),
      EMBEDDING_FLUSH_INTERVAL: '5m',
      // Offsets in Kafka transactions: the stage runs the same under exactly-once.
      PROCESSING_GUARANTEE: 'exactly_once',
    })
    cleanup(() => replay.stop())
    const storedByReplay = () =>
      (replay.app.metricsJson!(replay.running) as { records_stored: number }).records_stored
    await waitUntil('the replay’s first full batch stored', async () => storedByReplay() >= 100, 60_000)
    assert.equal(await committedTotal(kafka, groups[1]!, Object.values(inputs)), 0)
    assert.ok(storedByReplay() < stored + more.size)
    await replay.stop()
    assert.equal(storedByReplay(), stored + more.size)
    assert.equal(await committedTotal(kafka, groups[1]!, Object.values(inputs)), sent.size + more.size)
    assert.equal(await rows(), stored + more.size)

    phase('replay done')
    // The CLI searches the same store.
    const cli = await exec(
      process.execPath,
      [CLI, 'search', 'millionx', 'cheap android phone in dhaka', '--limit', '3'],
      {
        env: { ...process.env, ...env(groups[1]!, pg.port), LOG_LEVEL: 'warn' },
      },
    )
    const lines = cli.stdout.trim().split('\n')
    assert.equal(lines.length, 4, cli.stdout)
    assert.match(lines[1]!, new RegExp(`^ 1  0\\.\\d{4}  SocialPost   ${RELEVANT}`))
    phase('weir search done')
  })
})

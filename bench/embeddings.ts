/**
 * The MillionX embedding service's bench (`npm run bench:embeddings`), against the local broker and
 * PostgreSQL with pgvector:
 *
 *   1. model: all-MiniLM-L6-v2 on batches of EMBEDDING_BATCH_SIZE realistic enriched posts and orders;
 *      per batch the model time (tokenize + run + pool), and per record that time divided by the batch
 *      (batching wait excluded), p50/p95/p99, and records/s;
 *   2. stage: the embedding-service app over pre-produced input (Kafka → model → pgvector upsert +
 *      sink.snowflake.*), records/s from the first record consumed to the last one stored and committed;
 *   3. ceiling: the same input consumed by a Weir pipeline that does nothing else, in the same run.
 *
 *   node bench/embeddings.ts [--records 4000] [--batches 30] [--threads N] [--run-batch 8]
 *                            [--inline] [--model-only]
 *
 * Prints a table and one JSON line. The machine is shared: say how loaded it was (load average shown).
 */
import { createHash } from 'node:crypto'
import { availableParallelism, loadavg } from 'node:os'
import pg from 'pg'
import { embeddingServiceStage } from '../src/apps/millionx/stages/embedding-service.ts'
import { booleanFlag, numberFlag, parseArgs } from '../src/cli/args.ts'
import { kafkaTransport } from '../src/connectors/kafka/index.ts'
import { bytes } from '../src/core/serde.ts'
import { pipeline } from '../src/dsl/stream.ts'
import { SentenceEmbedder } from '../src/embeddings/index.ts'
import { silentLogger } from '../src/log/logger.ts'
import { createMetrics } from '../src/ops/index.ts'
import { run } from '../src/runtime/runner.ts'
import { startService } from '../src/service/service.ts'

const { flags } = parseArgs(process.argv.slice(2))
const RECORDS = numberFlag(flags, 'records', 4000, { min: 100 })
const BATCHES = numberFlag(flags, 'batches', 30, { min: 1 })
const THREADS = numberFlag(flags, 'threads', availableParallelism(), { min: 1 })
const RUN_BATCH = numberFlag(flags, 'run-batch', 8, { min: 1 })
const MODEL_ONLY = booleanFlag(flags, 'model-only')
/** One session on the bench's own thread (the path without worker threads), for comparison. */
const INLINE = booleanFlag(flags, 'inline')
const MODEL_THREADS = INLINE ? 1 : Math.min(THREADS, availableParallelism())
const BATCH = 100
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const PG_URL = process.env.PGVECTOR_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const log = (msg: string) => process.stderr.write(`[bench:embeddings] ${msg}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ------------------------------------------------------------------------------------ test data

const PRODUCTS = [
  ['Samsung Galaxy A15 5G, 8GB RAM, 256GB', 'smartphone'],
  ['Xiaomi Redmi Note 13 with AMOLED display', 'smartphone'],
  ['Walton Primo budget android phone', 'smartphone'],
  ['HP Pavilion 15 laptop, Core i5, 16GB', 'laptop'],
  ['Lenovo IdeaPad Slim 3 for students', 'laptop'],
  ['Handwoven Jamdani saree with golden border', 'fashion'],
  ['Cotton panjabi for Eid, all sizes', 'fashion'],
  ['Non-stick frying pan set for the kitchen', 'home'],
  ['Ceiling fan 56 inch, energy saving', 'electronics'],
  ['Rice cooker 1.8 litre with steamer', 'home'],
  ['Bluetooth earbuds with noise cancelling', 'electronics'],
  ['Miniket rice 25 kg sack', 'grocery'],
] as const
const CITIES = ['Dhaka', 'Chittagong', 'Sylhet', 'Rajshahi', 'Khulna'] as const
const OPENERS = [
  'Just got my',
  'Anyone selling a cheap',
  'Best price in town for the',
  'Review after one month with the',
  'Looking for a second-hand',
  'Flash sale today on the',
]

/** The privacy shield's token body: 16 hex digits of a salted SHA-256. */
const hex = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16)

function enriched(i: number): { topic: 'social' | 'market'; value: Record<string, unknown> } {
  const [product, category] = PRODUCTS[(i * 7) % PRODUCTS.length]!
  const city = CITIES[i % CITIES.length]!
  if (i % 3 !== 2) {
    return {
      topic: 'social',
      value: {
        post_id: `post_${i}`,
        platform: i % 2 === 0 ? 'tiktok' : 'facebook',
        content: `${OPENERS[i % OPENERS.length]} ${product}. Delivery to ${city} took ${1 + (i % 4)} days, price ${1000 + ((i * 37) % 90_000)} taka. Contact EMAIL_${hex(`e${i}`)} for details`,
        author: `NAME_${hex(`n${i}`)}`,
        engagement_count: i % 5000,
        hashtags: [category, 'bd', city.toLowerCase()],
        location: city,
        posted_at: '2026-12-01T10:00:00+06:00',
        _anonymized: true,
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
      },
    }
  }
  return {
    topic: 'market',
    value: {
      order_id: `order_${i}`,
      platform: i % 2 === 0 ? 'daraz' : 'shopify',
      product_id: `p${i % 500}`,
      product_name: product,
      category,
      quantity: 1,
      unit_price: 1500,
      total_price: 1500,
      currency: 'BDT',
      shipping_city: city,
      payment_method: 'bkash',
      status: 'confirmed',
      order_date: '2026-12-01T11:00:00+06:00',
      _anonymized: true,
      product_context: { category, confidence: 0.7, keywords: [category] },
      city,
    },
  }
}

function quantiles(xs: number[]): { p50: number; p95: number; p99: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b)
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length }
}

// --------------------------------------------------------------------------------- 1. the model

async function benchModel() {
  const embedder = await SentenceEmbedder.load({
    model: 'sentence-transformers/all-MiniLM-L6-v2',
    maxLength: 512,
    threads: THREADS,
    runBatchSize: RUN_BATCH,
    workerThreads: !INLINE,
  })
  const { embeddingText } = await import('../src/apps/millionx/stages/embedding-service.ts')
  const texts = Array.from({ length: BATCHES * BATCH }, (_, i) => {
    const r = enriched(i)
    return embeddingText(r.topic, r.value)!
  })
  await embedder.embed(texts.slice(0, BATCH)) // warm-up
  const batchMs: number[] = []
  let tokens = 0
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  for (let b = 0; b < BATCHES; b++) {
    await embedder.embed(texts.slice(b * BATCH, (b + 1) * BATCH), (t) => {
      batchMs.push(t.ms)
      tokens += t.tokens
    })
  }
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  const cpuMsPerRecord = (cpu.user + cpu.system) / 1000 / (BATCHES * BATCH)
  await embedder.close()
  const batch = quantiles(batchMs)
  const perRecord = quantiles(batchMs.map((ms) => ms / BATCH))
  return {
    batches: BATCHES,
    batch_size: BATCH,
    tokens_per_record: tokens / (BATCHES * BATCH),
    batch_ms: batch,
    per_record_ms: perRecord,
    records_per_sec: (BATCHES * BATCH) / seconds,
    cpu_ms_per_record: cpuMsPerRecord,
    /** CPU time over wall time: how many cores the model got (at most 1 on one thread). */
    cores_used: (cpu.user + cpu.system) / 1e6 / seconds,
    records_per_sec_if_cores_free: (1000 / cpuMsPerRecord) * MODEL_THREADS,
  }
}

// ------------------------------------------------------------------- 2. and 3. stage and ceiling

async function produce(topicOf: (kind: 'social' | 'market') => string, count: number): Promise<void> {
  const kafka = kafkaTransport({ brokers: BROKERS, clientId: 'bench-embeddings-producer' })
  const admin = kafka.admin()
  await admin.ensureTopics(
    (['social', 'market'] as const).map((k) => ({ name: topicOf(k), partitions: 3, replicationFactor: 1 })),
  )
  await admin.close()
  const sink = kafka.sink({ clientId: 'bench-embeddings-producer' })
  await sink.open()
  for (let i = 0; i < count; i++) {
    const r = enriched(i)
    sink.add({
      topic: topicOf(r.topic),
      key: Buffer.from(String(i)),
      value: Buffer.from(JSON.stringify(r.value)),
      headers: {},
    })
    if (i % 2000 === 1999) await sink.flush()
  }
  await sink.flush()
  await sink.close()
}

async function benchStage(prefix: string, schema: string) {
  const env = {
    KAFKA_BOOTSTRAP_SERVERS: BROKERS.join(','),
    TOPIC_PREFIX: prefix,
    KAFKA_GROUP_ID: `${prefix}stage`,
    PGVECTOR_URL: PG_URL,
    PGVECTOR_SCHEMA: schema,
    EMBEDDING_THREADS: String(THREADS),
    EMBEDDING_RUN_BATCH_SIZE: String(RUN_BATCH),
    EMBEDDING_FLUSH_INTERVAL: '1s',
  }
  const service = await startService(embeddingServiceStage, {
    env,
    logger: silentLogger,
    handleSignals: false,
    http: false,
    transport: (k) => kafkaTransport({ brokers: [...k.brokers], clientId: k.clientId }),
  })
  const m = service.running.task.metrics
  let first = 0
  let cpu0 = process.cpuUsage()
  const metricsOf = () =>
    service.app.metricsJson?.(service.running) as {
      records_stored: number
      embedding_latency_ms: unknown
      embedding_latency_per_record_ms: unknown
    }
  for (;;) {
    if (first === 0 && m.consumed.total() > 0) {
      first = performance.now()
      cpu0 = process.cpuUsage()
    }
    if (metricsOf().records_stored >= RECORDS) break
    await sleep(20)
  }
  const seconds = (performance.now() - first) / 1000
  const cpu = process.cpuUsage(cpu0)
  const figures = metricsOf()
  await service.stop()
  return {
    records: RECORDS,
    seconds,
    records_per_sec: RECORDS / seconds,
    /** The whole process: consumer, model threads, pgvector client, producer. */
    cpu_ms_per_record: (cpu.user + cpu.system) / 1000 / RECORDS,
    model_batch_ms: figures.embedding_latency_ms,
    model_per_record_ms: figures.embedding_latency_per_record_ms,
  }
}

/** Enough input that the consume rate is measured over many fetches, not one. */
const CEILING_RECORDS = Math.max(RECORDS, 60_000)
const ceilingTopic = (prefix: string, k: string) => `${prefix}ceiling.${k}`

async function benchCeiling(prefix: string) {
  const metrics = createMetrics()
  const p = pipeline('bench-embeddings-ceiling')
  for (const k of ['social', 'market'])
    p.stream(ceilingTopic(prefix, k), { key: bytes(), value: bytes() }).peek(() => {})
  const running = await run(p, {
    transport: kafkaTransport({ brokers: BROKERS, clientId: `${prefix}ceiling` }),
    groupId: `${prefix}ceiling`,
    clientId: `${prefix}ceiling`,
    fromBeginning: true,
    deadLetterTopic: `${prefix}ceiling-dlq`,
    metrics,
    logger: silentLogger,
  })
  let first = 0
  for (;;) {
    const n = running.task.metrics.consumed.total()
    if (first === 0 && n > 0) first = performance.now()
    if (n >= CEILING_RECORDS) break
    await sleep(5)
  }
  const seconds = (performance.now() - first) / 1000
  await running.stop()
  return { records: CEILING_RECORDS, seconds, records_per_sec: CEILING_RECORDS / seconds }
}

async function cleanup(prefix: string, schema: string) {
  const kafka = kafkaTransport({ brokers: BROKERS, clientId: 'bench-embeddings-cleanup' })
  const admin = kafka.admin()
  const names = [
    'enriched.social.contextualized',
    'enriched.market.contextualized',
    'sink.snowflake.social',
    'sink.snowflake.market',
    'embedding-service-errors',
    'ceiling-dlq',
    'ceiling.social',
    'ceiling.market',
  ]
  await admin.deleteTopics(names.map((n) => prefix + n)).catch(() => {})
  await admin.deleteGroups([`${prefix}stage`, `${prefix}ceiling`]).catch(() => {})
  await admin.close()
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await client.end()
}

const id = `bench-emb-${Date.now().toString(36)}`
const prefix = `${id}.`
const schema = id.replaceAll('-', '_')
const load0 = loadavg()
const f = (x: number) => x.toFixed(1)
log(
  `load average ${load0.map((x) => x.toFixed(2)).join(' ')} on ${availableParallelism()} cores; ${INLINE ? '1 session on the main thread' : `${THREADS} model worker threads`}, runs of ${RUN_BATCH}`,
)
log(`model: ${BATCHES} batches of ${BATCH}`)
const model = await benchModel()
const modelLines = [
  `model   per record (batch time / ${BATCH}): p50 ${f(model.per_record_ms.p50)} ms, p95 ${f(model.per_record_ms.p95)} ms, p99 ${f(model.per_record_ms.p99)} ms`,
  `model   per batch of ${BATCH}: p50 ${f(model.batch_ms.p50)} ms, p95 ${f(model.batch_ms.p95)} ms; ${f(model.records_per_sec)} records/s (${f(model.tokens_per_record)} tokens/record)`,
  `model   ${model.cpu_ms_per_record.toFixed(2)} CPU ms per record → ${f(model.records_per_sec_if_cores_free)} records/s on ${MODEL_THREADS} free core(s); it got ${model.cores_used.toFixed(2)} core(s)`,
]
const setup = { cores: availableParallelism(), threads: MODEL_THREADS, run_batch: RUN_BATCH, inline: INLINE }
if (MODEL_ONLY) {
  const load1 = loadavg()
  process.stdout.write(
    [
      ...modelLines,
      `load average ${load0.map(f).join(' ')} → ${load1.map(f).join(' ')}`,
      JSON.stringify({ model, load_average_before: load0, load_average_after: load1, ...setup }),
    ]
      .join('\n')
      .concat('\n'),
  )
} else {
  try {
    log(`producing ${RECORDS} enriched records`)
    await produce((k) => `${prefix}enriched.${k}.contextualized`, RECORDS)
    log(`ceiling: ${CEILING_RECORDS} of the same records consumed only`)
    await produce((k) => ceilingTopic(prefix, k), CEILING_RECORDS)
    const ceiling = await benchCeiling(prefix)
    log('stage: embedding service (Kafka → model → pgvector + sink topics)')
    const stage = await benchStage(prefix, schema)
    const load1 = loadavg()
    const out = {
      model,
      stage,
      ceiling,
      stage_ratio_to_ceiling: stage.records_per_sec / ceiling.records_per_sec,
      load_average_before: load0,
      load_average_after: load1,
      ...setup,
    }
    process.stdout.write(
      [
        ...modelLines,
        `stage   ${f(stage.records_per_sec)} records/s (${RECORDS} records in ${stage.seconds.toFixed(2)} s, stored in pgvector and committed); ${stage.cpu_ms_per_record.toFixed(2)} CPU ms per record`,
        `ceiling ${f(ceiling.records_per_sec)} records/s consumed; stage = ${(100 * out.stage_ratio_to_ceiling).toFixed(2)} % of it`,
        `load average ${load0.map(f).join(' ')} → ${load1.map(f).join(' ')}`,
        JSON.stringify(out),
      ]
        .join('\n')
        .concat('\n'),
    )
  } finally {
    await cleanup(prefix, schema)
  }
}

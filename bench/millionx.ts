/**
 * MillionX stage benchmark: `npm run bench:millionx` (or `-- --quick`). Against the local Kafka and Redis
 * (scripts/services.sh up), with the weather from a local OpenWeatherMap-shaped server.
 *
 * 1. Per-record latency of each stage's own work, p50/p95/p99, against the seed's targets (privacy
 *    shield < 5 ms, context enricher < 20 ms with a warm cache, schema validator < 3 ms). The enricher
 *    is measured twice: warm in-process memo, and every lookup through Redis (memo off).
 * 2. Records/s through Kafka: each stage alone (`--stage`), then the chain in one process, as a ratio
 *    to the consume ceiling measured in the same run (Weir's Kafka reader draining the input with no
 *    processing). A stage's rate is timed from its first output to its last, so start-up and group
 *    joins are left out. The chain is measured twice: validator → shield → enricher over all records,
 *    and all four stages (embeddings into pgvector) over the first EMBED_N (the model is ~100× slower
 *    than the other stages). The embedding service's rate counts records stored in pgvector, and its
 *    model time per record (p95, batching wait excluded) comes from its own metrics.
 *
 * Prints a table and writes bench/results/millionx-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { millionxApp } from '../src/apps/millionx/app.ts'
import {
  SOURCE_TOPICS,
  STAGE_TOPICS,
  VALIDATED_TOPICS,
  validateForTopic,
} from '../src/apps/millionx/domain/index.ts'
import { kafkaTransport } from '../src/connectors/kafka/index.ts'
import {
  CITIES,
  type City,
  classifyProduct,
  createWeatherService,
  findCity,
  RedisCache,
  temporalContext,
} from '../src/enrich/index.ts'
import { millionxGenerator } from '../src/generators/index.ts'
import { silentLogger } from '../src/log/logger.ts'
import { createAnonymizer } from '../src/privacy/index.ts'
import pg from 'pg'
import type { RunningService } from '../src/service/service.ts'
import { startStages } from '../src/service/stages.ts'

const quick = process.argv.includes('--quick')
const N = quick ? 20_000 : 100_000
/** Records for the embedding service alone and for the four-stage chain. */
const EMBED_N = quick ? 2_000 : 6_000
const PG_URL = process.env.PGVECTOR_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const BROKERS = ['127.0.0.1:9092']
const kafka = kafkaTransport({ brokers: BROKERS, clientId: 'bench-millionx' })
const run = `bench-millionx-${Date.now().toString(36)}`
const pgSchema = run.replaceAll('-', '_')
const STAGE_PREFIXES = ['SCHEMA_VALIDATOR', 'PRIVACY_SHIELD', 'CONTEXT_ENRICHER', 'EMBEDDING_SERVICE']
const THREE_STAGES = 'schema-validator,privacy-shield,context-enricher'

function quantiles(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b)
  const q = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(s.length * p))]! * 1000) / 1000
  return { p50_ms: q(0.5), p95_ms: q(0.95), p99_ms: q(0.99), count: s.length }
}

async function timeEach<T>(items: readonly T[], f: (x: T) => unknown) {
  const out: number[] = []
  for (const x of items) {
    const t0 = performance.now()
    const r = f(x)
    if (r instanceof Promise) await r
    out.push(performance.now() - t0)
  }
  return quantiles(out)
}

async function weatherServer() {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        weather: [{ main: 'Clear', description: 'clear sky' }],
        main: { temp: 27, humidity: 70 },
        wind: { speed: 3 },
        dt: 1_766_000_000,
      }),
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/data/2.5/weather` }
}

async function endTotal(topics: readonly string[]): Promise<number> {
  const admin = kafka.admin()
  try {
    let n = 0
    for (const v of (await admin.endOffsets(topics)).values()) n += v
    return n
  } finally {
    await admin.close()
  }
}

/** Records/s from the first output to `expected` outputs (start-up and group joins left out). */
async function rateUntil(topics: readonly string[], expected: number): Promise<number> {
  let first: { at: number; n: number } | undefined
  for (;;) {
    const n = await endTotal(topics).catch(() => 0)
    const now = performance.now()
    if (n > 0 && first === undefined) first = { at: now, n }
    if (n >= expected)
      return first === undefined || now === first.at ? Number.NaN : (n - first.n) / ((now - first.at) / 1000)
    await new Promise((r) => setTimeout(r, 25))
  }
}

interface EmbeddingFigures {
  records_stored: number
  embedding_latency_per_record_ms: { p95_ms: number } | undefined
}
const embeddingFigures = (s: RunningService) => s.app.metricsJson?.(s.running) as EmbeddingFigures

/**
 * Records/s stored in pgvector by the embedding service, from the first stored to `expected`, and this
 * process's CPU ms per record stored over that time (every stage in it, the model threads included;
 * not the broker's or PostgreSQL's): on a shared machine the CPU cost moves less than the rate.
 */
async function storedRate(service: RunningService, expected: number) {
  let first: { at: number; n: number; cpu: NodeJS.CpuUsage } | undefined
  for (;;) {
    const n = embeddingFigures(service).records_stored
    const now = performance.now()
    if (n > 0 && first === undefined) first = { at: now, n, cpu: process.cpuUsage() }
    if (n >= expected && first !== undefined && n > first.n) {
      const cpu = process.cpuUsage(first.cpu)
      return {
        rate: (n - first.n) / ((now - first.at) / 1000),
        cpuMsPerRecord: Math.round(((cpu.user + cpu.system) / 1000 / (n - first.n)) * 100) / 100,
        modelPerRecordP95: embeddingFigures(service).embedding_latency_per_record_ms?.p95_ms,
      }
    }
    await new Promise((r) => setTimeout(r, 25))
  }
}

async function produceInput(
  prefix: string,
  records: ReturnType<ReturnType<typeof millionxGenerator>['take']>,
) {
  const admin = kafka.admin()
  await admin.ensureTopics(
    SOURCE_TOPICS.map((t) => ({ name: prefix + t, partitions: 3, replicationFactor: 1 })),
  )
  await admin.close()
  const sink = kafka.sink({ clientId: 'bench-millionx-producer' })
  await sink.open()
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    sink.add({
      topic: prefix + r.topic,
      key: Buffer.from(r.key ?? ''),
      value: Buffer.from(JSON.stringify(r.value)),
      headers: {},
    })
    if (i % 10_000 === 9_999) await sink.flush()
  }
  await sink.flush()
  await sink.close()
}

async function main() {
  const records = millionxGenerator({ seed: 7, invalidShare: 0.05 }).take(N)
  const valid = records.filter((r) => r.defect === undefined)
  const sample = records.slice(0, Math.min(N, 20_000))

  // 1. Per-record latency of the stage work itself.
  const anon = createAnonymizer({ salt: 'bench' })
  const shield = await timeEach(sample, (r) => anon.anonymize(r.value))
  const validator = await timeEach(sample, (r) => validateForTopic(r.topic, r.value))
  const { server, url } = await weatherServer()
  const cache = new RedisCache({ host: '127.0.0.1', port: 6379, keyPrefix: `${run}:` })
  await new Promise((r) => setTimeout(r, 200))
  const enrichWith = (memoryTtlMs: number) => {
    const w = createWeatherService({ api: { url, apiKey: 'bench' }, cache, memoryTtlMs })
    return async (r: (typeof records)[number]) => {
      const v = r.value as Record<string, unknown>
      const str = (x: unknown) => (typeof x === 'string' ? x : undefined)
      classifyProduct([str(v.product_name), str(v.content)].filter(Boolean).join(' '))
      const city = findCity(str(v.shipping_city), str(v.location), str(v.content))
      await w.lookup(city)
      temporalContext(r.timestamp ?? Date.now())
    }
  }
  const warmMemo = enrichWith(600_000)
  for (const c of Object.keys(CITIES))
    await warmMemo({ ...sample[0]!, value: { location: c as City } } as (typeof records)[number])
  const enricherWarm = await timeEach(sample, warmMemo)
  const enricherRedis = await timeEach(sample, enrichWith(0))

  // 2. Records/s through Kafka.
  const prefix = `${run}.`
  await produceInput(prefix, records)

  // The consume ceiling: the input read back with no processing.
  let read = 0
  const c0 = performance.now()
  for (const t of SOURCE_TOPICS)
    for (let p = 0; p < 3; p++)
      for await (const batch of kafka.readPartition({ topic: prefix + t, partition: p })) read += batch.length
  const ceiling = read / ((performance.now() - c0) / 1000)

  const env = {
    KAFKA_BOOTSTRAP_SERVERS: BROKERS.join(','),
    TOPIC_PREFIX: prefix,
    PRIVACY_SALT: 'bench',
    REDIS_HOST: '127.0.0.1',
    CACHE_KEY_PREFIX: `${run}:`,
    WEATHER_API_URL: url,
    WEATHER_API_KEY: 'bench',
    FAUST_PRODUCER_COMPRESSION: process.env.FAUST_PRODUCER_COMPRESSION ?? 'gzip',
    PGVECTOR_URL: PG_URL,
    PGVECTOR_SCHEMA: pgSchema,
    EMBEDDING_FLUSH_INTERVAL: '1s',
    ...Object.fromEntries(STAGE_PREFIXES.map((s) => [`${s}_KAFKA_GROUP_ID`, `${prefix}${s}`])),
  }
  const outputs = {
    'schema-validator': SOURCE_TOPICS.map((t) => prefix + VALIDATED_TOPICS[t]),
    'privacy-shield': Object.values(STAGE_TOPICS.anonymized).map((t) => prefix + t),
    'context-enricher': Object.values(STAGE_TOPICS.contextualized).map((t) => prefix + t),
  }
  const stageRates: Record<string, number> = {}
  for (const stage of Object.keys(outputs) as Array<keyof typeof outputs>) {
    const running = await startStages(millionxApp, {
      env,
      stage,
      logger: silentLogger,
      handleSignals: false,
      http: false,
    })
    stageRates[stage] = await rateUntil(outputs[stage], valid.length)
    await running.stop()
  }
  // The embedding service alone, on the enricher's output above, for its first EMBED_N records.
  const embedding = await startStages(millionxApp, {
    env,
    stage: 'embedding-service',
    logger: silentLogger,
    handleSignals: false,
    http: false,
  })
  const embeddingAlone = await storedRate(embedding.services.get('embedding-service')!, EMBED_N)
  stageRates['embedding-service'] = embeddingAlone.rate
  await embedding.stop()

  // The whole chain on fresh groups and topics of a second prefix, fed the same input.
  const chainPrefix = `${run}.chain.`
  await produceInput(chainPrefix, records)
  const chainEnv = {
    ...env,
    TOPIC_PREFIX: chainPrefix,
    ...Object.fromEntries(STAGE_PREFIXES.map((s) => [`${s}_KAFKA_GROUP_ID`, `${chainPrefix}${s}`])),
  }
  const chain = await startStages(millionxApp, {
    env: chainEnv,
    stage: THREE_STAGES,
    logger: silentLogger,
    handleSignals: false,
    http: false,
  })
  const chainRate = await rateUntil(
    Object.values(STAGE_TOPICS.contextualized).map((t) => chainPrefix + t),
    valid.length,
  )
  await chain.stop()

  // All four stages on a third prefix, fed the first EMBED_N records; timed by records stored in
  // pgvector up to 90 % of the valid ones (a few may be dead-lettered by a stage on the way).
  const chain4Prefix = `${run}.chain4.`
  const chain4Records = records.slice(0, EMBED_N)
  await produceInput(chain4Prefix, chain4Records)
  const chain4 = await startStages(millionxApp, {
    env: {
      ...env,
      TOPIC_PREFIX: chain4Prefix,
      ...Object.fromEntries(STAGE_PREFIXES.map((s) => [`${s}_KAFKA_GROUP_ID`, `${chain4Prefix}${s}`])),
    },
    logger: silentLogger,
    handleSignals: false,
    http: false,
  })
  const chain4Valid = chain4Records.filter((r) => r.defect === undefined).length
  const chainWithEmbeddings = await storedRate(
    chain4.services.get('embedding-service')!,
    Math.floor(0.9 * chain4Valid),
  )
  await chain4.stop()

  // Clean up: topics, groups, cache keys, servers.
  const cleanup = kafka.admin()
  const all = (p: string) => [
    ...SOURCE_TOPICS.map((t) => p + t),
    ...Object.values(outputs)
      .flat()
      .map((t) => p + t.slice(prefix.length)),
    ...Object.values(STAGE_TOPICS.sink).map((t) => p + t),
    ...[
      'schema-validation-errors',
      'privacy-shield-errors',
      'context-enricher-errors',
      'embedding-service-errors',
    ].map((t) => p + t),
  ]
  const prefixes = [prefix, chainPrefix, chain4Prefix]
  await cleanup.deleteTopics(prefixes.flatMap(all)).catch(() => {})
  await cleanup.deleteGroups(prefixes.flatMap((p) => STAGE_PREFIXES.map((s) => `${p}${s}`))).catch(() => {})
  await cleanup.close()
  const pgClient = new pg.Client({ connectionString: PG_URL })
  await pgClient.connect()
  await pgClient.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`)
  await pgClient.end()
  for (const c of Object.keys(CITIES)) await cache.del(`weather:${c.toLowerCase()}`).catch(() => {})
  await cache.close()
  server.close()

  const round = (x: number) => Math.round(x)
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg() },
    records: N,
    valid: valid.length,
    latency: {
      privacy_shield: { ...shield, target_ms: 5 },
      schema_validator: { ...validator, target_ms: 3 },
      context_enricher_warm: { ...enricherWarm, target_ms: 20 },
      context_enricher_redis: enricherRedis,
      // Model time per record (its batch of 100's time / 100), from the stage's own metrics.
      embedding_service_model: {
        p95_ms: embeddingAlone.modelPerRecordP95,
        in_chain_p95_ms: chainWithEmbeddings.modelPerRecordP95,
        target_ms: 100,
      },
    },
    embedding_records: EMBED_N,
    // This process's CPU per record stored in pgvector (all its stages and model threads).
    embedding_cpu_ms_per_record: {
      'embedding-service': embeddingAlone.cpuMsPerRecord,
      chain_with_embeddings: chainWithEmbeddings.cpuMsPerRecord,
    },
    records_per_sec: {
      consume_ceiling: round(ceiling),
      ...Object.fromEntries(Object.entries(stageRates).map(([k, v]) => [k, round(v)])),
      chain: round(chainRate),
      chain_with_embeddings: round(chainWithEmbeddings.rate),
    },
    ratio_to_ceiling: {
      ...Object.fromEntries(
        Object.entries(stageRates).map(([k, v]) => [k, Math.round((100 * v) / ceiling) / 100]),
      ),
      chain: Math.round((100 * chainRate) / ceiling) / 100,
      // Four decimals: the model makes these ~0.005.
      'embedding-service': Math.round((10_000 * stageRates['embedding-service']!) / ceiling) / 10_000,
      chain_with_embeddings: Math.round((10_000 * chainWithEmbeddings.rate) / ceiling) / 10_000,
    },
  }
  console.log(JSON.stringify(result, null, 2))
  const dir = join(import.meta.dirname, 'results')
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, `millionx-${result.date.slice(0, 10)}.json`),
    `${JSON.stringify(result, null, 2)}\n`,
  )
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)

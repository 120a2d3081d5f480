/**
 * What scripts/perf-memory.ts (drain a backlog) and scripts/soak-memory.ts (a steady rate for minutes)
 * share: how each bundled app, and each MillionX stage on its own, is started on private topics (its env,
 * its input topics, its consumer group), how its input is generated, and the cgroup v1 memory group and
 * process readings both take.
 *
 * Units measured (the names the k8s manifests use for the MillionX stages):
 *   traffic, traffic-windows, rideshare, streampulse,
 *   schema-validator, privacy-shield, context-enricher, embedding-service
 * A MillionX stage reads what the stage before it writes: its input is made by running the stages before
 * it in this process (`upstream`), unmeasured, on the same generated records. Starting and reading the
 * measured process is in ./memory-probe.ts.
 */
import { execFileSync, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import pg from 'pg'
import type { AppGenerator, WeirApp } from '../src/apps/app.ts'
import { loadApp } from '../src/apps/index.ts'
import { SOURCE_TOPICS, STAGE_TOPICS, VALIDATED_TOPICS } from '../src/apps/millionx/domain/index.ts'
import { encodeValue } from '../src/cli/feed.ts'
import { kafkaTransport } from '../src/connectors/kafka/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { silentLogger } from '../src/log/logger.ts'
import { createMetrics } from '../src/ops/index.ts'
import { freePort } from '../test/integration/helpers/services.ts'
import { exited, sleep } from './memory-probe.ts'

export const BROKERS = ['127.0.0.1:9092']
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' }

export const UNITS = [
  'traffic',
  'traffic-windows',
  'rideshare',
  'streampulse',
  'schema-validator',
  'privacy-shield',
  'context-enricher',
  'embedding-service',
] as const

const MILLIONX_STAGES = ['schema-validator', 'privacy-shield', 'context-enricher', 'embedding-service']
const STAGE_INPUTS: Record<string, readonly string[]> = {
  'schema-validator': SOURCE_TOPICS,
  'privacy-shield': Object.values(VALIDATED_TOPICS),
  'context-enricher': Object.values(STAGE_TOPICS.anonymized),
  'embedding-service': Object.values(STAGE_TOPICS.contextualized),
}
const envPrefixOf = (stage: string) => stage.toUpperCase().replaceAll('-', '_')

/** How one unit runs: `weir <args>` with `env`, read by `group` from `inputs`, fed by `app`'s generator. */
export interface Plan {
  readonly unit: string
  readonly args: readonly string[]
  readonly env: Record<string, string>
  /** The measured process's ops port (/metrics/prometheus). */
  readonly port: number
  readonly group: string
  /** Topics the measured process reads (prefixed). */
  readonly inputs: readonly string[]
  /** The app whose generator writes the input (for a MillionX stage: the validator's sources). */
  readonly app: string
  readonly topicOf: (generated: string) => string
  readonly partitions: number
  readonly generatorOptions: Record<string, unknown>
  /** MillionX stages run in this process, before the measured one, to make its input. */
  readonly upstream: readonly string[]
  /** Removes what the plan made besides topics (a database, a schema, servers). */
  readonly release: () => Promise<void>
}

async function pgAdmin(sql: string, database = 'postgres'): Promise<void> {
  const c = new pg.Client({ ...PG, database })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

/** An OpenWeatherMap-shaped server for the context enricher (as bench/millionx.ts). */
async function weatherServer(): Promise<{ url: string; close: () => Promise<void> }> {
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
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/data/2.5/weather`,
    close: () => new Promise((r) => server.close(() => r())),
  }
}

/** A private redis-server with the seed's password (rideshare publishes to pub/sub channels). */
async function privateRedis(): Promise<{ port: number; close: () => Promise<void> }> {
  const port = await freePort()
  const dir = execFileSync('mktemp', ['-d', '/tmp/perf-mem-redis-XXXXXX'], { encoding: 'utf8' }).trim()
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', 'admin', '--save', '', '--dir', dir],
    { stdio: 'ignore' },
  )
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false))
      s.unref()
      setTimeout(() => s.destroy(), 200)
    })
    if (up) break
    await sleep(100)
  }
  return {
    port,
    close: async () => {
      redis.kill('SIGTERM')
      await exited(redis)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The plan of one unit on topics and groups under `prefix` (unique per run). */
export async function planOf(
  unit: string,
  prefix: string,
  options: { drivers: number; eventStart?: number },
): Promise<Plan> {
  const port = await freePort()
  const common = { HEALTH_PORT: String(port), HEALTH_HOST: '127.0.0.1' }
  const nothing = async () => {}
  switch (unit) {
    case 'traffic':
      return {
        unit,
        args: ['run', 'traffic'],
        env: {
          KAFKA_BROKERS: BROKERS.join(','),
          GROUP_ID: `${prefix}group`,
          INPUT_TOPIC: `${prefix}traffic-raw`,
          OUTPUT_TOPIC: `${prefix}traffic-events`,
          DLQ_TOPIC: `${prefix}traffic-raw-dlq`,
          ...common,
        },
        port,
        group: `${prefix}group`,
        inputs: [`${prefix}traffic-raw`],
        app: 'traffic',
        topicOf: () => `${prefix}traffic-raw`,
        partitions: 5,
        generatorOptions: { seed: 1, invalidShare: 0.05 },
        upstream: [],
        release: nothing,
      }
    case 'traffic-windows':
      return {
        unit,
        args: ['run', 'traffic-windows'],
        env: {
          KAFKA_BROKERS: BROKERS.join(','),
          GROUP_ID: `${prefix}group`,
          INPUT_TOPIC: `${prefix}traffic-events`,
          OUTPUT_TOPIC: `${prefix}traffic-aggregates`,
          DLQ_TOPIC: `${prefix}traffic-aggregates-dlq`,
          ...common,
        },
        port,
        group: `${prefix}group`,
        inputs: [`${prefix}traffic-events`],
        app: 'traffic-windows',
        topicOf: () => `${prefix}traffic-events`,
        partitions: 5,
        // A backlog: event time from 3 hours ago, 10 ms apart, so 5-minute windows fill and close as it
        // drains. A soak passes its own start (now) so windows close at the rate they would live.
        generatorOptions: {
          seed: 1,
          eventStepMs: 10,
          start: options.eventStart ?? Date.now() - 3 * 3_600_000,
        },
        upstream: [],
        release: nothing,
      }
    case 'rideshare': {
      // As scripts/perf-rideshare.ts: 100 ms windows, `latest`, the seed's Redis password on a private Redis.
      const redis = await privateRedis()
      return {
        unit,
        args: ['run', 'rideshare'],
        env: {
          KAFKA_BOOTSTRAP_SERVERS: BROKERS.join(','),
          KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
          KAFKA_GROUP_ID: `${prefix}group`,
          KAFKA_AUTO_OFFSET_RESET: 'earliest',
          TOPIC_PREFIX: prefix,
          // All six of the generator's topics (the seed's default list leaves out the two profile topics).
          PROCESSOR_TOPICS: 'gps_pings,trips,driver_status,surge_updates,driver_profiles,rider_profiles',
          PROCESSOR_WINDOW_SIZE_MS: '100',
          PROCESSOR_AGGREGATION_STRATEGY: 'latest',
          REDIS_HOST: '127.0.0.1',
          REDIS_PORT: String(redis.port),
          API_HOST: '127.0.0.1',
          API_PORT: String(port),
        },
        port,
        group: `${prefix}group`,
        inputs: [],
        app: 'rideshare',
        topicOf: (t) => prefix + t,
        partitions: 1,
        generatorOptions: { seed: 1, drivers: options.drivers },
        upstream: [],
        release: redis.close,
      }
    }
    case 'streampulse': {
      const database = prefix.replace(/[^a-z0-9]/g, '_')
      await pgAdmin(`CREATE DATABASE ${database}`)
      return {
        unit,
        args: ['run', 'streampulse'],
        env: {
          KAFKA_BOOTSTRAP_SERVERS: BROKERS.join(','),
          KAFKA_TOPIC: `${prefix}content-downloads`,
          KAFKA_GROUP_ID: `${prefix}group`,
          DLQ_TOPIC: `${prefix}content-downloads-dlq`,
          PARALLELISM: '5',
          PG_HOST: PG.host,
          PG_PORT: String(PG.port),
          PG_USER: PG.user,
          PG_DATABASE: database,
          PG_SSLMODE: 'disable',
          ...common,
        },
        port,
        group: `${prefix}group`,
        inputs: [`${prefix}content-downloads`],
        app: 'streampulse',
        topicOf: () => `${prefix}content-downloads`,
        partitions: 5,
        generatorOptions: { seed: 1 },
        upstream: [],
        release: () => pgAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
      }
    }
    default: {
      if (!MILLIONX_STAGES.includes(unit))
        throw new Error(`no memory plan for ${unit}; units: ${UNITS.join(', ')}`)
      const weather = await weatherServer()
      const schema = prefix.replace(/[^a-z0-9]/g, '_')
      const env: Record<string, string> = {
        KAFKA_BOOTSTRAP_SERVERS: BROKERS.join(','),
        TOPIC_PREFIX: prefix,
        WEB_HOST: '127.0.0.1',
        PRIVACY_SALT: 'perf-memory',
        REDIS_HOST: '127.0.0.1',
        CACHE_KEY_PREFIX: `${prefix}:`,
        WEATHER_API_URL: weather.url,
        WEATHER_API_KEY: 'perf-memory',
        PGVECTOR_URL: `postgres://${PG.user}@${PG.host}:${PG.port}/postgres`,
        PGVECTOR_SCHEMA: schema,
      }
      for (const stage of MILLIONX_STAGES) {
        env[`${envPrefixOf(stage)}_KAFKA_GROUP_ID`] = `${prefix}${stage}`
        env[`${envPrefixOf(stage)}_WEB_PORT`] = stage === unit ? String(port) : '0'
      }
      return {
        unit,
        args: ['run', 'millionx', '--stage', unit],
        env,
        port,
        group: `${prefix}${unit}`,
        inputs: STAGE_INPUTS[unit]!.map((t) => prefix + t),
        app: 'millionx',
        topicOf: (t) => prefix + t,
        partitions: 3,
        generatorOptions: { seed: 1, invalidShare: 0.05 },
        upstream: MILLIONX_STAGES.slice(0, MILLIONX_STAGES.indexOf(unit)),
        release: async () => {
          await weather.close()
          if (unit === 'embedding-service') await pgAdmin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
        },
      }
    }
  }
}

/** The input's generator: the app's own, else the one its instance makes from the plan's env. */
export async function generatorOf(
  plan: Plan,
): Promise<{ generator: AppGenerator; app: WeirApp; close: () => Promise<void> }> {
  const app = await loadApp(plan.app)
  const own = app.generator?.(plan.generatorOptions)
  if (own) return { generator: own, app, close: async () => {} }
  const instance = await app.create({
    env: { ...process.env, ...plan.env },
    logger: silentLogger,
    metrics: createMetrics({ processMetrics: false }),
    clock: systemClock,
  })
  const generator = instance.generator?.(plan.generatorOptions)
  if (!generator) throw new Error(`app ${plan.app} has no generator`)
  return { generator, app, close: async () => void (await instance.close?.()) }
}

/**
 * Writes `n` generated records to the plan's (prefixed) topics, at most `rate` records/s (0: as fast as
 * the broker takes them), until `n` are written or `signal` aborts; returns the topics written.
 */
export async function produce(
  plan: Plan,
  n: number,
  options: { rate?: number; signal?: AbortSignal } = {},
): Promise<string[]> {
  const { generator: g, close } = await generatorOf(plan)
  const kafka = kafkaTransport({ brokers: BROKERS })
  const admin = kafka.admin()
  const sink = kafka.sink({ clientId: 'perf-memory-producer' })
  await sink.open()
  const topics = new Set<string>()
  const rate = options.rate ?? 0
  const started = performance.now()
  // Flushed every 5,000 records, or every 100 ms of records at a set rate.
  const every = rate > 0 ? Math.max(1, Math.floor(rate / 10)) : 5000
  try {
    for (let i = 0; i < n && !options.signal?.aborted; i++) {
      const r = g.next()
      const topic = plan.topicOf(r.topic)
      if (!topics.has(topic)) {
        // Kept whatever their record timestamps say (old event times would be deleted by retention).
        await admin.ensureTopics([
          {
            name: topic,
            partitions: plan.partitions,
            replicationFactor: 1,
            config: { 'retention.ms': '-1' },
          },
        ])
        topics.add(topic)
      }
      const value = g.encode ? await g.encode(r) : encodeValue(r.value)
      sink.add({ topic, key: r.key === null ? null : Buffer.from(r.key), value, timestamp: r.timestamp })
      if (i % every === every - 1) {
        await sink.flush()
        if (rate > 0) {
          const ahead = ((i + 1) / rate) * 1000 - (performance.now() - started)
          if (ahead > 0) await sleep(ahead)
        }
      }
    }
    await sink.flush()
  } finally {
    await sink.close()
    await admin.close()
    await close()
  }
  return [...topics]
}

export async function offsets(
  topics: readonly string[],
  group: string,
): Promise<{ end: number; committed: number }> {
  const admin = kafkaTransport({ brokers: BROKERS }).admin()
  try {
    let end = 0
    let committed = 0
    for (const v of (await admin.endOffsets([...topics])).values()) end += v
    for (const v of (await admin.committedOffsets(group, [...topics])).values()) committed += v
    return { end, committed }
  } finally {
    await admin.close()
  }
}

/**
 * Runs the plan's upstream MillionX stages in this process until each has committed all of its input,
 * so the measured stage's input topics hold everything they will get; returns a stop function.
 * With `untilDrained: false` (a soak) it returns at once and the stages keep feeding.
 */
export async function runUpstream(
  plan: Plan,
  untilDrained = true,
  envOverrides: Record<string, string> = {},
): Promise<() => Promise<void>> {
  if (plan.upstream.length === 0) return async () => {}
  const { millionxApp } = await import('../src/apps/millionx/app.ts')
  const { startStages } = await import('../src/service/stages.ts')
  const running = await startStages(millionxApp, {
    env: { ...process.env, ...plan.env, ...envOverrides },
    stage: plan.upstream.join(','),
    logger: silentLogger,
    handleSignals: false,
    http: false,
  })
  const prefix = plan.env.TOPIC_PREFIX!
  for (const stage of untilDrained ? plan.upstream : []) {
    const inputs = STAGE_INPUTS[stage]!.map((t) => prefix + t)
    for (const deadline = Date.now() + 900_000; ; await sleep(500)) {
      const o = await offsets(inputs, `${prefix}${stage}`).catch(() => ({ end: 0, committed: -1 }))
      if (o.end > 0 && o.committed >= o.end) break
      if (Date.now() > deadline) throw new Error(`upstream ${stage} did not drain in 900 s`)
    }
  }
  return () => running.stop('done')
}

export async function deleteTopicsWith(prefix: string): Promise<void> {
  const admin = kafkaTransport({ brokers: BROKERS }).admin()
  try {
    await admin.deleteTopics((await admin.listTopics()).filter((t) => t.startsWith(prefix)))
  } finally {
    await admin.close()
  }
}

/**
 * Seed 000 (rideshare Kafka → Redis bridge, /work/shared/seeds/000_*.txt) against `weir run rideshare`,
 * one case per item the seed documents, in the seed's order, so the two can be read side by side:
 *
 *   Environment Variables table ........ "seed 000 · Environment Variables"
 *   API Endpoints, examples ............ "seed 000 · against Kafka and Redis" (/health, /metrics)
 *   Kafka Topics table, Topic Creation . "seed 000 · Kafka Topics" and the live suite
 *   Windowed Aggregation ............... the live suite (latest) and its PROCESSOR_* cases
 *   Windowed Aggregation, Deduplication  "… (virtual clock, real Redis)": window size, sample, 60 s dedupe
 *   Graceful Shutdown, LOG_LEVEL, 256MB  "seed 000 · weir run rideshare as a process"
 *
 * The live cases run against the real broker (its SASL listener with the seed's admin/admin defaults)
 * and a private redis-server started with the seed's default password, so the shared Redis is never
 * touched. Where Weir goes beyond the seed (dead letters, REDIS_PAYLOAD) the case says so.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { Redis } from 'ioredis'
import { rideshareApp } from '../../src/apps/rideshare/app.ts'
import { loadRideshareConfig, RIDESHARE_ENV_DOCS } from '../../src/apps/rideshare/config.ts'
import { REDIS_CHANNELS, RIDESHARE_TOPICS, TOPIC_ROUTES } from '../../src/apps/rideshare/domain/index.ts'
import { ridesharePipeline } from '../../src/apps/rideshare/pipeline.ts'
import { envTable } from '../../src/cli/commands/describe.ts'
import { redisPublishSink } from '../../src/connectors/redis/index.ts'
import { systemClock } from '../../src/core/clock.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics, healthFrom, healthHttpStatus } from '../../src/ops/index.ts'
import { readDeadLetter } from '../../src/runtime/dead-letter.ts'
import { type RunningService, serviceEnvDocs, startService } from '../../src/service/service.ts'
import { kafkaTransportFor } from '../../src/service/transport.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { readAll } from '../integration/helpers/apps.ts'
import {
  deleteTopics,
  kafkaBrokers,
  kafkaSaslBrokers,
  testKafka,
  uniqueName,
} from '../integration/helpers/kafka.ts'
import {
  type Cleanup,
  eventually,
  freePort,
  type RedisServer,
  sleep,
  startRedisServer,
  suiteCleanup,
  testCleanup,
} from '../integration/helpers/services.ts'
import { getJson, spawnWeir, type WeirProcess } from './helpers/weir-process.ts'

const kafka = testKafka()

// --------------------------------------------------------------------------- Environment Variables

/** Expects CONFIG_INVALID naming `variable`. */
function rejects(env: Record<string, string>, variable: string): void {
  assert.throws(
    () => loadRideshareConfig(env),
    (err: unknown) =>
      err instanceof WeirError &&
      err.code === ErrorCode.CONFIG_INVALID &&
      err.message.includes(`${variable}:`),
  )
}

function documentedDefault(name: string): string | undefined {
  return RIDESHARE_ENV_DOCS.find((v) => v.name === name)?.default
}

describe('seed 000 · Environment Variables (defaults, validation; weir describe shows the same defaults)', () => {
  const defaults = loadRideshareConfig({})

  /** One row of the seed's table: its default, and what it accepts and refuses. */
  const rows: ReadonlyArray<{
    name: string
    seedDefault: string
    check: () => void
  }> = [
    {
      name: 'KAFKA_BOOTSTRAP_SERVERS',
      seedDefault: 'localhost:9092',
      check: () => {
        assert.deepEqual(defaults.KAFKA_BOOTSTRAP_SERVERS, ['localhost:9092'])
        const c = loadRideshareConfig({ KAFKA_BOOTSTRAP_SERVERS: 'k1:9092, k2:9092' })
        assert.deepEqual(c.KAFKA_BOOTSTRAP_SERVERS, ['k1:9092', 'k2:9092'])
      },
    },
    {
      name: 'KAFKA_GROUP_ID',
      seedDefault: 'stream-processor',
      check: () => assert.equal(defaults.KAFKA_GROUP_ID, 'stream-processor'),
    },
    {
      name: 'KAFKA_AUTO_OFFSET_RESET',
      seedDefault: 'latest',
      check: () => {
        assert.equal(defaults.KAFKA_AUTO_OFFSET_RESET, 'latest')
        assert.equal(
          loadRideshareConfig({ KAFKA_AUTO_OFFSET_RESET: 'earliest' }).KAFKA_AUTO_OFFSET_RESET,
          'earliest',
        )
        rejects({ KAFKA_AUTO_OFFSET_RESET: 'middle' }, 'KAFKA_AUTO_OFFSET_RESET')
      },
    },
    {
      name: 'KAFKA_SECURITY_PROTOCOL',
      seedDefault: 'SASL_PLAINTEXT',
      check: () => {
        assert.equal(defaults.KAFKA_SECURITY_PROTOCOL, 'SASL_PLAINTEXT')
        assert.equal(defaults.sasl?.mechanism, 'PLAIN')
        assert.equal(loadRideshareConfig({ KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' }).sasl, undefined)
        rejects({ KAFKA_SECURITY_PROTOCOL: 'KERBEROS' }, 'KAFKA_SECURITY_PROTOCOL')
      },
    },
    {
      name: 'KAFKA_SASL_USERNAME',
      seedDefault: 'admin',
      check: () => assert.equal(defaults.sasl?.username.reveal(), 'admin'),
    },
    {
      name: 'KAFKA_SASL_PASSWORD',
      seedDefault: 'admin',
      check: () => {
        assert.equal(defaults.sasl?.password.reveal(), 'admin')
        // "via secrets": refused at its insecure default in production.
        rejects({ NODE_ENV: 'production', REDIS_PASSWORD: 'r3dis-pw' }, 'KAFKA_SASL_PASSWORD')
      },
    },
    {
      name: 'REDIS_HOST',
      seedDefault: 'localhost',
      check: () => assert.equal(defaults.REDIS_HOST, 'localhost'),
    },
    {
      name: 'REDIS_PORT',
      seedDefault: '6379',
      check: () => {
        assert.equal(defaults.REDIS_PORT, 6379)
        for (const bad of ['0', '65536', 'six']) rejects({ REDIS_PORT: bad }, 'REDIS_PORT')
      },
    },
    {
      name: 'REDIS_PASSWORD',
      seedDefault: 'admin',
      check: () => {
        assert.equal(defaults.REDIS_PASSWORD.reveal(), 'admin')
        rejects({ NODE_ENV: 'production', KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' }, 'REDIS_PASSWORD')
      },
    },
    {
      name: 'PROCESSOR_WINDOW_SIZE_MS',
      seedDefault: '100',
      check: () => {
        assert.equal(defaults.PROCESSOR_WINDOW_SIZE_MS, 100)
        for (const ok of ['50', '5000']) {
          assert.equal(
            loadRideshareConfig({ PROCESSOR_WINDOW_SIZE_MS: ok }).PROCESSOR_WINDOW_SIZE_MS,
            Number(ok),
          )
        }
        for (const bad of ['49', '5001', '100ms'])
          rejects({ PROCESSOR_WINDOW_SIZE_MS: bad }, 'PROCESSOR_WINDOW_SIZE_MS')
      },
    },
    {
      name: 'PROCESSOR_AGGREGATION_STRATEGY',
      seedDefault: 'latest',
      check: () => {
        assert.equal(defaults.PROCESSOR_AGGREGATION_STRATEGY, 'latest')
        const c = loadRideshareConfig({ PROCESSOR_AGGREGATION_STRATEGY: 'sample' })
        assert.equal(c.PROCESSOR_AGGREGATION_STRATEGY, 'sample')
        rejects({ PROCESSOR_AGGREGATION_STRATEGY: 'average' }, 'PROCESSOR_AGGREGATION_STRATEGY')
      },
    },
    {
      name: 'PROCESSOR_TOPICS',
      seedDefault: 'gps_pings,trips,driver_status,surge_updates',
      check: () => {
        assert.deepEqual(defaults.PROCESSOR_TOPICS, ['gps_pings', 'trips', 'driver_status', 'surge_updates'])
        const c = loadRideshareConfig({ PROCESSOR_TOPICS: 'trips,rider_profiles' })
        assert.deepEqual(c.PROCESSOR_TOPICS, ['trips', 'rider_profiles'])
        rejects({ PROCESSOR_TOPICS: 'gps_pings,payments' }, 'PROCESSOR_TOPICS')
      },
    },
    {
      name: 'API_HOST',
      seedDefault: '0.0.0.0',
      check: () => assert.equal(defaults.API_HOST, '0.0.0.0'),
    },
    {
      name: 'API_PORT',
      seedDefault: '8080',
      check: () => {
        assert.equal(defaults.API_PORT, 8080)
        rejects({ API_PORT: '80808' }, 'API_PORT')
      },
    },
    {
      name: 'LOG_LEVEL',
      seedDefault: 'INFO',
      check: () => {
        assert.equal(defaults.LOG_LEVEL, 'INFO')
        for (const ok of ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'debug'])
          loadRideshareConfig({ LOG_LEVEL: ok })
        rejects({ LOG_LEVEL: 'VERBOSE' }, 'LOG_LEVEL')
      },
    },
    {
      // Common Tasks: "export PROCESSOR_SAMPLE_RATE=10  # Emit 1-in-10 messages".
      name: 'PROCESSOR_SAMPLE_RATE',
      seedDefault: '10',
      check: () => {
        assert.equal(defaults.PROCESSOR_SAMPLE_RATE, 10)
        rejects({ PROCESSOR_SAMPLE_RATE: '0' }, 'PROCESSOR_SAMPLE_RATE')
      },
    },
  ]

  for (const row of rows) {
    it(`${row.name} (default ${row.seedDefault})`, () => {
      assert.equal(documentedDefault(row.name), row.seedDefault, 'weir describe shows the seed default')
      row.check()
    })
  }

  it('the app uses them: group, offsets reset, HTTP bind address and port, SASL credentials', async () => {
    const instance = await rideshareApp.create({
      env: {},
      logger: silentLogger,
      metrics: createMetrics(),
      clock: systemClock,
    })
    try {
      assert.equal(instance.run.groupId, 'stream-processor')
      assert.equal(instance.run.fromBeginning, false) // latest
      assert.deepEqual(instance.http, { host: '0.0.0.0', port: 8080, portVariable: 'API_PORT' })
      assert.deepEqual(instance.kafka.brokers, ['localhost:9092'])
      assert.deepEqual(instance.kafka.sasl, { mechanism: 'PLAIN', username: 'admin', password: 'admin' })
    } finally {
      await instance.close?.()
    }
  })

  it('secrets "via secrets": KAFKA_SASL_USERNAME_FILE, KAFKA_SASL_PASSWORD_FILE, REDIS_PASSWORD_FILE', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-seed000-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = (name: string, text: string) => {
      const path = join(dir, name)
      writeFileSync(path, `${text}\n`)
      return path
    }
    const c = loadRideshareConfig({
      KAFKA_SASL_USERNAME_FILE: file('user', 'bridge'),
      KAFKA_SASL_PASSWORD_FILE: file('kpw', 'k-secret'),
      REDIS_PASSWORD_FILE: file('rpw', 'r-secret'),
    })
    assert.equal(c.sasl?.username.reveal(), 'bridge')
    assert.equal(c.sasl?.password.reveal(), 'k-secret')
    assert.equal(c.REDIS_PASSWORD.reveal(), 'r-secret')
  })
})

// -------------------------------------------------------------------------------------- Kafka Topics

describe('seed 000 · Kafka Topics table (topic → Redis channel, handler)', () => {
  const table = [
    ['gps_pings', 'driver-updates', 'GPSHandler', 'windowed'],
    ['trips', 'trip-updates', 'TripHandler', 'pass-through'],
    ['driver_status', 'driver-updates', 'DriverStatusHandler', 'pass-through'],
    ['surge_updates', 'surge_updates', 'SurgeHandler', 'pass-through'],
    ['driver_profiles', 'driver-updates', 'DriverProfileHandler', 'pass-through'],
    ['rider_profiles', 'rider-updates', 'RiderProfileHandler', 'pass-through'],
  ] as const
  for (const [topic, channel, handler, mode] of table) {
    it(`${topic} → ${channel} (${handler}, ${mode})`, () => {
      const route = TOPIC_ROUTES[topic]
      assert.deepEqual([route.channel, route.handler, route.mode], [channel, handler, mode])
    })
  }
  it('exactly these six topics and four channels', () => {
    assert.deepEqual([...RIDESHARE_TOPICS].sort(), table.map((r) => r[0]).sort())
    assert.deepEqual([...REDIS_CHANNELS].sort(), [...new Set(table.map((r) => r[1]))].sort())
  })
})

// ------------------------------------------------------------------------------------- live suite

interface Heard {
  readonly channel: string
  readonly text: string
}

/** An ioredis subscriber on the seed's channels. */
async function subscribe(redis: { port: number; password?: string }, cleanup: Cleanup): Promise<Heard[]> {
  const client = new Redis({
    host: '127.0.0.1',
    port: redis.port,
    password: redis.password,
    lazyConnect: true,
  })
  client.on('error', () => {})
  cleanup(() => client.disconnect())
  const heard: Heard[] = []
  client.on('message', (channel: string, text: string) => heard.push({ channel, text }))
  await client.connect()
  await client.subscribe(...REDIS_CHANNELS)
  return heard
}

/** Writes JSON (or raw bytes) values to topics, one produce call. */
async function produce(
  records: ReadonlyArray<{ topic: string; key: string | null; value: unknown }>,
): Promise<void> {
  const sink = kafka.sink({ clientId: 'weir-seed000-producer' })
  await sink.open()
  try {
    for (const r of records) {
      sink.add({
        topic: r.topic,
        key: r.key === null ? null : Buffer.from(r.key),
        value: Buffer.isBuffer(r.value) ? r.value : Buffer.from(JSON.stringify(r.value)),
        headers: {},
        timestamp: Date.now(),
      })
    }
    await sink.flush()
  } finally {
    await sink.close()
  }
}

/** One payload per topic, shaped as the seed's simulation writes them (enough for the bridge). */
function onePerTopic(tag: string) {
  return {
    gps_pings: { event_id: `${tag}-g`, driver_id: `${tag}-drv`, lat: -23.55, lon: -46.63, timestamp: 'now' },
    trips: { event_id: `${tag}-t`, trip_id: `${tag}-trip`, status: 'requested' },
    driver_status: { event_id: `${tag}-s`, driver_id: `${tag}-drv`, status: 'online' },
    surge_updates: { event_id: `${tag}-u`, zone_id: 'pinheiros', multiplier: 1.4 },
    driver_profiles: { event_id: `${tag}-dp`, driver_id: `${tag}-drv`, name: 'Ana' },
    rider_profiles: { event_id: `${tag}-rp`, rider_id: `${tag}-rider`, name: 'Bruno' },
  } as const
}

function topicsUnder(prefix: string): string[] {
  return [
    ...RIDESHARE_TOPICS.map((t) => prefix + t),
    `${prefix}stream-processor-dlq`,
    `${prefix}rideshare-driver-position-changelog`,
  ]
}

describe('seed 000 · against Kafka (SASL_PLAINTEXT, admin/admin defaults) and Redis (AUTH admin)', {
  timeout: 120_000,
}, () => {
  const cleanup = suiteCleanup()
  const prefix = `${uniqueName('seed000')}.`
  let redis: RedisServer
  let heard: Heard[]
  let service: RunningService
  let base: string
  const produced = onePerTopic('e2e')

  before(async () => {
    cleanup(() => deleteTopics(topicsUnder(prefix)))
    redis = await startRedisServer(cleanup, ['--requirepass', 'admin'])
    heard = await subscribe({ port: redis.port, password: 'admin' }, cleanup)
    const port = await freePort()
    // Only what the seed's table names, with the seed's defaults for the rest: SASL_PLAINTEXT with
    // admin/admin (the broker's SASL listener), Redis AUTH admin.
    service = await startService(rideshareApp, {
      env: {
        KAFKA_BOOTSTRAP_SERVERS: kafkaSaslBrokers().join(','),
        KAFKA_GROUP_ID: `${prefix}group`,
        KAFKA_AUTO_OFFSET_RESET: 'earliest',
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(redis.port),
        PROCESSOR_WINDOW_SIZE_MS: '1000',
        PROCESSOR_TOPICS: RIDESHARE_TOPICS.join(','),
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
        TOPIC_PREFIX: prefix,
        // Beyond the seed, opt-in: the driver-position store (its last case).
        PROCESSOR_DRIVER_POSITION: 'true',
      },
      logger: silentLogger,
      handleSignals: false,
      transport: kafkaTransportFor,
    })
    cleanup(() => service.stop())
    base = `http://127.0.0.1:${port}`
    await produce(RIDESHARE_TOPICS.map((t) => ({ topic: prefix + t, key: `key-${t}`, value: produced[t] })))
  })

  it('Topic Creation: topics are auto-created on startup, 1 partition, replication factor 1', async () => {
    const admin = new Admin({ clientId: 'weir-seed000-admin', bootstrapBrokers: kafkaBrokers() })
    try {
      const meta = await admin.metadata({ topics: topicsUnder(prefix) })
      for (const name of topicsUnder(prefix)) {
        const topic = meta.topics.get(name)
        assert.ok(topic, `${name} exists`)
        assert.equal(topic.partitionsCount, 1, `${name} partitions`)
        assert.equal(topic.partitions[0]?.replicas.length, 1, `${name} replication factor`)
      }
    } finally {
      await admin.close()
    }
  })

  it('GET /health (healthy example): { status, kafka_connected, redis_connected, uptime_seconds, message }', async () => {
    const { status, body } = await eventually(async () => {
      const r = await getJson(`${base}/health`)
      assert.equal(r.body.status, 'healthy')
      return r
    }, 20_000)
    assert.equal(status, 200)
    assert.deepEqual(Object.keys(body).sort(), [
      'kafka_connected',
      'message',
      'redis_connected',
      'status',
      'uptime_seconds',
    ])
    assert.equal(body.kafka_connected, true)
    assert.equal(body.redis_connected, true)
    assert.equal(typeof body.uptime_seconds, 'number')
    assert.ok(Number.isInteger(Math.round((body.uptime_seconds as number) * 10)), 'one decimal, as 125.4')
    assert.equal(body.message, 'All connections active')
  })

  it('each Kafka topic is published on its Redis channel; message = {type, topic, key, data, timestamp}', async () => {
    await eventually(() => heard.length >= RIDESHARE_TOPICS.length, 20_000)
    for (const topic of RIDESHARE_TOPICS) {
      const got = heard.find((h) => h.text.includes(`"${produced[topic].event_id}"`))
      assert.ok(got, `${topic}: published`)
      assert.equal(got.channel, TOPIC_ROUTES[topic].channel, `${topic}: channel`)
      const m = JSON.parse(got.text) as Record<string, unknown>
      assert.deepEqual(Object.keys(m), ['type', 'topic', 'key', 'data', 'timestamp'])
      assert.equal(m.type, TOPIC_ROUTES[topic].type)
      assert.equal(m.topic, topic, 'the seed topic name (without TOPIC_PREFIX)')
      assert.equal(m.key, `key-${topic}`)
      assert.deepEqual(m.data, produced[topic])
      assert.equal(typeof m.timestamp, 'number')
    }
  })

  it('Windowed Aggregation (latest): pings per driver become at most one update per window, the latest ping; flushed by the wall clock', async () => {
    const drivers = ['d1', 'd2', 'd3', 'd4', 'd5']
    const pings = drivers.flatMap((d) =>
      Array.from({ length: 20 }, (_, i) => ({
        topic: `${prefix}gps_pings`,
        key: d,
        value: { event_id: `w-${d}-${i}`, driver_id: d, lat: -23.5 - i / 1000, lon: -46.6, timestamp: 'now' },
      })),
    )
    const before = heard.length
    await produce(pings)
    // No further input: the window closes on the wall clock.
    const updates = await eventually(() => {
      const got = heard
        .slice(before)
        .map((h) => JSON.parse(h.text) as { data: { driver_id: string; event_id: string } })
      for (const d of drivers)
        assert.ok(
          got.some((m) => m.data.event_id === `w-${d}-19`),
          `${d}: latest ping`,
        )
      return got
    }, 20_000)
    assert.ok(heard.slice(before).every((h) => h.channel === 'driver-updates'))
    // 100 pings produced in one request arrive within one or two windows: far fewer updates than pings.
    for (const d of drivers) {
      const n = updates.filter((m) => m.data.driver_id === d).length
      assert.ok(n >= 1 && n <= 3, `${d}: ${n} updates for 20 pings`)
    }
    const metrics = (await getJson(`${base}/metrics`)).body
    assert.ok(
      (metrics.gps_aggregation_ratio as number) > 5,
      `gps_aggregation_ratio ${metrics.gps_aggregation_ratio}`,
    )
  })

  it('GET /metrics (example): every field with its type; redis_publish_latency.count counts messages', async () => {
    const body = await eventually(async () => {
      const { body } = await getJson(`${base}/metrics`)
      // Everything read so far is published (no backlog), so the counts below are final.
      assert.equal(body.messages_consumed_total, 106)
      assert.equal(body.redis_backlog, 0)
      assert.equal(body.messages_published_total, heard.length, 'the subscriber heard every PUBLISH')
      return body
    }, 20_000)
    const numbers = [
      'messages_consumed_total',
      'messages_published_total',
      'messages_consumed_per_sec',
      'messages_published_per_sec',
      'gps_aggregation_ratio',
      'publish_errors',
      'publish_errors_per_sec',
      'uptime_seconds',
      'timestamp',
    ]
    for (const k of numbers) assert.equal(typeof body[k], 'number', k)
    assert.equal(body.kafka_connected, true)
    assert.equal(body.redis_connected, true)
    const seedOrder = [
      ...numbers.slice(0, 5),
      'redis_publish_latency',
      'publish_errors',
      'publish_errors_per_sec',
    ]
    assert.deepEqual(Object.keys(body).slice(0, seedOrder.length), seedOrder)
    const latency = body.redis_publish_latency as Record<string, unknown>
    assert.deepEqual(Object.keys(latency), ['avg_ms', 'p95_ms', 'count'])
    for (const k of ['avg_ms', 'p95_ms', 'count']) assert.equal(typeof latency[k], 'number', k)
    // The seed's example: count 1542 = messages_published_total 1542 (one per message, not per pipeline).
    assert.equal(latency.count, body.messages_published_total)
    assert.ok((latency.p95_ms as number) >= 0 && (latency.avg_ms as number) > 0)
    assert.equal(body.publish_errors, 0)
    assert.ok(Math.abs((body.timestamp as number) - Date.now() / 1000) < 60, 'timestamp is epoch seconds')
  })

  it('unreadable input (Weir, beyond the seed): dead-lettered with why, where from and when; the bridge goes on', async () => {
    await produce([{ topic: `${prefix}trips`, key: 'bad', value: Buffer.from('{"trip_id": ') }])
    const dead = await eventually(async () => {
      const all = await readAll(kafka, `${prefix}stream-processor-dlq`)
      assert.equal(all.length, 1)
      return all[0]!
    }, 20_000)
    assert.equal(dead.value?.toString(), '{"trip_id": ')
    const info = readDeadLetter(dead.headers)
    assert.equal(info.code, ErrorCode.DESERIALIZE_FAILED)
    assert.match(info.message ?? '', /malformed JSON/)
    assert.deepEqual(info.source, { topic: `${prefix}trips`, partition: 0, offset: 1 })
    assert.ok(!Number.isNaN(Date.parse(info.time ?? '')))
    const { body } = await getJson(`${base}/health`)
    assert.equal(body.status, 'healthy')
  })

  it('/health degraded example: a connection down → "degraded", its *_connected false, a message naming it; healthy again once back', async () => {
    // The seed's own example, Kafka down and Redis up, from the same function the endpoint uses.
    const kafkaDown = healthFrom(
      { kafka: { connected: false }, redis: { connected: true } },
      { uptimeSeconds: 125.4 },
    )
    assert.deepEqual(kafkaDown, {
      status: 'degraded',
      kafka_connected: false,
      redis_connected: true,
      uptime_seconds: 125.4,
      message: 'Kafka disconnected',
    })
    // And live: Redis stopped under the running bridge.
    await redis.stop()
    const degraded = await eventually(async () => {
      const r = await getJson(`${base}/health`)
      assert.equal(r.body.redis_connected, false)
      return r
    }, 20_000)
    assert.equal(degraded.status, 200, 'degraded stays in rotation')
    assert.equal(degraded.body.status, 'degraded')
    assert.equal(degraded.body.kafka_connected, true)
    assert.match(String(degraded.body.message), /^Redis disconnected/)
    await redis.start()
    await eventually(
      async () => assert.equal((await getJson(`${base}/health`)).body.status, 'healthy'),
      30_000,
    )
  })

  it('/health "unhealthy" (Troubleshooting): every connection down, or Kafka down for 30 s → HTTP 503 for the orchestrator', () => {
    const allDown = healthFrom({ kafka: { connected: false }, redis: { connected: false } })
    assert.equal(allDown.status, 'unhealthy')
    assert.equal(healthHttpStatus(allDown), 503)
    const kafkaLong = healthFrom(
      { kafka: { connected: false }, redis: { connected: true } },
      { downSince: { kafka: 0 }, now: 30_000 },
    )
    assert.equal(kafkaLong.status, 'unhealthy')
  })

  // Last in this suite: it stops the suite's bridge to show the store restored by another instance.
  it('driver-position (Weir beyond the seed, for the map frontend to load on connect): GET /state/driver-position/<id> on API_PORT; durable, restored by the instance that takes over', async (t) => {
    const at = Date.now() - 5000
    await produce([
      {
        topic: `${prefix}driver_status`,
        key: 'map-drv',
        value: {
          event_id: 'm-s',
          driver_id: 'map-drv',
          previous_status: 'offline',
          new_status: 'online',
          trigger: 'shift_start',
          lat: -23.56,
          lon: -46.65,
          timestamp: new Date(at).toISOString(),
        },
      },
      {
        topic: `${prefix}gps_pings`,
        key: 'map-drv',
        value: {
          event_id: 'm-g',
          driver_id: 'map-drv',
          trip_id: null,
          lat: -23.57,
          lon: -46.66,
          heading: 180,
          speed: 22,
          accuracy: 4,
          timestamp: new Date(at + 1000).toISOString(),
        },
      },
    ])
    const expected = {
      driver_id: 'map-drv',
      lat: -23.57,
      lon: -46.66,
      heading: 180,
      speed: 22,
      trip_id: null,
      position_at: new Date(at + 1000).toISOString(),
      status: 'online',
      status_at: new Date(at).toISOString(),
    }
    const found = await eventually(async () => {
      const r = await getJson(`${base}/state/driver-position/map-drv`)
      assert.equal(r.status, 200)
      assert.equal((r.body.value as { status?: string }).status, 'online')
      return r.body
    }, 20_000)
    assert.deepEqual(found, { store: 'driver-position', key: 'map-drv', value: expected })
    assert.equal((await getJson(`${base}/state/driver-position/nobody`)).status, 404)

    // A second instance joins, the first stops: the second restores the store from its changelog.
    const port = await freePort()
    const second = await startService(rideshareApp, {
      env: {
        KAFKA_BOOTSTRAP_SERVERS: kafkaSaslBrokers().join(','),
        KAFKA_GROUP_ID: `${prefix}group`,
        KAFKA_AUTO_OFFSET_RESET: 'earliest',
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(redis.port),
        PROCESSOR_TOPICS: RIDESHARE_TOPICS.join(','),
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
        TOPIC_PREFIX: prefix,
        PROCESSOR_DRIVER_POSITION: 'true',
      },
      logger: silentLogger,
      handleSignals: false,
      transport: kafkaTransportFor,
    })
    t.after(() => second.stop())
    await service.stop('handing over to the second instance')
    const restored = await eventually(async () => {
      const r = await getJson(`http://127.0.0.1:${port}/state/driver-position/map-drv`)
      assert.equal(r.status, 200, JSON.stringify(r.body))
      return r.body
    }, 30_000)
    assert.deepEqual(restored, found)
    assert.ok(
      second.running.assignment().some((tp) => tp.topic === `${prefix}gps_pings`),
      'the second instance owns the partition now (answered from its own restored state)',
    )
  })
})

describe('seed 000 · REDIS_PAYLOAD (the seed leaves the message shape open; Weir: envelope by default, raw on request)', {
  timeout: 60_000,
}, () => {
  it('REDIS_PAYLOAD=raw publishes the Kafka payload byte for byte; any other value is refused', async (t) => {
    const cleanup = testCleanup(t)
    rejects({ REDIS_PAYLOAD: 'wrapped' }, 'REDIS_PAYLOAD')
    assert.equal(loadRideshareConfig({}).REDIS_PAYLOAD, 'envelope')
    const prefix = `${uniqueName('seed000raw')}.`
    cleanup(() => deleteTopics([`${prefix}trips`, `${prefix}gps_pings`, `${prefix}stream-processor-dlq`]))
    const redis = await startRedisServer(cleanup)
    const heard = await subscribe(redis, cleanup)
    const service = await startService(rideshareApp, {
      env: {
        KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
        KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
        KAFKA_GROUP_ID: `${prefix}group`,
        KAFKA_AUTO_OFFSET_RESET: 'earliest',
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(redis.port),
        REDIS_PASSWORD: '',
        REDIS_PAYLOAD: 'raw',
        PROCESSOR_TOPICS: 'trips,gps_pings',
        TOPIC_PREFIX: prefix,
      },
      logger: silentLogger,
      handleSignals: false,
      http: false,
      transport: kafkaTransportFor,
    })
    cleanup(() => service.stop())
    const trip = '{"event_id":"raw-1", "trip_id":"t9","status":"started"}'
    const ping = '{"event_id":"raw-2","driver_id":"d9","lat":-23.5,"lon":-46.6}'
    await produce([
      { topic: `${prefix}trips`, key: 't9', value: Buffer.from(trip) },
      { topic: `${prefix}gps_pings`, key: 'd9', value: Buffer.from(ping) },
    ])
    await eventually(() => heard.length === 2, 20_000)
    assert.deepEqual(
      [...heard].sort((a, b) => a.channel.localeCompare(b.channel)),
      [
        { channel: 'driver-updates', text: ping },
        { channel: 'trip-updates', text: trip },
      ],
    )
  })
})

/**
 * The bridge's operators on a virtual clock (a 60 s dedupe window cannot be waited for), publishing to
 * a real, private Redis that a subscriber listens to.
 */
async function virtualBridge(
  cleanup: Cleanup,
  options: Partial<Parameters<typeof ridesharePipeline>[0]> = {},
): Promise<{ driver: TestDriver; heard: Heard[]; published: () => Promise<Heard[]> }> {
  const redis = await startRedisServer(cleanup)
  const heard = await subscribe(redis, cleanup)
  const sink = redisPublishSink({ host: '127.0.0.1', port: redis.port, name: 'seed000-virtual' })
  cleanup(() => sink.close())
  await sink.open()
  const p = ridesharePipeline({
    topics: ['gps_pings', 'trips'],
    windowSizeMs: 100,
    strategy: 'latest',
    sampleRate: 10,
    sink,
    payload: 'raw',
    ...options,
  })
  const driver = new TestDriver(p, { startTime: Date.UTC(2026, 0, 1) })
  cleanup(() => driver.close())
  /** Checkpoints (flushes the sink to Redis) and waits until the subscriber heard everything written. */
  const published = async () => {
    await driver.checkpoint()
    await eventually(() => heard.length === sink.stats().written, 10_000)
    return heard
  }
  return { driver, heard, published }
}

function gpsPing(driver: string, n: number) {
  return { event_id: `${driver}-${n}`, driver_id: driver, lat: -23.5, lon: -46.6 }
}

describe('seed 000 · Windowed Aggregation and Event Deduplication (virtual clock, real Redis)', () => {
  it('PROCESSOR_WINDOW_SIZE_MS: the window flushes on the wall-clock timer at its end, with no further input', async (t) => {
    const { driver, published } = await virtualBridge(testCleanup(t), { windowSizeMs: 500 })
    driver.input('gps_pings').pipe(gpsPing('d1', 1), { key: 'd1' })
    await driver.advance(499)
    assert.equal((await published()).length, 0, 'still open at 499 ms')
    await driver.advance(1)
    assert.deepEqual(
      (await published()).map((h) => [h.channel, JSON.parse(h.text).event_id]),
      [['driver-updates', 'd1-1']],
    )
  })

  it('PROCESSOR_AGGREGATION_STRATEGY=sample, PROCESSOR_SAMPLE_RATE=10: emits 1 in 10 pings', async (t) => {
    const { driver, published } = await virtualBridge(testCleanup(t), { strategy: 'sample', sampleRate: 10 })
    const gps = driver.input('gps_pings')
    for (let round = 1; round <= 20; round++) {
      for (let d = 0; d < 10; d++) gps.pipe(gpsPing(`d${d}`, round), { key: `d${d}` })
      await driver.advance(100)
    }
    const heard = await published()
    assert.equal(heard.length, 20, '200 pings → 20 updates')
    // The seed's counter: each driver's 10th and 20th ping.
    const ids = new Set(heard.map((h) => JSON.parse(h.text).event_id as string))
    for (let d = 0; d < 10; d++) assert.ok(ids.has(`d${d}-10`) && ids.has(`d${d}-20`), `d${d}`)
  })

  it('Deduplication: a re-delivered {topic}:{partition}:{offset} is dropped within 60 s and passes after; the same payload at another offset passes', async (t) => {
    const { driver, published } = await virtualBridge(testCleanup(t))
    const trips = driver.input('trips')
    const trip = { event_id: 'trip-e1', trip_id: 't1', status: 'started' }
    trips.pipe(trip, { offset: 5 })
    trips.pipe(trip, { offset: 5 }) // re-delivered: dropped
    trips.pipe(trip, { offset: 6 }) // same payload, new offset: passes
    await driver.advance(59_000)
    trips.pipe(trip, { offset: 5 }) // within 60 s of the first: dropped
    assert.equal((await published()).length, 2)
    await driver.advance(1_000)
    trips.pipe(trip, { offset: 5 }) // 60 s on: expired ("purged on every check"), passes
    const heard = await published()
    assert.equal(heard.length, 3)
    assert.ok(heard.every((h) => h.channel === 'trip-updates'))
  })
})

describe('seed 000 · weir describe rideshare (seed names where Weir’s differ)', () => {
  it('lists every variable with its default, and the seed’s name for settings it fixed in code', () => {
    // What `weir describe` prints for the variables (the command writes this table as it is).
    const lines = envTable([...rideshareApp.env, ...serviceEnvDocs]).split('\n')
    const line = (name: string) => lines.find((l) => l.trimStart().startsWith(`${name} `)) ?? ''
    for (const v of RIDESHARE_ENV_DOCS) assert.ok(line(v.name).includes(v.default ?? ''), v.name)
    assert.match(line('PROCESSOR_DEDUP_WINDOW_MS'), /60000 .*\(seed: EventDeduplicator/)
    assert.match(line('KAFKA_TOPIC_PARTITIONS'), /\(seed: ensure_topics_exist/)
    assert.match(line('KAFKA_PRODUCER_COMPRESSION'), /none/)
    assert.doesNotMatch(line('KAFKA_BOOTSTRAP_SERVERS'), /seed:/, 'same name as the seed: nothing to map')
    assert.equal(lines.filter((l) => l.trimStart().startsWith('LOG_LEVEL ')).length, 1)
  })
})

describe('seed 000 · weir run rideshare as a process: Graceful Shutdown, LOG_LEVEL', {
  timeout: 90_000,
}, () => {
  const cleanup = suiteCleanup()
  const prefix = `${uniqueName('seed000proc')}.`
  let heard: Heard[]
  let bad: WeirProcess
  let quiet: { app: WeirProcess; base: string }
  let app: { app: WeirProcess; base: string }

  /** PLAINTEXT Kafka, a private Redis without a password, topics and a group of its own. */
  function processEnv(label: string, redisPort: number, apiPort: number, extra: Record<string, string>) {
    return {
      KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
      KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      KAFKA_GROUP_ID: `${prefix}${label}-group`,
      KAFKA_AUTO_OFFSET_RESET: 'earliest',
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redisPort),
      REDIS_PASSWORD: '',
      TOPIC_PREFIX: `${prefix}${label}.`,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      ...extra,
    }
  }

  // The three processes start together (each takes seconds to boot); each case below reads its own.
  before(async () => {
    cleanup(() => deleteTopics([...topicsUnder(`${prefix}stop.`), ...topicsUnder(`${prefix}quiet.`)]))
    const redis = await startRedisServer(cleanup)
    heard = await subscribe(redis, cleanup)
    const start = async (label: string, extra: Record<string, string>) => {
      const port = await freePort()
      const child = spawnWeir(['run', 'rideshare'], processEnv(label, redis.port, port, extra), cleanup)
      return { app: child, base: `http://127.0.0.1:${port}` }
    }
    bad = (await start('bad', { LOG_LEVEL: 'LOUD' })).app
    quiet = await start('quiet', { LOG_LEVEL: 'WARNING', PROCESSOR_TOPICS: 'trips' })
    app = await start('stop', { PROCESSOR_WINDOW_SIZE_MS: '5000', LOG_LEVEL: 'INFO' })
  })

  const healthy = (base: string) =>
    eventually(async () => assert.equal((await getJson(`${base}/health`)).body.status, 'healthy'), 30_000)

  it('LOG_LEVEL: an unknown level is refused at start, naming the variable and what it takes', async () => {
    const { code } = await bad.exited
    assert.equal(code, 1)
    assert.match(bad.output(), /LOG_LEVEL: expected one of DEBUG, INFO, WARNING/)
  })

  it('LOG_LEVEL=WARNING: no INFO or DEBUG line in the whole run, start to stop', async () => {
    await healthy(quiet.base)
    quiet.app.child.kill('SIGTERM')
    assert.equal((await quiet.app.exited).code, 0, quiet.app.output())
    const levels = new Set(quiet.app.logs().map((l) => l.level))
    assert.ok(!levels.has('info') && !levels.has('debug'), quiet.app.output())
  })

  it('SIGTERM: stop consuming, flush the open GPS window to Redis, commit final offsets, close, exit 0', async (t) => {
    const { base } = app
    await healthy(base)
    // Start right after a 5 s window boundary, so the window is still open when SIGTERM comes.
    await sleep(5000 - (Date.now() % 5000) + 50)
    const drivers = Array.from({ length: 10 }, (_, i) => `stop-d${i}`)
    await produce(
      drivers.map((d) => ({
        topic: `${prefix}stop.gps_pings`,
        key: d,
        value: { event_id: `stop-${d}`, driver_id: d, lat: -23.5, lon: -46.6 },
      })),
    )
    await eventually(
      async () =>
        assert.equal((await getJson(`${base}/metrics`)).body.messages_consumed_total, drivers.length),
      20_000,
    )
    // Docker Compose: "Memory limit: 256MB".
    const rss = (await getJson(`${base}/metrics`)).body.memory_rss_bytes as number
    assert.ok(rss < 256 * 1024 * 1024, `RSS ${Math.round(rss / 2 ** 20)} MiB`)
    t.diagnostic(`RSS ${Math.round(rss / 2 ** 20)} MiB`)
    const beforeStop = heard.length
    app.app.child.kill('SIGTERM')
    const { code } = await app.app.exited
    assert.equal(code, 0, app.app.output())
    if (beforeStop > 0) t.diagnostic(`the window closed by itself before SIGTERM (${beforeStop} updates)`)
    await eventually(() => heard.length === drivers.length, 5_000)
    assert.deepEqual(heard.map((h) => JSON.parse(h.text).data.driver_id as string).sort(), drivers.sort())
    // Offsets committed to the end: nothing is read again by the next instance.
    const admin = kafka.admin()
    try {
      const committed = await admin.committedOffsets(`${prefix}stop-group`, [`${prefix}stop.gps_pings`])
      assert.equal(committed.get(`${prefix}stop.gps_pings:0`), drivers.length)
    } finally {
      await admin.close()
    }
    // The order, from the whole log: signal → stopping → stopped (after flush and commit), nothing after.
    const logs = app.app.logs()
    const messages = logs.map((l) => l.msg)
    const at = (m: string) => messages.indexOf(m)
    assert.ok(at('signal received, stopping gracefully') >= 0, app.app.output())
    assert.ok(at('signal received, stopping gracefully') < at('stopping'))
    assert.ok(at('stopping') < at('stopped'))
    assert.equal(messages.at(-1), 'stopped')
    assert.ok(!logs.some((l) => l.level === 'debug'), 'LOG_LEVEL=INFO: no debug lines')
    assert.ok(!logs.some((l) => l.level === 'error'), app.app.output())
  })
})

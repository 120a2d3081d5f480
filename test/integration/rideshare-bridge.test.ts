/**
 * The rideshare bridge (seed 000) against real Kafka and real Redis: a Redis subscriber (ioredis in
 * subscriber mode) on every channel sees what the bridge publishes. Each test runs its own
 * redis-server on a spare port, so the shared Redis is never touched, and its own prefixed topics.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { rideshareApp } from '../../src/apps/rideshare/app.ts'
import {
  type BridgeMessage,
  type GpsPing,
  REDIS_CHANNELS,
  RIDESHARE_TOPICS,
  type RideshareTopic,
  TOPIC_ROUTES,
} from '../../src/apps/rideshare/domain/index.ts'
import { encodeValue } from '../../src/cli/feed.ts'
import { type KafkaTransport, kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { type RunningService, startService } from '../../src/service/service.ts'
import { exited, spawnApp } from './helpers/apps.ts'
import { deleteTopics, kafkaBrokers, kafkaSaslBrokers, testKafka, uniqueName } from './helpers/kafka.ts'
import {
  type Cleanup,
  eventually,
  freePort,
  type RedisServer,
  sleep,
  startRedisServer,
  tcpProxy,
  testCleanup,
} from './helpers/services.ts'

const kafka = testKafka()
const SENTINEL = 'weir-test-sentinel'

interface Produced {
  readonly topic: RideshareTopic
  readonly key: string | null
  readonly value: { event_id: string; driver_id?: string }
}

/** A unique topic prefix and group, PLAINTEXT Kafka, all six topics, the given Redis. */
function envFor(label: string, redis: { host: string; port: number }, extra: Record<string, string> = {}) {
  const base = uniqueName(`rs-${label}`)
  return {
    KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
    KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
    KAFKA_GROUP_ID: `${base}-group`,
    KAFKA_AUTO_OFFSET_RESET: 'earliest',
    TOPIC_PREFIX: `${base}.`,
    REDIS_HOST: redis.host,
    REDIS_PORT: String(redis.port),
    PROCESSOR_TOPICS: RIDESHARE_TOPICS.join(','),
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    ...extra,
  }
}

type Env = ReturnType<typeof envFor>

function topicsOf(env: Pick<Env, 'TOPIC_PREFIX'>): string[] {
  return [...RIDESHARE_TOPICS.map((t) => env.TOPIC_PREFIX + t), `${env.TOPIC_PREFIX}stream-processor-dlq`]
}

async function startBridge(env: Record<string, string>, cleanup: Cleanup): Promise<RunningService> {
  const service = await startService(rideshareApp, {
    env,
    logger: silentLogger,
    handleSignals: false,
    http: { host: '127.0.0.1', port: 0 },
    transport: (k) =>
      kafkaTransport({ brokers: [...k.brokers], clientId: k.clientId, sasl: k.sasl, tls: k.tls }),
  })
  cleanup(() => service.stop())
  return service
}

async function getJson(service: RunningService, url: string): Promise<Record<string, unknown>> {
  const res = await service.ops!.handle({ url })
  return JSON.parse(String(res.body)) as Record<string, unknown>
}

/** Writes `count` generated records to the prefixed topics; returns them in order. */
async function produce(
  prefix: string,
  count: number,
  options: { seed: number; drivers: number },
  via: KafkaTransport = kafka,
): Promise<Produced[]> {
  const g = rideshareApp.generator!({ seed: options.seed, drivers: options.drivers })
  const sink = via.sink({ clientId: 'weir-test-rideshare-producer' })
  await sink.open()
  const out: Produced[] = []
  try {
    for (let i = 0; i < count; i++) {
      const r = g.next()
      out.push({ topic: r.topic as RideshareTopic, key: r.key, value: r.value as Produced['value'] })
      sink.add({
        topic: prefix + r.topic,
        key: r.key === null ? null : Buffer.from(r.key),
        value: encodeValue(r.value),
        headers: {},
        timestamp: r.timestamp,
      })
      if (i % 2000 === 1999) await sink.flush()
    }
    await sink.flush()
  } finally {
    await sink.close()
  }
  return out
}

interface Received {
  readonly channel: string
  readonly message: BridgeMessage
}

/** An ioredis subscriber on the four channels (and a sentinel channel to tell when it listens). */
async function subscriber(redis: { host: string; port: number; password?: string }, cleanup: Cleanup) {
  const client = new Redis({
    host: redis.host,
    port: redis.port,
    password: redis.password,
    lazyConnect: true,
    retryStrategy: () => 25,
    maxRetriesPerRequest: null,
  })
  cleanup(() => client.disconnect())
  const received: Received[] = []
  let sentinels = 0
  client.on('error', () => {})
  client.on('message', (channel: string, message: string) => {
    if (channel === SENTINEL) sentinels++
    else received.push({ channel, message: JSON.parse(message) as BridgeMessage })
  })
  await client.connect()
  await client.subscribe(...REDIS_CHANNELS, SENTINEL)
  return {
    received,
    /** Resolves once a message published now reaches the subscriber (after a Redis restart, say). */
    async listening(publisher: { host: string; port: number; password?: string }): Promise<void> {
      const pub = new Redis({ host: publisher.host, port: publisher.port, password: publisher.password })
      pub.on('error', () => {})
      try {
        const before = sentinels
        await eventually(async () => {
          await pub.publish(SENTINEL, 'ping').catch(() => 0)
          await sleep(50)
          return sentinels > before
        }, 20_000)
      } finally {
        pub.disconnect()
      }
    },
  }
}

function eventIds(received: readonly Received[], type?: string): Map<string, Received[]> {
  const out = new Map<string, Received[]>()
  for (const r of received) {
    if (type !== undefined && r.message.type !== type) continue
    const id = (r.message.data as { event_id: string }).event_id
    const list = out.get(id)
    if (list === undefined) out.set(id, [r])
    else list.push(r)
  }
  return out
}

async function groupCommitted(env: Env): Promise<Map<string, number>> {
  const admin = kafka.admin()
  try {
    return await admin.committedOffsets(env.KAFKA_GROUP_ID, topicsOf(env))
  } finally {
    await admin.close()
  }
}

async function ends(env: Env): Promise<Map<string, number>> {
  const admin = kafka.admin()
  try {
    return await admin.endOffsets(RIDESHARE_TOPICS.map((t) => env.TOPIC_PREFIX + t))
  } finally {
    await admin.close()
  }
}

/** True when the group committed every input partition up to its end. */
async function committedToEnd(env: Env): Promise<boolean> {
  const [committed, end] = await Promise.all([groupCommitted(env), ends(env)])
  for (const [tp, e] of end) if (e > 0 && committed.get(tp) !== e) return false
  return true
}

const SEED_METRICS_FIELDS = [
  'messages_consumed_total',
  'messages_published_total',
  'messages_consumed_per_sec',
  'messages_published_per_sec',
  'gps_aggregation_ratio',
  'redis_publish_latency',
  'publish_errors',
  'publish_errors_per_sec',
  'kafka_connected',
  'redis_connected',
  'uptime_seconds',
  'timestamp',
]

describe('rideshare bridge against Kafka and Redis', { timeout: 240_000 }, () => {
  it('end to end with a Redis restart mid-stream: degraded while down, no commit past unpublished records, nothing lost after', async (t) => {
    const cleanup = testCleanup(t)
    const server = await startRedisServer(cleanup)
    // The bridge reaches Redis through a cuttable hop, so after the restart the test's subscriber is
    // listening again before the bridge reconnects and publishes its backlog (pub/sub keeps nothing).
    const hop = await tcpProxy(cleanup, server)
    const env = envFor('restart', { host: '127.0.0.1', port: hop.port })
    cleanup(() => deleteTopics(topicsOf(env)))
    const sub = await subscriber(server, cleanup)
    const service = await startBridge(env, cleanup)
    const produced: Produced[] = []
    const consumed = async () => (await getJson(service, '/metrics')).messages_consumed_total as number
    const passThrough = () => produced.filter((p) => TOPIC_ROUTES[p.topic].mode === 'pass-through')
    const allPassThroughReceived = () => {
      const got = eventIds(sub.received)
      return passThrough().every((p) => got.has(p.value.event_id))
    }

    // A: Redis up. Everything is published and committed.
    produced.push(...(await produce(env.TOPIC_PREFIX, 4000, { seed: 1, drivers: 300 })))
    await eventually(allPassThroughReceived, 60_000)
    await eventually(() => committedToEnd(env), 30_000)
    assert.equal((await getJson(service, '/health')).status, 'healthy')
    const gpsA = eventIds(sub.received, 'gps_ping').size
    assert.ok(gpsA > 0, 'GPS updates were published')

    // B: Redis goes down (the server is stopped, not paused); input keeps coming.
    await hop.cut()
    await server.stop()
    await eventually(async () => (await getJson(service, '/health')).status === 'degraded', 15_000)
    const health = await getJson(service, '/health')
    assert.equal(health.redis_connected, false)
    assert.equal(health.kafka_connected, true)
    assert.match(String(health.message), /^Redis disconnected/)
    const committedBefore = await groupCommitted(env)
    const receivedBefore = sub.received.length
    produced.push(...(await produce(env.TOPIC_PREFIX, 4000, { seed: 2, drivers: 300 })))
    await eventually(async () => (await consumed()) === produced.length, 60_000)
    await sleep(1500) // fifteen checkpoint intervals
    assert.deepEqual(
      await groupCommitted(env),
      committedBefore,
      'no offset is committed past the first record not yet published',
    )
    const down = await getJson(service, '/metrics')
    assert.equal(down.redis_connected, false)
    assert.ok((down.publish_errors as number) > 0, 'failed flushes are counted')
    assert.ok((down.redis_backlog as number) > 0, 'unpublished messages are kept')
    assert.equal(sub.received.length, receivedBefore)

    // C: Redis is back: the backlog is published, commits resume, GPS windows go on.
    await server.start()
    await sub.listening(server)
    await hop.restore()
    await eventually(allPassThroughReceived, 60_000)
    await eventually(async () => (await getJson(service, '/health')).status === 'healthy', 15_000)
    const later = await produce(env.TOPIC_PREFIX, 4000, { seed: 3, drivers: 300 })
    produced.push(...later)
    await eventually(allPassThroughReceived, 60_000)
    await eventually(() => committedToEnd(env), 30_000)

    // Every pass-through event on its channel as its message type; none lost.
    const got = eventIds(sub.received)
    for (const p of passThrough()) {
      const copies = got.get(p.value.event_id)!
      for (const c of copies) {
        assert.equal(c.channel, TOPIC_ROUTES[p.topic].channel)
        assert.equal(c.message.type, TOPIC_ROUTES[p.topic].type)
        assert.equal(c.message.key, p.key)
        assert.deepEqual(c.message.data, p.value)
      }
    }
    const duplicates = [...got.values()].filter((c) => c.length > 1).length
    t.diagnostic(
      `${passThrough().length} pass-through events, all received; ${duplicates} received twice (at-least-once)`,
    )

    // GPS: only produced pings, fewer updates than pings, and each driver ends on its newest ping.
    const pings = produced.filter((p) => p.topic === 'gps_pings')
    const pingIds = new Set(pings.map((p) => p.value.event_id))
    const gps = sub.received.filter((r) => r.message.type === 'gps_ping')
    for (const r of gps) {
      assert.equal(r.channel, 'driver-updates')
      assert.ok(pingIds.has((r.message.data as GpsPing).event_id))
    }
    const laterIds = new Set(later.filter((p) => p.topic === 'gps_pings').map((p) => p.value.event_id))
    assert.ok(
      gps.some((r) => laterIds.has((r.message.data as GpsPing).event_id)),
      'GPS windows resume after the restart',
    )
    const lastPing = new Map<string, string>()
    for (const p of pings) lastPing.set(p.value.driver_id!, p.value.event_id)
    const lastUpdate = new Map<string, string>()
    for (const r of gps)
      lastUpdate.set((r.message.data as GpsPing).driver_id, (r.message.data as GpsPing).event_id)
    assert.deepEqual(lastUpdate, lastPing, 'each driver’s last update is its last ping')

    const metrics = await getJson(service, '/metrics')
    assert.deepEqual(Object.keys(metrics).slice(0, SEED_METRICS_FIELDS.length), SEED_METRICS_FIELDS)
    assert.deepEqual(Object.keys(metrics.redis_publish_latency as object), ['avg_ms', 'p95_ms', 'count'])
    assert.equal(metrics.messages_consumed_total, produced.length)
    const gpsUpdates = metrics.gps_updates_emitted_total as number
    assert.ok((metrics.gps_aggregation_ratio as number) > 1, `ratio ${metrics.gps_aggregation_ratio}`)
    assert.ok(gpsUpdates < pings.length)
    assert.ok(
      (metrics.messages_published_total as number) >= passThrough().length + gpsUpdates,
      'every message handed to Redis was acknowledged',
    )
    assert.deepEqual(Object.keys(await getJson(service, '/health')), [
      'status',
      'kafka_connected',
      'redis_connected',
      'uptime_seconds',
      'message',
    ])
    t.diagnostic(
      `${produced.length} records, ${pings.length} pings → ${gpsUpdates} GPS updates (ratio ${metrics.gps_aggregation_ratio})`,
    )
  })

  it('starts degraded when Redis is unreachable, commits nothing, and publishes everything once Redis answers', async (t) => {
    const cleanup = testCleanup(t)
    const server = await startRedisServer(cleanup)
    const hop = await tcpProxy(cleanup, server)
    await hop.cut()
    const env = envFor('late-redis', { host: '127.0.0.1', port: hop.port })
    cleanup(() => deleteTopics(topicsOf(env)))
    const sub = await subscriber(server, cleanup)
    const service = await startBridge(env, cleanup)
    const health = await getJson(service, '/health')
    assert.deepEqual(
      { status: health.status, kafka: health.kafka_connected, redis: health.redis_connected },
      { status: 'degraded', kafka: true, redis: false },
    )
    const produced = await produce(env.TOPIC_PREFIX, 2000, { seed: 6, drivers: 100 })
    await eventually(
      async () => (await getJson(service, '/metrics')).messages_consumed_total === produced.length,
      60_000,
    )
    await sleep(500)
    assert.equal((await groupCommitted(env)).size, 0, 'nothing is committed before Redis has the messages')
    await hop.restore()
    const passThrough = produced.filter((p) => TOPIC_ROUTES[p.topic].mode === 'pass-through')
    await eventually(() => {
      const got = eventIds(sub.received)
      return passThrough.every((p) => got.has(p.value.event_id))
    }, 30_000)
    await eventually(() => committedToEnd(env), 30_000)
    assert.equal((await getJson(service, '/health')).status, 'healthy')
  })

  it('default security protocol SASL_PLAINTEXT (admin/admin by default), Redis AUTH from REDIS_PASSWORD_FILE, offsets reset latest', async (t) => {
    const cleanup = testCleanup(t)
    const password = `pw-${uniqueName('redis')}`
    const server: RedisServer = await startRedisServer(cleanup, ['--requirepass', password])
    const dir = await mkdtemp(join(tmpdir(), 'weir-rideshare-'))
    cleanup(() => rm(dir, { recursive: true, force: true }))
    const passwordFile = join(dir, 'redis-password')
    writeFileSync(passwordFile, `${password}\n`)
    const env = envFor('sasl', server, {
      KAFKA_BOOTSTRAP_SERVERS: kafkaSaslBrokers().join(','),
      REDIS_PASSWORD_FILE: passwordFile,
      PROCESSOR_AGGREGATION_STRATEGY: 'sample',
      PROCESSOR_SAMPLE_RATE: '5',
    })
    const { KAFKA_SECURITY_PROTOCOL: _plain, KAFKA_AUTO_OFFSET_RESET: _earliest, ...seedDefaults } = env
    cleanup(() => deleteTopics(topicsOf(env)))
    const sub = await subscriber({ ...server, password }, cleanup)
    // The bridge creates its topics over SASL at start; nothing is there yet.
    const service = await startBridge(seedDefaults, cleanup)
    assert.deepEqual(service.app.kafka.sasl, { mechanism: 'PLAIN', username: 'admin', password: 'admin' })
    const viaSasl = kafkaTransport({
      brokers: kafkaSaslBrokers(),
      clientId: 'weir-test-sasl',
      sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin' },
    })

    // A new group starts at the end (latest): poke until the bridge publishes what it reads.
    await eventually(async () => {
      await produce(env.TOPIC_PREFIX, 50, { seed: 9, drivers: 10 }, viaSasl)
      await sleep(300)
      return sub.received.length > 0
    }, 60_000)
    const start = sub.received.length
    const batch = await produce(env.TOPIC_PREFIX, 3000, { seed: 10, drivers: 100 }, viaSasl)
    const got = () => eventIds(sub.received.slice(start))
    const passThrough = batch.filter((p) => TOPIC_ROUTES[p.topic].mode === 'pass-through')
    await eventually(() => passThrough.every((p) => got().has(p.value.event_id)), 60_000)
    await eventually(async () => {
      const m = await getJson(service, '/metrics')
      return (m.gps_updates_emitted_total as number) > 0 && m.redis_backlog === 0
    }, 10_000)
    const health = await getJson(service, '/health')
    assert.deepEqual(
      { status: health.status, kafka: health.kafka_connected, redis: health.redis_connected },
      { status: 'healthy', kafka: true, redis: true },
    )
    // Sample 1 in 5 per driver: an update is always the 5th, 10th, … ping of its driver (this batch's
    // drivers are new to the bridge, so their counters start here).
    const nth = new Map<string, number>()
    const index = new Map<string, number>()
    for (const p of batch.filter((b) => b.topic === 'gps_pings')) {
      const n = (nth.get(p.value.driver_id!) ?? 0) + 1
      nth.set(p.value.driver_id!, n)
      index.set(p.value.event_id, n)
    }
    const fromBatchNow = () =>
      sub.received
        .slice(start)
        .filter((r) => r.message.type === 'gps_ping')
        .map((r) => index.get((r.message.data as GpsPing).event_id))
        .filter((n) => n !== undefined)
    // Pub/sub delivery to the test's subscriber trails the bridge's publish acknowledgement: wait for it.
    await eventually(() => fromBatchNow().length > 0, 10_000)
    const fromBatch = fromBatchNow()
    assert.ok(fromBatch.length > 0)
    assert.deepEqual(
      fromBatch.filter((n) => n % 5 !== 0),
      [],
      'only every 5th ping of a driver is published',
    )
    const ratio = (await getJson(service, '/metrics')).gps_aggregation_ratio as number
    assert.ok(ratio >= 5, `ratio ${ratio}`)
  })

  it('SIGTERM (weir run rideshare as a process): open windows are flushed to Redis, offsets committed, exit 0', async (t) => {
    const cleanup = testCleanup(t)
    const server = await startRedisServer(cleanup)
    const port = await freePort()
    const env = envFor('sigterm', server, { API_PORT: String(port), PROCESSOR_WINDOW_SIZE_MS: '5000' })
    cleanup(() => deleteTopics(topicsOf(env)))
    const sub = await subscriber(server, cleanup)
    const child = spawnApp('rideshare', env, cleanup)
    const metrics = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`)
      return (await res.json()) as Record<string, number>
    }
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 30_000).catch((err) => {
      throw new Error(`${err}\n${child.tail()}`)
    })
    // Start just after a window boundary (windows are aligned to the epoch), so the pings stay in an
    // open 5 s window until the SIGTERM.
    await eventually(() => Date.now() % 5000 < 300, 6000, 10)
    const records = await produce(env.TOPIC_PREFIX, 3000, { seed: 4, drivers: 50 })
    await eventually(async () => (await metrics()).messages_consumed_total === records.length, 30_000)
    const lastPing = new Map<string, string>()
    for (const p of records) if (p.topic === 'gps_pings') lastPing.set(p.value.driver_id!, p.value.event_id)
    const lastUpdate = () => {
      const out = new Map<string, string>()
      for (const r of sub.received)
        if (r.message.type === 'gps_ping')
          out.set((r.message.data as GpsPing).driver_id, (r.message.data as GpsPing).event_id)
      return out
    }
    assert.notDeepEqual(lastUpdate(), lastPing, 'open windows hold the newest pings before the stop')
    child.kill('SIGTERM')
    const exit = await exited(child)
    assert.equal(exit.code, 0, child.tail())
    await eventually(() => lastUpdate().size === lastPing.size, 5000)
    assert.deepEqual(lastUpdate(), lastPing, 'every driver’s open window was published at shutdown')
    assert.ok(await committedToEnd(env), 'the final commit covers every record')
  })
})

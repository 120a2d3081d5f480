/**
 * Seed 001 (METR-LA stream processor, /work/shared/seeds/001_*.txt) against `weir run traffic`, one
 * case per item the seed documents, in its order:
 *
 *   Configuration: Environment Variables .. "seed 001 · Environment Variables"
 *   Data Transformation (input → output) .. the live suite: the seed's example record, field by field
 *   Triple-layer validation ............... the live suite: one defect per layer → dead letters
 *   Verification: /health, /metrics ....... the live suite: 100 messages → messagesProcessed 100
 *   Docker healthcheck (wget --spider) .... HEAD /health
 *   Producer compression (gzip/snappy) .... KAFKA_PRODUCER_COMPRESSION, read back from the broker's batches
 *   Graceful shutdown (SIGTERM/SIGINT) .... "seed 001 · weir run traffic as a process"
 *
 * Against the real broker, each run on topics and a group of its own.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { Consumer, FetchIsolationLevels } from '@platformatic/kafka'
import { appNames, loadApp } from '../../src/apps/index.ts'
import { trafficApp, trafficEnv } from '../../src/apps/traffic/app.ts'
import { envTable } from '../../src/cli/commands/describe.ts'
import { loadConfig } from '../../src/config/index.ts'
import { systemClock } from '../../src/core/clock.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { readDeadLetter } from '../../src/runtime/dead-letter.ts'
import { type RunningService, serviceEnvDocs, startService } from '../../src/service/service.ts'
import { kafkaTransportFor } from '../../src/service/transport.ts'
import { readAll, totalEnd } from '../integration/helpers/apps.ts'
import { deleteTopics, kafkaBrokers, testKafka, uniqueName } from '../integration/helpers/kafka.ts'
import { eventually, freePort, suiteCleanup, testCleanup } from '../integration/helpers/services.ts'
import { getJson, spawnWeir } from './helpers/weir-process.ts'

const kafka = testKafka()

/** The seed's input example, completed with the two fields its excerpt leaves out (id and time). */
function seedReading(
  overrides: { sensor?: string; timestamp?: string; speed?: unknown; volume?: unknown } = {},
) {
  return {
    sensor_id: overrides.sensor ?? 'METR_LA_001',
    timestamp: overrides.timestamp ?? new Date().toISOString(),
    traffic_data: { speed_mph: overrides.speed ?? 31.6, volume_vehicles_per_hour: overrides.volume ?? 2203 },
    location: { highway: 'I-10', direction: 'E', lanes: 5 },
    weather: { condition: 'cloudy' },
  }
}

async function produce(topic: string, values: ReadonlyArray<{ key: string; value: unknown }>): Promise<void> {
  const sink = kafka.sink({ clientId: 'weir-seed001-producer' })
  await sink.open()
  try {
    for (const v of values) {
      sink.add({
        topic,
        key: Buffer.from(v.key),
        value: Buffer.from(JSON.stringify(v.value)),
        headers: {},
        timestamp: Date.now(),
      })
    }
    await sink.flush()
  } finally {
    await sink.close()
  }
}

/** The compression codec of every record batch in a topic, as the broker stores it (attributes & 7). */
async function batchCodecs(topic: string): Promise<Set<number>> {
  const consumer = new Consumer({
    clientId: 'weir-seed001-codecs',
    bootstrapBrokers: kafkaBrokers(),
    groupId: `weir-seed001-unused-${process.pid}`,
  })
  try {
    const meta = await consumer.metadata({ topics: [topic], forceUpdate: true })
    const t = meta.topics.get(topic)
    assert.ok(t, `topic ${topic}`)
    const codecs = new Set<number>()
    for (const [index, partition] of t.partitions.entries()) {
      const response = await consumer.fetch({
        node: partition.leader,
        topics: [
          {
            topicId: t.id,
            partitions: [
              {
                partition: index,
                fetchOffset: 0n,
                partitionMaxBytes: 4 << 20,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              },
            ],
          },
        ],
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 4 << 20,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      })
      for (const r of response.responses)
        for (const p of r.partitions) for (const batch of p.records ?? []) codecs.add(batch.attributes & 0x07)
    }
    return codecs
  } finally {
    await consumer.close(true)
  }
}

const CODEC = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const

function rejects(env: Record<string, string>, variable: string): void {
  assert.throws(
    () => loadConfig(trafficEnv, env),
    (err: unknown) =>
      err instanceof WeirError &&
      err.code === ErrorCode.CONFIG_INVALID &&
      err.message.includes(`${variable}:`),
  )
}

// --------------------------------------------------------------------------- Environment Variables

describe('seed 001 · Environment Variables (the seed’s docker-compose block)', () => {
  const defaults = loadConfig(trafficEnv, {})
  const documented = (name: string) => trafficApp.env.find((v) => v.name === name)?.default

  it('KAFKA_BROKERS (seed: kafka-broker1:9092; default localhost:9092), comma-separated', () => {
    assert.deepEqual(defaults.KAFKA_BROKERS, ['localhost:9092'])
    assert.deepEqual(loadConfig(trafficEnv, { KAFKA_BROKERS: 'kafka-broker1:9092' }).KAFKA_BROKERS, [
      'kafka-broker1:9092',
    ])
  })
  for (const [name, value] of [
    ['GROUP_ID', 'stream-processor-group'],
    ['CLIENT_ID', 'stream-processor-client'],
    ['INPUT_TOPIC', 'traffic-raw'],
    ['OUTPUT_TOPIC', 'traffic-events'],
  ] as const) {
    it(`${name}=${value} (the default)`, () => {
      assert.equal(defaults[name], value)
      assert.equal(documented(name), value)
    })
  }
  it('HEALTH_PORT=3001 (the default); not a port → refused, naming it', () => {
    assert.equal(defaults.HEALTH_PORT, 3001)
    assert.equal(documented('HEALTH_PORT'), '3001')
    for (const bad of ['health', '70000']) rejects({ HEALTH_PORT: bad }, 'HEALTH_PORT')
  })
  it('NODE_ENV=production: accepted (traffic has no secret with an insecure default to refuse)', async () => {
    const instance = await trafficApp.create({
      env: { NODE_ENV: 'production' },
      logger: silentLogger,
      metrics: createMetrics(),
      clock: systemClock,
    })
    assert.deepEqual(instance.http, { host: '0.0.0.0', port: 3001, portVariable: 'HEALTH_PORT' })
    assert.equal(instance.run.groupId, 'stream-processor-group')
    assert.equal(instance.run.clientId, 'stream-processor-client')
    await instance.close?.()
  })
  it('KAFKA_PRODUCER_COMPRESSION (Weir’s name, every app): none by default, gzip/snappy/lz4/zstd, else refused', async () => {
    for (const name of appNames()) {
      const app = await loadApp(name)
      assert.match(envTable([...app.env, ...serviceEnvDocs]), /KAFKA_PRODUCER_COMPRESSION +none/, name)
    }
    await assert.rejects(
      startService(trafficApp, {
        env: { KAFKA_PRODUCER_COMPRESSION: 'brotli' },
        logger: silentLogger,
        handleSignals: false,
        http: false,
        transport: kafkaTransportFor,
      }),
      /KAFKA_PRODUCER_COMPRESSION: expected one of none, gzip, snappy, lz4, zstd/,
    )
    // Its level (Kafka's compression.gzip.level / .zstd.level): only with a codec that has one.
    for (const [env, message] of [
      [
        { KAFKA_PRODUCER_COMPRESSION_LEVEL: '1' },
        /KAFKA_PRODUCER_COMPRESSION_LEVEL.*no level with compression none/,
      ],
      [
        { KAFKA_PRODUCER_COMPRESSION: 'gzip', KAFKA_PRODUCER_COMPRESSION_LEVEL: '12' },
        /KAFKA_PRODUCER_COMPRESSION_LEVEL.*an integer 1–9 for gzip, got 12/,
      ],
      [{ KAFKA_PRODUCER_COMPRESSION_LEVEL: 'fast' }, /KAFKA_PRODUCER_COMPRESSION_LEVEL/],
    ] as const)
      await assert.rejects(
        startService(trafficApp, {
          env,
          logger: silentLogger,
          handleSignals: false,
          http: false,
          transport: kafkaTransportFor,
        }),
        message,
      )
  })
})

// ------------------------------------------------------------------------------------- live suite

describe('seed 001 · against Kafka: transformation, validation, /health, /metrics, compression', {
  timeout: 120_000,
}, () => {
  const cleanup = suiteCleanup()
  const base = uniqueName('seed001')
  const topics = { input: `${base}-raw`, output: `${base}-events`, dlq: `${base}-dlq` }
  let service: RunningService
  let url: string
  const defects = [
    {
      key: 'no-speed',
      field: 'speed',
      value: { ...seedReading(), traffic_data: { volume_vehicles_per_hour: 10 } },
    },
    { key: 'speed-121', field: 'speed', value: seedReading({ speed: 121 }) },
    { key: 'speed-neg', field: 'speed', value: seedReading({ speed: -1 }) },
    { key: 'volume-10001', field: 'volume', value: seedReading({ volume: 10_001 }) },
    {
      key: 'future',
      field: 'timestamp',
      value: seedReading({ timestamp: new Date(Date.now() + 3_600_000).toISOString() }),
    },
    {
      key: 'old',
      field: 'timestamp',
      value: seedReading({ timestamp: new Date(Date.now() - 366 * 86_400_000).toISOString() }),
    },
  ]

  before(async () => {
    cleanup(() => deleteTopics(Object.values(topics)))
    service = await startService(trafficApp, {
      env: {
        KAFKA_BROKERS: kafkaBrokers().join(','),
        GROUP_ID: `${base}-group`,
        CLIENT_ID: 'stream-processor-client',
        INPUT_TOPIC: topics.input,
        OUTPUT_TOPIC: topics.output,
        DLQ_TOPIC: topics.dlq,
        HEALTH_HOST: '127.0.0.1',
        HEALTH_PORT: '0',
        KAFKA_PRODUCER_COMPRESSION: 'gzip',
      },
      logger: silentLogger,
      handleSignals: false,
      transport: kafkaTransportFor,
    })
    cleanup(() => service.stop())
    url = service.address!.url
    // The seed's verification run: 100 readings (its "morning rush"), then one of each defect.
    const readings = Array.from({ length: 100 }, (_, i) => ({
      key: `ok-${i}`,
      value: seedReading({ sensor: `METR_LA_${String(i % 207).padStart(3, '0')}`, speed: 20 + (i % 50) }),
    }))
    await produce(topics.input, [...readings, ...defects])
    await eventually(async () => (await totalEnd(kafka, [topics.output, topics.dlq])) === 106, 30_000)
  })

  it('Data Transformation: the seed’s nested input example becomes its flat output example', async () => {
    const out = (await readAll(kafka, topics.output)).map(
      (r) => JSON.parse(String(r.value)) as Record<string, unknown>,
    )
    assert.equal(out.length, 100)
    const first = out.find((o) => o.sensor_id === 'METR_LA_001' && o.speed === 21)
    assert.ok(first)
    assert.equal(first.volume, 2203)
    assert.equal(first.highway, 'I-10')
    assert.equal(first.direction, 'E')
    assert.equal(first.lane_count, 5)
    assert.equal(first.weather_conditions, 'cloudy')
    assert.match(String(first.processed_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    assert.equal(first.processor_id, 'stream-processor-client')
    assert.equal(first.validation_status, 'valid')
  })

  it('Triple-layer validation: a missing field, speed outside 0–120, volume over 10,000, a future or year-old timestamp → dead letters saying why', async () => {
    const dead = await readAll(kafka, topics.dlq)
    assert.equal(dead.length, defects.length)
    for (const d of defects) {
      const r = dead.find((x) => x.key?.toString() === d.key)
      assert.ok(r, `${d.key} dead-lettered`)
      const info = readDeadLetter(r.headers)
      assert.equal(info.code, ErrorCode.VALIDATION_FAILED, d.key)
      assert.equal(info.source.topic, topics.input)
      assert.ok(!Number.isNaN(Date.parse(info.time ?? '')), 'when')
      // The field as its path in the reading (traffic_data.speed_mph for "speed").
      const fields = (info.details as Array<{ field: string }>).map((v) => v.field)
      assert.ok(
        fields.some((f) => f.includes(d.field)),
        `${d.key}: ${JSON.stringify(info.details)}`,
      )
      assert.deepEqual(JSON.parse(String(r.value)), d.value, 'the original record, unchanged')
    }
  })

  it('GET /health: {"status":"healthy","messagesProcessed":N,...} with N the messages processed', async () => {
    const { status, body } = await getJson(`${url}/health`)
    assert.equal(status, 200)
    assert.equal(body.status, 'healthy')
    assert.equal(body.messagesProcessed, 106)
    assert.match(String(body.lastMessageTime), /^\d{4}-\d\d-\d\dT/)
    assert.equal(typeof body.uptime_seconds, 'number')
    assert.equal(body.kafka_connected, true)
  })

  it('GET /metrics: {"messagesProcessed":N,"lastMessageTime":ISO,...}', async () => {
    const { body } = await getJson(`${url}/metrics`)
    assert.equal(body.messagesProcessed, 106)
    assert.ok(!Number.isNaN(Date.parse(String(body.lastMessageTime))))
    assert.equal(body.messagesValid, 100)
    assert.equal(body.messagesInvalid, 6)
  })

  it('Docker healthcheck (wget --spider sends HEAD): HEAD /health answers 200', async () => {
    const res = await fetch(`${url}/health`, { method: 'HEAD' })
    assert.equal(res.status, 200)
  })

  it('Producer compression: KAFKA_PRODUCER_COMPRESSION=gzip → every output and dead-letter batch is gzip on the broker', async () => {
    assert.deepEqual(await batchCodecs(topics.output), new Set([CODEC.gzip]))
    assert.deepEqual(await batchCodecs(topics.dlq), new Set([CODEC.gzip]))
  })
})

describe('seed 001 · weir run traffic as a process: graceful shutdown, snappy, LOG_LEVEL', {
  timeout: 90_000,
}, () => {
  /** One `weir run traffic` on topics and a group of its own, stopped by `signal` once it processed 50. */
  async function stopsGracefully(
    signal: 'SIGINT' | 'SIGTERM',
    extra: Record<string, string>,
    cleanup: ReturnType<typeof testCleanup>,
  ) {
    const base = uniqueName(`seed001-${signal.toLowerCase()}`)
    const topics = { input: `${base}-raw`, output: `${base}-events`, dlq: `${base}-dlq` }
    cleanup(() => deleteTopics(Object.values(topics)))
    const port = await freePort()
    const health = `http://127.0.0.1:${port}/health`
    const app = spawnWeir(
      ['run', 'traffic'],
      {
        KAFKA_BROKERS: kafkaBrokers().join(','),
        GROUP_ID: `${base}-group`,
        INPUT_TOPIC: topics.input,
        OUTPUT_TOPIC: topics.output,
        DLQ_TOPIC: topics.dlq,
        HEALTH_HOST: '127.0.0.1',
        HEALTH_PORT: String(port),
        NODE_ENV: 'production',
        ...extra,
      },
      cleanup,
    )
    await eventually(async () => assert.equal((await getJson(health)).body.status, 'healthy'), 30_000)
    await produce(
      topics.input,
      Array.from({ length: 50 }, (_, i) => ({ key: `r-${i}`, value: seedReading({ speed: 10 + i }) })),
    )
    await eventually(async () => assert.equal((await getJson(health)).body.messagesProcessed, 50), 30_000)
    app.child.kill(signal)
    const { code } = await app.exited
    assert.equal(code, 0, `${signal}: ${app.output()}`)
    // Everything processed is written, and committed: the next instance reads nothing again.
    assert.equal((await readAll(kafka, topics.output)).length, 50)
    const admin = kafka.admin()
    try {
      const [committed, ends] = await Promise.all([
        admin.committedOffsets(`${base}-group`, [topics.input]),
        admin.endOffsets([topics.input]),
      ])
      for (const [tp, end] of ends) assert.equal(committed.get(tp) ?? 0, end, `${signal}: ${tp}`)
    } finally {
      await admin.close()
    }
    return { app, topics }
  }

  it('SIGINT and SIGTERM each stop it gracefully: output flushed, offsets committed to the end, exit 0; LOG_LEVEL=ERROR and WARN filter; snappy on the broker', async (t) => {
    const cleanup = testCleanup(t)
    // Two instances at once (each takes seconds to boot), on their own topics.
    const [int, term] = await Promise.all([
      stopsGracefully('SIGINT', { LOG_LEVEL: 'ERROR', KAFKA_PRODUCER_COMPRESSION: 'snappy' }, cleanup),
      stopsGracefully('SIGTERM', { LOG_LEVEL: 'warn' }, cleanup),
    ])
    assert.equal(int.app.output(), '', 'LOG_LEVEL=ERROR: nothing logged on a clean run')
    const levels = new Set(term.app.logs().map((l) => l.level))
    assert.ok(!levels.has('info') && !levels.has('debug'), term.app.output())
    assert.deepEqual(await batchCodecs(int.topics.output), new Set([CODEC.snappy]))
    assert.deepEqual(await batchCodecs(term.topics.output), new Set([CODEC.none]), 'none by default')
  })
})

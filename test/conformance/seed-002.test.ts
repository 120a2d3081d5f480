/**
 * Seed 002 (`/work/shared/seeds/002_…`, "Phase 2 – Stream Processing Pipeline") as a contract: one case
 * per interface item the seed names — env vars with defaults and validation, topics, window sizes, the
 * data-quality rules and thresholds, metric names and labels, Avro (the AvroSchemaManager's plain bodies
 * and the Confluent wire format), and the Parquet archive layout — against the real broker and registry
 * where the item is about running.
 */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parquetMetadata } from 'hyparquet'
import { trafficApp, trafficEnv as trafficEnvSchema } from '../../src/apps/traffic/app.ts'
import type {
  MetrLaRecord,
  TrafficEvent,
  TrafficWindowAggregate,
} from '../../src/apps/traffic/domain/index.ts'
import { loadTrafficRules, trafficQuality } from '../../src/apps/traffic/rules.ts'
import { metrLaReadingSchema, trafficWindowAggregateSchema } from '../../src/apps/traffic/schemas.ts'
import {
  trafficWindowsApp,
  trafficWindowsEnv,
  trafficWindowsPipeline,
} from '../../src/apps/traffic-windows/app.ts'
import { loadConfig } from '../../src/config/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { trafficGenerator } from '../../src/generators/traffic.ts'
import { readDeadLetter } from '../../src/runtime/dead-letter.ts'
import { parseSchema } from '../../src/serdes/avro/schema.ts'
import { avro } from '../../src/serdes/avro/serde.ts'
import { schemaRegistry } from '../../src/serdes/registry/client.ts'
import type { RunningService } from '../../src/service/service.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { readAll, startApp, testId, trafficEnv, waitUntil } from '../integration/helpers/apps.ts'
import { parquetFiles, readArchive, tempDir } from '../integration/helpers/archive.ts'
import { createTopic, deleteTopics, testKafka } from '../integration/helpers/kafka.ts'
import { REGISTRY_API, registrySkip } from '../integration/helpers/registry.ts'
import { suiteCleanup, testCleanup } from '../integration/helpers/services.ts'

const kafka = testKafka()
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0)

function reading(over: Record<string, unknown> = {}, at = NOW - 5_000): MetrLaRecord {
  return {
    sensor_id: 'METR_LA_001',
    timestamp: new Date(at).toISOString(),
    traffic_data: { speed_mph: 55.5, volume_vehicles_per_hour: 1800, occupancy: 12.5 },
    location: {
      highway: 'I-405',
      direction: 'N',
      lanes: 4,
      coordinates: { latitude: 34.05, longitude: -118.25 },
    },
    weather: { condition: 'clear', temperature_f: 68 },
    source: 'METR-LA',
    ...over,
  } as MetrLaRecord
}

function configError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WeirError, String(err))
    assert.equal(err.code, ErrorCode.CONFIG_INVALID)
    for (const p of patterns) assert.match(err.message, p)
    return true
  })
}

describe('seed 002: env vars, defaults and validation', () => {
  it('traffic: seed 001 topics and group settings, seed 002 rules one variable away (DQ_RULES=seed-002), the archive off until ARCHIVE_DIR', () => {
    const c = loadConfig(trafficEnvSchema, {})
    assert.equal(c.INPUT_TOPIC, 'traffic-raw')
    assert.equal(c.OUTPUT_TOPIC, 'traffic-events')
    assert.equal(c.INPUT_PARTITIONS, 5)
    assert.equal(c.AUTO_OFFSET_RESET, 'earliest', 'subtask 2.1: reads from the earliest offset')
    assert.equal(c.DQ_RULES, 'seed-001', 'seed 001 readings carry no coordinates: seed 002 rules are opt-in')
    assert.equal(loadConfig(trafficEnvSchema, { DQ_RULES: 'seed-002' }).DQ_RULES, 'seed-002')
    assert.equal(c.AVRO_WIRE_FORMAT, 'confluent')
    assert.equal(c.ARCHIVE_DIR, undefined)
    assert.equal(c.ARCHIVE_CODEC, 'zstd')
    assert.equal(c.ARCHIVE_ROLL_ROWS, 1_000_000)
    assert.equal(c.ARCHIVE_ROLL_BYTES, 64 * 1024 * 1024)
    assert.equal(c.ARCHIVE_ROLL_INTERVAL, 60_000)
    assert.equal(c.METRICS_COMPAT, undefined)
  })

  it('traffic-windows: 5-minute windows from traffic-events to traffic-aggregates, or the seed layout with one variable', () => {
    const c = loadConfig(trafficWindowsEnv, {})
    assert.equal(c.WINDOW_SIZE, 5 * 60 * 1000, 'windowDuration = 5 * 60 * 1000')
    assert.equal(c.INPUT_TOPIC, 'traffic-events')
    assert.equal(c.OUTPUT_TOPIC, 'traffic-aggregates')
    const seed = loadConfig(trafficWindowsEnv, { OUTPUT_TOPIC: 'traffic-events' })
    assert.equal(seed.OUTPUT_TOPIC, seed.INPUT_TOPIC)
  })

  it('bad values are refused at start, naming the variable and what was expected', () => {
    configError(() => loadConfig(trafficEnvSchema, { DQ_RULES: 'strict' }), /DQ_RULES/, /seed-002/)
    configError(() => loadConfig(trafficEnvSchema, { ARCHIVE_CODEC: 'gzip' }), /ARCHIVE_CODEC/, /snappy/)
    configError(
      () => loadConfig(trafficEnvSchema, { ARCHIVE_ROLL_BYTES: 'lots' }),
      /ARCHIVE_ROLL_BYTES/,
      /64MB/,
    )
    configError(
      () => loadConfig(trafficEnvSchema, { ARCHIVE_ROLL_INTERVAL: 'soon' }),
      /ARCHIVE_ROLL_INTERVAL/,
      /duration/,
    )
    configError(
      () => loadConfig(trafficEnvSchema, { METRICS_COMPAT: 'prom-client' }),
      /METRICS_COMPAT/,
      /seed-002/,
    )
    configError(() => loadConfig(trafficEnvSchema, { AVRO_WIRE_FORMAT: 'raw' }), /AVRO_WIRE_FORMAT/, /plain/)
    configError(() => loadConfig(trafficEnvSchema, { VALUE_FORMAT: 'avro' }), /SCHEMA_REGISTRY_URL/)
    configError(() => loadConfig(trafficWindowsEnv, { WINDOW_SIZE: '5 minutes' }), /WINDOW_SIZE/)
    configError(() => loadConfig(trafficWindowsEnv, { VALUE_FORMAT: 'avro' }), /SCHEMA_REGISTRY_URL/)
  })

  it('DQ_RULES_FILE (JSON or YAML) replaces the preset; a bad rule is refused naming the file, rule and field', async (t) => {
    const dir = await tempDir(testCleanup(t))
    const good = join(dir, 'rules.yaml')
    await writeFile(
      good,
      'name: strict\nrules:\n  - { id: speed, type: range, field: traffic_data.speed_mph, min: 0, max: 80 }\n',
    )
    const rules = loadTrafficRules({ DQ_RULES: 'seed-002', DQ_RULES_FILE: good })
    const q = trafficQuality(rules, { now: () => NOW })
    assert.deepEqual(q.ruleIds, ['speed'])
    assert.equal(
      q.check(reading({ traffic_data: { speed_mph: 90, volume_vehicles_per_hour: 1 } }))[0]?.rule,
      'speed',
    )
    const bad = join(dir, 'bad.json')
    await writeFile(
      bad,
      JSON.stringify({ rules: [{ id: 'speed', type: 'range', field: 'speed', min: 10, max: 5 }] }),
    )
    configError(
      () => loadTrafficRules({ DQ_RULES: 'seed-002', DQ_RULES_FILE: bad }),
      /DQ_RULES_FILE/,
      /bad\.json/,
      /rules\[0\] \("speed"\) max/,
    )
    configError(
      () => loadTrafficRules({ DQ_RULES: 'seed-002', DQ_RULES_FILE: join(dir, 'missing.json') }),
      /DQ_RULES_FILE/,
      /cannot read/,
    )
  })
})

describe('seed 002 §2.4: data-quality rules and thresholds (DataQualityValidator)', () => {
  const q = trafficQuality(loadTrafficRules({ DQ_RULES: 'seed-002' }), { now: () => NOW })
  const rulesOf = (r: unknown) => q.check(r).map((v) => v.rule)

  it('a valid reading passes every rule', () => {
    assert.deepEqual(q.check(reading()), [])
  })

  it('required fields: sensor_id, timestamp, speed_mph, coordinates', () => {
    for (const [path, broken] of [
      ['sensor_id', reading({ sensor_id: undefined })],
      ['timestamp', reading({ timestamp: undefined })],
      ['traffic_data.speed_mph', reading({ traffic_data: { volume_vehicles_per_hour: 1 } })],
      ['location.coordinates', reading({ location: { highway: 'I-5', direction: 'S', lanes: 3 } })],
    ] as const) {
      const v = q.check(broken).find((x) => x.rule === 'required')
      assert.equal(v?.field, path, `missing ${path}`)
    }
  })

  it('speed 0–120 mph, volume 0–10,000 veh/h, occupancy 0–100 %', () => {
    const td = (o: Record<string, number>) =>
      reading({ traffic_data: { speed_mph: 50, volume_vehicles_per_hour: 100, occupancy: 5, ...o } })
    assert.deepEqual(rulesOf(td({ speed_mph: 120 })), [])
    assert.deepEqual(rulesOf(td({ speed_mph: 120.1 })), ['speed-range'])
    assert.deepEqual(rulesOf(td({ speed_mph: -0.1 })), ['speed-range'])
    assert.deepEqual(rulesOf(td({ volume_vehicles_per_hour: 10_001 })), ['volume-range'])
    assert.deepEqual(rulesOf(td({ occupancy: 100.5 })), ['occupancy-range'])
  })

  it('coordinates inside LA: latitude 33.7–34.5, longitude −119 to −117', () => {
    const at = (latitude: number, longitude: number) =>
      reading({
        location: { highway: 'I-5', direction: 'S', lanes: 3, coordinates: { latitude, longitude } },
      })
    assert.deepEqual(rulesOf(at(33.7, -119)), [])
    assert.deepEqual(rulesOf(at(34.5, -117)), [])
    assert.deepEqual(rulesOf(at(33.69, -118)), ['la-bounds'])
    assert.deepEqual(rulesOf(at(34, -116.9)), ['la-bounds'])
  })

  it('known sensors only (METR_LA_000 … METR_LA_206)', () => {
    assert.deepEqual(rulesOf(reading({ sensor_id: 'METR_LA_206' })), [])
    assert.deepEqual(rulesOf(reading({ sensor_id: 'METR_LA_207' })), ['known-sensor'])
  })

  it('message age under 1 hour, and not in the future', () => {
    assert.deepEqual(rulesOf(reading({}, NOW - 59 * 60_000)), [])
    assert.deepEqual(rulesOf(reading({}, NOW - 61 * 60_000)), ['fresh'])
    assert.deepEqual(rulesOf(reading({}, NOW + 10 * 60_000)), ['not-in-future'])
  })

  it('duplicates (same sensor_id + timestamp) go to the dead letters with the rule; memory is bounded (10,000 keys in all, as the seed keeps, split over the input partitions; 1 h)', async () => {
    const dup = q.duplicates[0]!
    assert.deepEqual(
      [dup.id, dup.keys, dup.withinMs, dup.maxKeys],
      ['duplicate', ['sensor_id', 'timestamp'], 3_600_000, 10_000],
    )
    const { trafficPipeline } = await import('../../src/apps/traffic/app.ts')
    const p = trafficPipeline(
      {
        INPUT_TOPIC: 'traffic-raw',
        OUTPUT_TOPIC: 'traffic-events',
        CLIENT_ID: 'c',
        INPUT_PARTITIONS: 1,
        GROUP_ID: 'g',
      },
      () => NOW,
    )
    const d = new TestDriver(p, { startTime: NOW })
    const input = d.input<MetrLaRecord>('traffic-raw')
    input.pipe(reading(), { key: 'METR_LA_001' })
    input.pipe(reading(), { key: 'METR_LA_001' })
    input.pipe(reading({}, NOW - 4_000), { key: 'METR_LA_001' })
    await d.settle()
    assert.equal(d.output('traffic-events').size, 2)
    const dead = d.deadLetters()
    assert.equal(dead.length, 1)
    assert.equal(dead[0]?.info.code, ErrorCode.VALIDATION_FAILED)
    assert.equal((dead[0]?.info.details as Array<{ rule: string }>)[0]?.rule, 'duplicate')
  })

  it('five input partitions keep 2,000 keys each: the 2,001st forgets the least recently seen', async () => {
    const { trafficPipeline } = await import('../../src/apps/traffic/app.ts')
    const config = { INPUT_TOPIC: 'traffic-raw', OUTPUT_TOPIC: 'traffic-events', CLIENT_ID: 'c', GROUP_ID: 'g' }
    const p = trafficPipeline({ ...config, INPUT_PARTITIONS: 5 }, () => NOW)
    const d = new TestDriver(p, { startTime: NOW, partitions: 5 })
    const input = d.input<MetrLaRecord>('traffic-raw')
    const at = (i: number) => reading({}, NOW - i * 1000)
    for (let i = 0; i <= 2000; i++) input.pipe(at(i), { key: 'METR_LA_001', partition: 2 })
    input.pipe(at(2000), { key: 'METR_LA_001', partition: 2 }) // still remembered: a duplicate
    input.pipe(at(0), { key: 'METR_LA_001', partition: 2 }) // the first, forgotten: passes again
    await d.settle()
    assert.equal(d.output('traffic-events').size, 2002)
    assert.equal(d.deadLetters().length, 1)
  })
})

describe('seed 002 §2.2: 5-minute tumbling windows', () => {
  const config = {
    GROUP_ID: 'w',
    INPUT_TOPIC: 'traffic-events',
    OUTPUT_TOPIC: 'traffic-aggregates',
    INPUT_PARTITIONS: 1,
    WINDOW_SIZE: 300_000,
    WINDOW_GRACE: 60_000,
  }
  const event = (sensor: string, at: number, speed: number): TrafficEvent =>
    ({
      sensor_id: sensor,
      timestamp: new Date(at).toISOString(),
      speed,
      volume: 1000,
      occupancy: 10,
      highway: 'I-5',
      direction: 'N',
      lane_count: 3,
    }) as TrafficEvent

  it('windows start at multiples of 5 minutes and carry the seed fields', async () => {
    const T0 = Date.UTC(2026, 0, 1, 8, 0, 0)
    const d = new TestDriver(trafficWindowsPipeline(config), { startTime: T0 })
    const input = d.input<TrafficEvent>('traffic-events')
    input.pipe(event('A', T0 + 299_999, 40), { key: 'A' })
    input.pipe(event('A', T0 + 300_000, 60), { key: 'A' })
    await d.advance(700_000)
    const out = d.output<TrafficWindowAggregate>('traffic-aggregates').values()
    assert.deepEqual(
      out.map((w) => [w.window_start - T0, w.window_end - T0, w.message_count]),
      [
        [0, 300_000, 1],
        [300_000, 600_000, 1],
      ],
    )
    assert.deepEqual(Object.keys(out[0]!).sort(), [
      'avg_occupancy',
      'avg_speed',
      'avg_volume',
      'message_count',
      'sensor_id',
      'speed_variance',
      'window_end',
      'window_start',
    ])
  })

  it("the seed's layout (results on traffic-events): window results read back are not taken for readings", async () => {
    const T0 = Date.UTC(2026, 0, 1, 8, 0, 0)
    const d = new TestDriver(trafficWindowsPipeline({ ...config, OUTPUT_TOPIC: 'traffic-events' }), {
      startTime: T0,
    })
    const input = d.input<unknown>('traffic-events')
    input.pipe(event('A', T0 + 1000, 40), { key: 'A' })
    input.pipe(
      {
        sensor_id: 'A',
        window_start: T0 - 300_000,
        window_end: T0,
        avg_speed: 1,
        avg_volume: 1,
        avg_occupancy: null,
        speed_variance: 0,
        message_count: 3,
      },
      { key: 'A' },
    )
    await d.advance(400_000)
    assert.deepEqual(d.deadLetters(), [])
    // Only the reading counted: the piped window result neither opened a window nor became a dead letter.
    const results = d.output<TrafficWindowAggregate>('traffic-events').values()
    assert.deepEqual(
      results.map((w) => [w.window_start - T0, w.message_count]),
      [[0, 1]],
    )
  })
})

describe('seed 002 against Kafka: metrics, dead letters, archive layout', { timeout: 120_000 }, () => {
  const cleanup = suiteCleanup()
  let archive: string
  let env: ReturnType<typeof trafficEnv>
  let windowsEnv: Record<string, string>
  let traffic: RunningService
  let windows: RunningService
  const sent = 3000

  before(async () => {
    archive = await tempDir(cleanup)
    env = trafficEnv('seed002', {
      DQ_RULES: 'seed-002',
      ARCHIVE_DIR: archive,
      ARCHIVE_ROLL_INTERVAL: '200ms',
      METRICS_COMPAT: 'seed-002',
    })
    windowsEnv = {
      ...trafficEnv('seed002-windows'),
      INPUT_TOPIC: env.OUTPUT_TOPIC,
      WINDOW_SIZE: '1s',
      WINDOW_GRACE: '0',
      ARCHIVE_DIR: archive,
      ARCHIVE_ROLL_INTERVAL: '200ms',
      METRICS_COMPAT: 'seed-002',
    }
    cleanup(() =>
      deleteTopics([
        env.INPUT_TOPIC,
        env.OUTPUT_TOPIC,
        env.DLQ_TOPIC,
        windowsEnv.OUTPUT_TOPIC!,
        windowsEnv.DLQ_TOPIC!,
        `${env.GROUP_ID}-dq-duplicate-changelog`,
        `${windowsEnv.GROUP_ID}-traffic-5m-changelog`,
      ]),
    )
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    traffic = await startApp(trafficApp, env)
    cleanup(() => traffic.stop())
    windows = await startApp(trafficWindowsApp, windowsEnv)
    cleanup(() => windows.stop())
    const sink = kafka.sink({ clientId: 'seed002-producer' })
    await sink.open()
    const g = trafficApp.generator!({ seed: 4, invalidShare: 0 })
    const add = (id: string, value: unknown, key: string) =>
      sink.add({
        topic: env.INPUT_TOPIC,
        key: Buffer.from(key),
        value: Buffer.from(JSON.stringify(value)),
        headers: { 'test-id': Buffer.from(id) },
      })
    let first: MetrLaRecord | undefined
    for (let i = 0; i < sent; i++) {
      const r = g.next()
      first ??= r.value as MetrLaRecord
      add(String(i), r.value, r.key!)
    }
    const now = Date.now() - 1000
    add('duplicate', first, first!.sensor_id)
    add(
      'outside-la',
      reading(
        {
          location: {
            highway: 'I-5',
            direction: 'S',
            lanes: 3,
            coordinates: { latitude: 40.7, longitude: -74 },
          },
        },
        now,
      ),
      'METR_LA_001',
    )
    await sink.flush()
    await sink.close()
    await waitUntil(
      'all processed',
      async () => traffic.running.task.metrics.consumed.total() >= sent + 2,
      60_000,
    )
    await waitUntil(
      'window results archived',
      async () => (await parquetFiles(join(archive, 'traffic-data/processed/aggregates'))).length > 0,
      30_000,
    )
  })
  after(() => {})

  it('dead letters name every violated rule: a repeat as "duplicate", a reading outside LA as "la-bounds"', async () => {
    await waitUntil('dead letters', async () => (await readAll(kafka, env.DLQ_TOPIC)).length >= 2, 30_000)
    const dead = new Map(
      (await readAll(kafka, env.DLQ_TOPIC)).map((r) => [testId(r), readDeadLetter(r.headers)]),
    )
    const violations = (id: string) => dead.get(id)?.details as Array<{ rule: string; field: string }>
    assert.deepEqual(
      violations('duplicate').map((v) => v.rule),
      ['duplicate'],
    )
    assert.deepEqual(
      violations('outside-la').map((v) => `${v.rule} ${v.field}`),
      ['la-bounds location.coordinates.latitude', 'la-bounds location.coordinates.longitude'],
    )
    assert.equal(dead.get('outside-la')?.source.topic, env.INPUT_TOPIC)
  })

  it('METRICS_COMPAT=seed-002: the seed prom-client names, types, labels and latency buckets', async () => {
    const text = await (await fetch(`${traffic.address!.url}/metrics/prometheus`)).text()
    assert.match(text, /^# TYPE stream_processor_messages_processed_total counter$/m)
    assert.match(
      text,
      new RegExp(
        `^stream_processor_messages_processed_total\\{status="success",topic="${env.INPUT_TOPIC}"\\} \\d+$`,
        'm',
      ),
    )
    assert.match(
      text,
      new RegExp(
        `^stream_processor_messages_processed_total\\{status="error",topic="${env.INPUT_TOPIC}"\\} 2$`,
        'm',
      ),
    )
    assert.match(text, /^# TYPE stream_processor_latency_seconds histogram$/m)
    const les = [...text.matchAll(/^stream_processor_latency_seconds_bucket\{le="([^"]+)"\}/gm)].map(
      (m) => m[1],
    )
    assert.deepEqual(les, ['0.001', '0.01', '0.1', '0.5', '1', '5', '+Inf'])
    await waitUntil(
      'lag refreshed',
      async () =>
        /^stream_processor_consumer_lag\{partition="4"\} \d+$/m.test(
          await (await fetch(`${traffic.address!.url}/metrics/prometheus`)).text(),
        ),
      15_000,
    )
    assert.match(text, /^# TYPE stream_processor_consumer_lag gauge$/m)
    assert.match(text, /^stream_processor_errors_total\{type="VALIDATION_FAILED"\} 2$/m)
    assert.match(text, /^# TYPE stream_processor_throughput_rps gauge$/m)
    assert.match(text, /^stream_processor_throughput_rps [\d.]+$/m)
    // Per-rule counters, Weir's own names (kept next to the seed's).
    const json = (await (await fetch(`${traffic.address!.url}/metrics`)).json()) as {
      data_quality: { rules: Record<string, { checked: number; passed: number; failed: number }> }
    }
    assert.deepEqual(json.data_quality.rules['la-bounds'], { checked: sent + 2, passed: sent + 1, failed: 1 })
    assert.equal(json.data_quality.rules.duplicate?.failed, 1)
    assert.match(text, /^weir_dq_rule_failed_total\{rule="la-bounds"\} 1$/m)
    assert.match(text, /^weir_dq_rule_failed_total\{rule="duplicate"\} 1$/m)
    assert.match(text, new RegExp(`^weir_dq_rule_passes_total\\{rule="speed-range"\\} ${sent + 2}$`, 'm'))
  })

  it('archive: traffic-data/raw and traffic-data/processed/aggregates by year/month/day, typed columns as the seed schema', async () => {
    const files = await parquetFiles(archive)
    const raw = files.filter((f) => f.startsWith('traffic-data/raw/'))
    const agg = files.filter((f) => f.startsWith('traffic-data/processed/aggregates/'))
    assert.ok(raw.length > 0 && agg.length > 0, files.join('\n'))
    for (const f of files)
      assert.match(
        f,
        /^traffic-data\/(raw|processed\/aggregates)\/year=\d{4}\/month=\d{2}\/day=\d{2}\/[^/]+\.parquet$/,
      )
    const buf = await readFile(join(archive, raw[0]!))
    const meta = parquetMetadata(
      buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
    )
    const types = Object.fromEntries(
      meta.schema.slice(1).map((s) => [s.name, [s.type, s.converted_type].filter(Boolean).join('/')]),
    )
    assert.deepEqual(
      {
        sensor_id: types.sensor_id,
        timestamp: types.timestamp,
        speed_mph: types.speed_mph,
        volume_vph: types.volume_vph,
        occupancy_percent: types.occupancy_percent,
        latitude: types.latitude,
        longitude: types.longitude,
      },
      {
        sensor_id: 'BYTE_ARRAY/UTF8',
        timestamp: 'INT64/TIMESTAMP_MILLIS',
        speed_mph: 'DOUBLE',
        volume_vph: 'INT32',
        occupancy_percent: 'DOUBLE',
        latitude: 'DOUBLE',
        longitude: 'DOUBLE',
      },
    )
    const aggRows = (await readArchive(join(archive, 'traffic-data/processed/aggregates'))).map((r) => r.row)
    assert.ok(
      aggRows.every(
        (r) =>
          r.window_start instanceof Date &&
          typeof r.avg_speed === 'number' &&
          typeof r.message_count === 'number',
      ),
    )
  })

  it('duplicate detection is durable: after a restart the same reading is still a repeat', async () => {
    await traffic.stop()
    traffic = await startApp(trafficApp, env)
    const before = (await readAll(kafka, env.DLQ_TOPIC)).length
    const sink = kafka.sink({ clientId: 'seed002-producer-2' })
    await sink.open()
    const first = (await readAll(kafka, env.INPUT_TOPIC)).find((r) => testId(r) === '0')!
    sink.add({
      topic: env.INPUT_TOPIC,
      key: first.key,
      value: first.value,
      headers: { 'test-id': Buffer.from('duplicate-after-restart') },
    })
    await sink.flush()
    await sink.close()
    await waitUntil(
      'the repeat dead-lettered',
      async () => (await readAll(kafka, env.DLQ_TOPIC)).length > before,
      30_000,
    )
    const dead = (await readAll(kafka, env.DLQ_TOPIC)).find((r) => testId(r) === 'duplicate-after-restart')!
    assert.equal((readDeadLetter(dead.headers).details as Array<{ rule: string }>)[0]?.rule, 'duplicate')
  })
})

const noRegistry = await registrySkip()

describe('seed 002 §2.3: Avro, plain bodies (AvroSchemaManager) and the Confluent wire format', {
  skip: noRegistry,
  timeout: 120_000,
}, () => {
  it('AVRO_WIRE_FORMAT=plain reads bodies written with the latest schema of <topic>-value; neither → a dead letter saying so', async (t) => {
    const cleanup = testCleanup(t)
    const env = trafficEnv('seed002-plain', {
      VALUE_FORMAT: 'avro',
      AVRO_WIRE_FORMAT: 'plain',
      OUTPUT_VALUE_FORMAT: 'json',
      SCHEMA_REGISTRY_URL: REGISTRY_API,
    })
    cleanup(() =>
      deleteTopics([
        env.INPUT_TOPIC,
        env.OUTPUT_TOPIC,
        env.DLQ_TOPIC,
        `${env.GROUP_ID}-dq-duplicate-changelog`,
      ]),
    )
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 1 })
    const registry = schemaRegistry({ url: REGISTRY_API })
    const id = await registry.register(`${env.INPUT_TOPIC}-value`, metrLaReadingSchema)
    const type = parseSchema(metrLaReadingSchema).type
    const now = Date.now() - 1000
    const value = (at: number) => ({
      ...reading({}, at),
      location: {
        highway: 'I-405',
        direction: 'N',
        lanes: 4,
        postmile: null,
        coordinates: { latitude: 34.05, longitude: -118.25 },
      },
      weather: { condition: 'clear', temperature_f: 68, visibility_miles: null },
    })
    const wire = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), type.toBuffer(value(now - 1))])
    wire.writeInt32BE(id, 1)
    const sink = kafka.sink({ clientId: 'seed002-plain' })
    await sink.open()
    const add = (testIdValue: string, body: Buffer) =>
      sink.add({
        topic: env.INPUT_TOPIC,
        key: null,
        value: body,
        headers: { 'test-id': Buffer.from(testIdValue) },
      })
    add('plain', type.toBuffer(value(now)))
    add('garbage', Buffer.from('not avro at all, not json either'))
    add('wire', wire)
    await sink.flush()
    await sink.close()
    const service = await startApp(trafficApp, env)
    cleanup(() => service.stop())
    await waitUntil(
      'three records handled',
      async () =>
        (await readAll(kafka, env.OUTPUT_TOPIC)).length + (await readAll(kafka, env.DLQ_TOPIC)).length >= 3,
      60_000,
    )
    const out = await readAll(kafka, env.OUTPUT_TOPIC)
    assert.deepEqual(out.map(testId), ['plain'])
    assert.equal(JSON.parse(out[0]!.value!.toString()).speed, 55.5)
    const dead = new Map(
      (await readAll(kafka, env.DLQ_TOPIC)).map((r) => [testId(r), readDeadLetter(r.headers).message ?? '']),
    )
    assert.match(dead.get('garbage')!, /neither plain Avro of the latest schema of .*-value/)
    assert.match(dead.get('wire')!, /Confluent wire format .*AVRO_WIRE_FORMAT=confluent/)
  })

  it('all Avro: traffic (Avro) → traffic-windows (Avro) → Parquet archive of the window results', async (t) => {
    const cleanup = testCleanup(t)
    const archive = await tempDir(cleanup)
    const avroEnv = { VALUE_FORMAT: 'avro', SCHEMA_REGISTRY_URL: REGISTRY_API }
    const env = trafficEnv('seed002-chain', avroEnv)
    const wEnv = {
      ...trafficEnv('seed002-chain-w', avroEnv),
      INPUT_TOPIC: env.OUTPUT_TOPIC,
      WINDOW_SIZE: '1s',
      WINDOW_GRACE: '0',
      ARCHIVE_DIR: archive,
      ARCHIVE_ROLL_INTERVAL: '200ms',
    }
    cleanup(() =>
      deleteTopics([
        env.INPUT_TOPIC,
        env.OUTPUT_TOPIC,
        env.DLQ_TOPIC,
        wEnv.OUTPUT_TOPIC,
        wEnv.DLQ_TOPIC,
        `${env.GROUP_ID}-dq-duplicate-changelog`,
        `${wEnv.GROUP_ID}-traffic-5m-changelog`,
      ]),
    )
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    const registry = schemaRegistry({ url: REGISTRY_API })
    const readings = avro<MetrLaRecord>({ registry, schema: metrLaReadingSchema })
    const g = trafficGenerator({ seed: 13, invalidShare: 0 })
    const sink = kafka.sink({ clientId: 'seed002-chain' })
    await sink.open()
    const N = 1000
    for (let i = 0; i < N; i++) {
      const r = g.next()
      const value = await readings.serialize(r.value as MetrLaRecord, {
        topic: env.INPUT_TOPIC,
        isKey: false,
      })
      sink.add({
        topic: env.INPUT_TOPIC,
        key: Buffer.from(r.key),
        value,
        headers: { 'test-id': Buffer.from(String(i)) },
      })
    }
    await sink.flush()
    await sink.close()
    const traffic = await startApp(trafficApp, env)
    cleanup(() => traffic.stop())
    const windows = await startApp(trafficWindowsApp, wEnv)
    cleanup(() => windows.stop())
    const archived = async () =>
      (await readArchive(join(archive, 'traffic-data/processed/aggregates'))).reduce(
        (n, r) => n + Number(r.row.message_count),
        0,
      )
    // Every reading is in a window result (archived) or, arriving after its 1 s window closed, a late dead letter.
    const late = async () => (await readAll(kafka, wEnv.DLQ_TOPIC)).length
    await waitUntil(
      'every reading archived in a window or late',
      async () => (await archived()) + (await late()) >= N,
      60_000,
      500,
    )
    assert.equal((await archived()) + (await late()), N)
    assert.ok((await archived()) > 0)
    const events = await readAll(kafka, env.OUTPUT_TOPIC)
    const results = await readAll(kafka, wEnv.OUTPUT_TOPIC)
    assert.ok(
      events.length === N && events.every((r) => r.value![0] === 0),
      'traffic-events is Avro (wire format)',
    )
    assert.ok(
      results.length > 0 && results.every((r) => r.value![0] === 0),
      'window results are Avro (wire format)',
    )
    const aggregates = avro<{ message_count: number }>({ registry, schema: trafficWindowAggregateSchema })
    let emitted = 0
    for (const r of results) {
      const w = await aggregates.deserialize(r.value, { topic: r.topic, isKey: false })
      emitted += w?.message_count ?? 0
    }
    assert.equal(await archived(), emitted, 'the archive holds exactly the window results on the topic')
  })

  it('the default (Confluent wire format) points a plain body at AVRO_WIRE_FORMAT=plain', async (t) => {
    const cleanup = testCleanup(t)
    const env = trafficEnv('seed002-wire', {
      VALUE_FORMAT: 'avro',
      OUTPUT_VALUE_FORMAT: 'json',
      SCHEMA_REGISTRY_URL: REGISTRY_API,
    })
    cleanup(() =>
      deleteTopics([
        env.INPUT_TOPIC,
        env.OUTPUT_TOPIC,
        env.DLQ_TOPIC,
        `${env.GROUP_ID}-dq-duplicate-changelog`,
      ]),
    )
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 1 })
    const type = parseSchema(metrLaReadingSchema).type
    const sink = kafka.sink({ clientId: 'seed002-wire' })
    await sink.open()
    sink.add({
      topic: env.INPUT_TOPIC,
      key: null,
      value: type.toBuffer({
        ...reading(),
        location: { highway: 'I-5', direction: 'N', lanes: 2, postmile: null, coordinates: null },
        weather: { condition: 'fog', temperature_f: null, visibility_miles: null },
      }),
      headers: { 'test-id': Buffer.from('plain') },
    })
    await sink.flush()
    await sink.close()
    const service = await startApp(trafficApp, env)
    cleanup(() => service.stop())
    await waitUntil('the dead letter', async () => (await readAll(kafka, env.DLQ_TOPIC)).length >= 1, 60_000)
    const [dead] = await readAll(kafka, env.DLQ_TOPIC)
    assert.match(readDeadLetter(dead!.headers).message ?? '', /AVRO_WIRE_FORMAT=plain/)
  })
})

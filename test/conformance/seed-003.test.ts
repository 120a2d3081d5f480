/**
 * Seed 003 (StreamPulse's Flink processor), item by item: every interface the seed names, checked
 * against Weir's `streampulse` app so the two can be ticked off side by side. Windows run on the
 * broker-free TestDriver; tables, alerts and console lines against the real PostgreSQL; endpoints and
 * start-up lines against a real run on Kafka and PostgreSQL.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { before, describe, it } from 'node:test'
import { streamPulseApp, streamPulseSink } from '../../src/apps/streampulse/app.ts'
import { eventFormat } from '../../src/apps/streampulse/avro.ts'
import { DEFAULT_SCHEMA_PATH, loadStreamPulseConfig } from '../../src/apps/streampulse/config.ts'
import { type DownloadEvent, type PartRow, partRow } from '../../src/apps/streampulse/domain.ts'
import { StreamPulseMetrics } from '../../src/apps/streampulse/metrics.ts'
import { streamPulseChangelogTopics, streamPulsePipeline } from '../../src/apps/streampulse/pipeline.ts'
import type { Sink } from '../../src/connectors/contract.ts'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { VirtualClock } from '../../src/core/clock.ts'
import { ErrorCode } from '../../src/core/errors.ts'
import { createLogger, silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { type RunningService, startService } from '../../src/service/service.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { CLI } from '../integration/helpers/apps.ts'
import { createTopic, deleteTopics, testKafka } from '../integration/helpers/kafka.ts'
import { suiteCleanup, testCleanup } from '../integration/helpers/services.ts'
import {
  dbQuery,
  events,
  produceEvents,
  streamPulseDb,
  streamPulseEnv,
} from '../integration/helpers/streampulse.ts'

const config = (env: Record<string, string> = {}) => loadStreamPulseConfig(env)
const rejects = (env: Record<string, string>, variable: string) =>
  assert.throws(
    () => config(env),
    (e: Error & { code?: string }) => e.code === ErrorCode.CONFIG_INVALID && e.message.includes(variable),
    variable,
  )

describe('seed 003 § Configuration (.env)', () => {
  it('KAFKA_BOOTSTRAP_SERVERS: default localhost:9092, comma-separated list', () => {
    assert.deepEqual(config().KAFKA_BOOTSTRAP_SERVERS, ['localhost:9092'])
    assert.deepEqual(
      config({ KAFKA_BOOTSTRAP_SERVERS: 'a.upstash.io:9092,b:9092' }).KAFKA_BOOTSTRAP_SERVERS,
      ['a.upstash.io:9092', 'b:9092'],
    )
  })
  it('KAFKA_USERNAME / KAFKA_PASSWORD: set → SASL over TLS with SCRAM-SHA-256 (Upstash); unset → plaintext, no SASL', () => {
    const hosted = config({ KAFKA_USERNAME: 'u', KAFKA_PASSWORD: 'p' }).kafka
    assert.deepEqual(hosted.sasl, { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' })
    assert.equal(hosted.tls, true)
    assert.equal(config().kafka.sasl, undefined)
    assert.equal(config().kafka.tls, false)
    rejects({ KAFKA_USERNAME: 'u' }, 'KAFKA_PASSWORD')
  })
  it('KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and KAFKA_SECURITY_PROTOCOL are validated', () => {
    assert.equal(
      config({
        KAFKA_USERNAME: 'u',
        KAFKA_PASSWORD: 'p',
        KAFKA_SASL_MECHANISM: 'PLAIN',
        KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      }).kafka.tls,
      false,
    )
    rejects({ KAFKA_SASL_MECHANISM: 'GSSAPI' }, 'KAFKA_SASL_MECHANISM')
    rejects({ KAFKA_SECURITY_PROTOCOL: 'TLS' }, 'KAFKA_SECURITY_PROTOCOL')
  })
  it('secrets also come from <VAR>_FILE and are never printed', async (t) => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises')
    const dir = await mkdtemp('/tmp/sp-secret-')
    testCleanup(t)(() => rm(dir, { recursive: true, force: true }))
    await writeFile(`${dir}/pw`, 's3cret-pg\n')
    const c = config({ PG_PASSWORD_FILE: `${dir}/pw`, KAFKA_USERNAME: 'u', KAFKA_PASSWORD: 's3cret-kafka' })
    assert.equal(c.PG_PASSWORD?.reveal(), 's3cret-pg')
    assert.ok(!JSON.stringify(c.PG_PASSWORD).includes('s3cret') && !String(c.PG_PASSWORD).includes('s3cret'))
  })
  it('PG_HOST, PG_PORT, PG_DATABASE, PG_USER: defaults localhost, 5432, streampulse, postgres; a bad port names PG_PORT', () => {
    const c = config()
    assert.deepEqual(
      [c.PG_HOST, c.PG_PORT, c.PG_DATABASE, c.PG_USER],
      ['localhost', 5432, 'streampulse', 'postgres'],
    )
    rejects({ PG_PORT: '70000' }, 'PG_PORT')
    rejects({ PG_PORT: 'five' }, 'PG_PORT')
  })
  it('PG_SSLMODE: default require ("Ensure sslmode=require"): encrypted; verify-full checks the certificate; disable; anything else is refused', () => {
    assert.deepEqual(config().pgSsl, { rejectUnauthorized: false, servername: 'localhost' })
    assert.deepEqual(config({ PG_SSLMODE: 'verify-full', PG_HOST: 'db.neon.tech' }).pgSsl, {
      rejectUnauthorized: true,
      servername: 'db.neon.tech',
    })
    assert.equal(config({ PG_SSLMODE: 'disable' }).pgSsl, false)
    rejects({ PG_SSLMODE: 'prefer' }, 'PG_SSLMODE')
  })
  it('topic content-downloads (KAFKA_TOPIC), parallelism 1 (PARALLELISM), validated', () => {
    assert.equal(config().KAFKA_TOPIC, 'content-downloads')
    assert.equal(config().PARALLELISM, 1)
    rejects({ PARALLELISM: '0' }, 'PARALLELISM')
  })
  it('window 60 seconds tumbling (WINDOW_SIZE), late events within 5 minutes (ALLOWED_LATENESS), validated', () => {
    assert.equal(config().WINDOW_SIZE, 60_000)
    assert.equal(config().ALLOWED_LATENESS, 300_000)
    assert.equal(config({ WINDOW_SIZE: '30s' }).WINDOW_SIZE, 30_000)
    rejects({ WINDOW_SIZE: '10ms' }, 'WINDOW_SIZE')
    rejects({ ALLOWED_LATENESS: 'soon' }, 'ALLOWED_LATENESS')
  })
  it("Weir's own additions have defaults that keep the seed's behaviour", () => {
    const c = config()
    assert.deepEqual(
      [
        c.KAFKA_GROUP_ID,
        c.KAFKA_CLIENT_ID,
        c.KAFKA_AUTO_OFFSET_RESET,
        c.DLQ_TOPIC,
        c.SCHEMA_REGISTRY_URL,
        c.PG_SSLROOTCERT,
        c.LOG_EVERY_EVENTS,
        c.HEALTH_PORT,
        c.KAFKA_SASL_MECHANISM,
      ],
      [
        'streampulse-processor',
        'streampulse-processor',
        'earliest',
        'content-downloads-dlq',
        undefined,
        undefined,
        50,
        9249,
        'SCRAM-SHA-256',
      ],
    )
    rejects({ SCHEMA_REGISTRY_URL: 'not a url' }, 'SCHEMA_REGISTRY_URL')
    rejects({ KAFKA_AUTO_OFFSET_RESET: 'middle' }, 'KAFKA_AUTO_OFFSET_RESET')
    rejects({ PG_SSLMODE: 'verify-full', PG_SSLROOTCERT: '/nonexistent/ca.pem' }, 'PG_SSLROOTCERT')
  })
  it('every variable is listed by `weir describe streampulse` with its default', () => {
    const names = streamPulseApp.env.map((e) => e.name)
    for (const v of [
      'KAFKA_BOOTSTRAP_SERVERS',
      'KAFKA_USERNAME',
      'KAFKA_PASSWORD',
      'PG_HOST',
      'PG_DATABASE',
      'PG_USER',
      'PG_PASSWORD',
      'PG_SSLMODE',
      'WINDOW_SIZE',
      'ALLOWED_LATENESS',
      'PARALLELISM',
      'KAFKA_TOPIC',
    ]) {
      assert.ok(names.includes(v), v)
    }
    assert.equal(streamPulseApp.env.find((e) => e.name === 'PG_SSLMODE')?.default, 'require')
  })
})

describe('seed 003 § Avro schema (../schemas/event.avsc)', () => {
  it('ships schemas/event.avsc with the event fields, loaded by default', () => {
    const schema = JSON.parse(readFileSync(DEFAULT_SCHEMA_PATH, 'utf8')) as {
      fields: Array<{ name: string }>
    }
    assert.deepEqual(
      schema.fields.map((f) => f.name),
      [
        'event_id',
        'user_id',
        'content_id',
        'content_type',
        'region',
        'device_type',
        'os_version',
        'status',
        'error_code',
        'bytes',
        'download_speed_mbps',
        'duration_seconds',
        'timestamp',
      ],
    )
    assert.equal(config().AVRO_SCHEMA_PATH, DEFAULT_SCHEMA_PATH)
  })
})

/** Collects what the pipeline writes, as the PostgreSQL sink would receive it. */
function arraySink(): Sink<Readonly<Record<string, unknown>>> & { rows: PartRow[] } {
  const rows: PartRow[] = []
  return {
    id: 'rows',
    rows,
    open: async () => {},
    add: (r) => void rows.push(r as PartRow),
    flush: async () => {},
    backlog: () => 0,
    close: async () => {},
    status: () => ({ connected: true }),
  }
}

describe('seed 003 § Windowing strategy: 1-minute tumbling windows on event time, late events within 5 minutes', () => {
  const T = Date.UTC(2026, 0, 28, 19, 15)
  const base = events(1, { start: T, stepMs: 0 })[0]!
  const at = (ms: number, over: Partial<DownloadEvent> = {}): DownloadEvent => ({
    ...base,
    event_id: `e${ms}`,
    timestamp: T + ms,
    ...over,
  })

  async function driver() {
    const c = config()
    const sink = arraySink()
    const metrics = new StreamPulseMetrics(
      createMetrics({ processMetrics: false }),
      silentLogger,
      new VirtualClock(T),
      50,
    )
    const p = streamPulsePipeline(
      { ...c, KAFKA_GROUP_ID: 'sp' },
      {
        value: eventFormat({
          schemaPath: c.AVRO_SCHEMA_PATH,
          registryUrl: undefined,
          registryUserInfo: undefined,
        }).serde,
        sink,
        counted: () => metrics.event(),
        emitted: (r) => r,
      },
    )
    const d = new TestDriver(p, { startTime: T })
    await d.init()
    return { d, sink, input: d.input<DownloadEvent>(c.KAFKA_TOPIC) }
  }

  it('every event is in exactly one window [19:15:00, 19:16:00); its rows are written when the window closes', async () => {
    const { sink, input } = await driver()
    input.pipe(at(10_000)).pipe(at(59_999))
    assert.equal(sink.rows.length, 0, 'nothing before the window ends')
    input.pipe(at(60_000))
    const content = sink.rows.filter((r) => r.kind === 'content')
    assert.equal(content.length, 1)
    assert.equal(content[0]!.window_start.toISOString(), '2026-01-28T19:15:00.000Z')
    assert.equal(content[0]!.window_end.toISOString(), '2026-01-28T19:16:00.000Z')
    assert.equal(content[0]!.downloads, 2, 'the event at 19:16:00 is in the next window')
    assert.deepEqual(
      new Set(sink.rows.map((r) => r.kind)),
      new Set(['content', 'region', 'device']),
      'content, region and device rows',
    )
  })

  it('a late event within 5 minutes rewrites its window; later than that it is a dead letter (LATE_RECORD)', async () => {
    const { d, sink, input } = await driver()
    input.pipe(at(10_000)).pipe(at(200_000))
    const before = sink.rows.length
    input.pipe(at(30_000))
    const rewritten = sink.rows.slice(before).filter((r) => r.kind === 'content')
    assert.equal(rewritten[0]?.downloads, 2, 'the 19:15 window rewritten with the late event')
    input.pipe(at(700_000)).pipe(at(20_000))
    assert.equal(d.deadLetters().length, 1)
    assert.equal(d.deadLetters()[0]?.info.code, ErrorCode.LATE_RECORD)
  })
})

describe('seed 003 § PostgreSQL tables, alert rules and console output', () => {
  const cleanup = suiteCleanup()
  let db = ''
  const lines: Array<{ msg: string }> = []
  let sink: ReturnType<typeof streamPulseSink>
  const W = new Date('2026-01-28T19:15:00Z')
  const W2 = new Date(W.getTime() + 60_000)

  before(async () => {
    db = await streamPulseDb(cleanup)
    const c = config({ ...streamPulseEnv('sp-conf', db) })
    const logger = createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l)) })
    const metrics = new StreamPulseMetrics(
      createMetrics({ processMetrics: false }),
      logger,
      new VirtualClock(0),
      50,
    )
    sink = streamPulseSink(c, { logger, metrics: createMetrics({ processMetrics: false }) }, metrics)
    cleanup(() => sink.close())
    await sink.open()
  })

  const columns = async (table: string) =>
    (
      await dbQuery<{ column_name: string }>(
        db,
        'SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
        [table],
      )
    ).map((r) => r.column_name)
  const primaryKey = async (table: string) =>
    (
      await dbQuery<{ a: string }>(
        db,
        `SELECT a.attname AS a FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
        [table],
      )
    ).map((r) => r.a)

  it('content_stats: downloads, successful, failed per content_id per window', async () => {
    assert.deepEqual(await columns('content_stats'), [
      'window_start',
      'window_end',
      'content_id',
      'downloads',
      'successful',
      'failed',
      'total_bytes',
      'avg_speed_mbps',
      'updated_at',
    ])
    assert.deepEqual(await primaryKey('content_stats'), ['window_start', 'content_id'])
  })
  it('region_health: success rate, average speed and duration per region per window', async () => {
    assert.deepEqual(await columns('region_health'), [
      'window_start',
      'window_end',
      'region',
      'downloads',
      'successful',
      'failed',
      'success_rate',
      'avg_speed_mbps',
      'avg_duration_s',
      'total_bytes',
      'updated_at',
    ])
    assert.deepEqual(await primaryKey('region_health'), ['window_start', 'region'])
  })
  it('device_stats: per device type and OS version', async () => {
    assert.deepEqual(await columns('device_stats'), [
      'window_start',
      'window_end',
      'device_type',
      'os_version',
      'downloads',
      'successful',
      'failed',
      'success_rate',
      'avg_speed_mbps',
      'avg_duration_s',
      'updated_at',
    ])
    assert.deepEqual(await primaryKey('device_stats'), ['window_start', 'device_type', 'os_version'])
  })
  it('alerts: one per window, region and type', async () => {
    assert.deepEqual(await columns('alerts'), [
      'window_start',
      'region',
      'alert_type',
      'severity',
      'value',
      'threshold',
      'message',
      'created_at',
      'updated_at',
    ])
    assert.deepEqual(await primaryKey('alerts'), ['window_start', 'region', 'alert_type'])
  })
  it('"Real-time query <100ms (PostgreSQL indexed queries)": indexes by group and newest window', async () => {
    const idx = (
      await dbQuery<{ indexname: string }>(
        db,
        'SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()',
      )
    ).map((r) => r.indexname)
    for (const i of [
      'content_stats_content_idx',
      'region_health_region_idx',
      'device_stats_device_idx',
      'alerts_created_idx',
    ])
      assert.ok(idx.includes(i), i)
  })

  /** One region's window with `ok` of `n` downloads at `mbps`, written through the app's sink. */
  async function region(name: string, n: number, ok: number, mbps: number, window = W): Promise<void> {
    sink.add(
      partRow('region', [name, ''], { start: window.getTime(), end: window.getTime() + 60_000 }, 0, {
        downloads: n,
        successful: ok,
        failed: n - ok,
        bytes: n * 1000,
        speedMilli: Math.round(mbps * 1000) * n,
        durationMs: 1000 * n,
      }),
    )
    await sink.flush()
  }
  const alertsOf = async (name: string) =>
    (
      await dbQuery<{ alert_type: string; severity: string; value: string; threshold: string }>(
        db,
        'SELECT alert_type, severity, value, threshold FROM alerts WHERE region = $1 ORDER BY alert_type',
        [name],
      )
    ).map((a) => `${a.alert_type} ${a.severity} ${a.value} < > ${a.threshold}`)

  it('success_rate < 0.90 → WARNING; exactly 0.90 → none', async () => {
    await region('r-90', 100, 90, 50)
    assert.deepEqual(await alertsOf('r-90'), [])
    await region('r-89', 100, 89, 50)
    assert.deepEqual(await alertsOf('r-89'), [
      'HIGH_ERROR_RATE WARNING 0.1100 < > 0.1000',
      'LOW_SUCCESS_RATE WARNING 0.8900 < > 0.9000',
    ])
  })
  it('success_rate < 0.80 → CRITICAL; exactly 0.80 → WARNING', async () => {
    await region('r-80', 100, 80, 50)
    assert.match((await alertsOf('r-80')).join(), /LOW_SUCCESS_RATE WARNING 0.8000/)
    await region('r-79', 100, 79, 50)
    assert.match((await alertsOf('r-79')).join(), /LOW_SUCCESS_RATE CRITICAL 0.7900 < > 0.8000/)
  })
  it('avg_speed < 10.0 Mbps → WARNING (slow downloads); exactly 10.0 → none', async () => {
    await region('r-10', 10, 10, 10)
    assert.deepEqual(await alertsOf('r-10'), [])
    await region('r-9', 10, 10, 9.999)
    assert.deepEqual(await alertsOf('r-9'), ['SLOW_DOWNLOADS WARNING 9.9990 < > 10.0000'])
  })
  it('error rate > 10 % → high-error alert; one alert per (window, region, type) however often a window is rewritten', async () => {
    await region('r-err', 100, 85, 50)
    await region('r-err', 100, 85, 50)
    await region('r-err', 100, 70, 50)
    assert.deepEqual(await alertsOf('r-err'), [
      'HIGH_ERROR_RATE WARNING 0.3000 < > 0.1000',
      'LOW_SUCCESS_RATE CRITICAL 0.7000 < > 0.8000',
    ])
    await region('r-err', 100, 100, 50, W2)
    assert.deepEqual((await alertsOf('r-err')).length, 2, 'a healthy window adds none')
  })
  it('a late event that lifts a window over the thresholds clears its alerts: alerts always match region_health', async () => {
    await region('r-late', 100, 85, 50)
    assert.equal((await alertsOf('r-late')).length, 2)
    await region('r-late', 110, 100, 50)
    assert.deepEqual(await alertsOf('r-late'), [])
  })
  it('console: "Wrote N records to content_stats" / "… to region_health" at INFO after each write', async () => {
    sink.add(
      partRow('content', ['mov_avengers_2', ''], { start: W.getTime(), end: W.getTime() + 60_000 }, 0, {
        downloads: 150,
        successful: 140,
        failed: 10,
        bytes: 1,
        speedMilli: 150_000,
        durationMs: 1,
      }),
    )
    sink.add(
      partRow('content', ['mov_taylor_swift', ''], { start: W.getTime(), end: W.getTime() + 60_000 }, 0, {
        downloads: 90,
        successful: 85,
        failed: 5,
        bytes: 1,
        speedMilli: 90_000,
        durationMs: 1,
      }),
    )
    await sink.flush()
    assert.ok(
      lines.some((l) => l.msg === 'Wrote 2 records to content_stats'),
      JSON.stringify(lines.map((l) => l.msg)),
    )
    assert.ok(lines.some((l) => l.msg === 'Wrote 1 records to region_health'))
    const rows = await dbQuery<{ content_id: string; downloads: string; successful: string; failed: string }>(
      db,
      'SELECT content_id, downloads, successful, failed FROM content_stats ORDER BY content_id',
    )
    assert.deepEqual(
      rows.map(
        (r) => `${r.content_id}: ${r.downloads} downloads (${r.successful} success, ${r.failed} failed)`,
      ),
      [
        'mov_avengers_2: 150 downloads (140 success, 10 failed)',
        'mov_taylor_swift: 90 downloads (85 success, 5 failed)',
      ],
    )
  })
  it('console: "Processed 50 events | Flushed N windows" every 50 events (at most one line a second at high rates)', () => {
    const out: string[] = []
    const clock = new VirtualClock(0)
    const m = new StreamPulseMetrics(
      createMetrics({ processMetrics: false }),
      createLogger({ level: 'info', write: (l) => out.push(JSON.parse(l).msg) }),
      clock,
      50,
    )
    for (let i = 0; i < 149; i++) {
      m.event()
      clock.advance(25)
    }
    assert.deepEqual(out, [
      'Processed 50 events | Flushed 0 windows',
      'Processed 100 events | Flushed 0 windows',
    ])
  })
})

describe('seed 003 § Running: start-up lines, /health and /metrics (Events Processed, Windows Flushed, Processing Lag, Alerts Generated)', () => {
  const cleanup = suiteCleanup()
  let service: RunningService
  const lines: Array<Record<string, unknown>> = []
  let env: ReturnType<typeof streamPulseEnv>

  before(async () => {
    const db = await streamPulseDb(cleanup)
    env = streamPulseEnv('sp-conf-run', db, {
      KAFKA_PASSWORD: 'never-printed',
      PG_PASSWORD: 'never-printed-either',
    })
    cleanup(() =>
      deleteTopics([env.KAFKA_TOPIC, env.DLQ_TOPIC, ...streamPulseChangelogTopics(env.KAFKA_GROUP_ID)]).catch(
        () => {},
      ),
    )
    await createTopic(undefined, { name: env.KAFKA_TOPIC })
    await produceEvents(testKafka(), env.KAFKA_TOPIC, events(300, { start: Date.now() - 20_000, stepMs: 20 }))
    service = await startService(streamPulseApp, {
      env,
      logger: createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l)) }),
      handleSignals: false,
      http: { host: '127.0.0.1', port: 0 },
      transport: (k) => kafkaTransport({ brokers: [...k.brokers], clientId: k.clientId }),
    })
    cleanup(() => service.stop())
  })

  const get = async (path: string, accept = 'application/json') => {
    const a = service.address!
    const res = await fetch(`http://${a.host}:${a.port}${path}`, { headers: { accept } })
    return { status: res.status, text: await res.text() }
  }

  it('"Configuration validated": Kafka, Topic, Database, Parallelism, window size; no secret in any line', () => {
    const line = lines.find((l) => l.msg === 'Configuration validated')!
    assert.equal(line.topic, env.KAFKA_TOPIC)
    assert.equal(line.parallelism, 1)
    assert.equal(line.windowSeconds, 2)
    assert.match(String(line.database), new RegExp(`/${env.PG_DATABASE}$`))
    assert.ok(!JSON.stringify(lines).includes('never-printed'))
  })
  it('/health: status, kafka_connected, postgres_connected, uptime_seconds', async () => {
    const h = JSON.parse((await get('/health')).text)
    for (const k of ['status', 'kafka_connected', 'postgres_connected', 'uptime_seconds'])
      assert.ok(k in h, k)
    assert.equal(h.postgres_connected, true)
  })
  it('/metrics: events processed, windows flushed, processing lag, alerts generated by severity, rows per table; Prometheus text', async () => {
    let m: Record<string, unknown> = {}
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      m = JSON.parse((await get('/metrics')).text)
      if ((m.windows_flushed as number) > 0 && m.events_processed === 300) break
      await new Promise((r) => setTimeout(r, 200))
    }
    assert.equal(m.events_processed, 300)
    assert.ok((m.windows_flushed as number) > 0)
    assert.equal(typeof m.processing_lag_seconds, 'number')
    assert.deepEqual(Object.keys(m.alerts_generated as object).sort(), ['CRITICAL', 'WARNING'])
    assert.deepEqual(Object.keys(m.rows_written as object), [
      'content_stats',
      'region_health',
      'device_stats',
      'alerts',
    ])
    const prom = (await get('/metrics', 'text/plain')).text
    assert.match(prom, /streampulse_events_processed_total 300/)
    assert.match(prom, /streampulse_processing_lag_seconds \d/)
  })

  it('"Real-time query": weir query streampulse top-content / region-health / alerts --last 10m read the tables without psql', async () => {
    const { execFile } = await import('node:child_process')
    const run = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [CLI, 'query', 'streampulse', ...args],
          { env: { ...process.env, ...env } },
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        ),
      )
    const counted = async () =>
      (
        JSON.parse(await run(['region-health', '--last', '10m', '--json'])) as Array<{ downloads: string }>
      ).reduce((n, r) => n + Number(r.downloads), 0)
    for (let tries = 0; (await counted()) < 300 && tries < 100; tries++)
      await new Promise((r) => setTimeout(r, 300))
    const top = await run(['top-content', '--last', '10m', '--limit', '5'])
    assert.match(top, /^content_id\s+downloads\s+successful\s+failed\s+success_rate\s+total_bytes\n/)
    assert.match(top, /\(5 rows, last 10m, [\d.]+ ms\)/)
    assert.equal(await counted(), 300, 'every event counted once across regions')
    assert.match(await run(['alerts', '--last', '1m', '--limit', '1']), /region|no alerts rows/)
  })
})

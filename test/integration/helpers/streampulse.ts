/**
 * StreamPulse test helpers: a database of its own per test, Avro events produced with the shipped
 * `.avsc`, the seed's four tables read back, and the rows they must hold computed here, independently
 * of the app (plain loops over the input, the seed's thresholds written out again).
 */
import pg from 'pg'
import { DEFAULT_SCHEMA_PATH } from '../../../src/apps/streampulse/config.ts'
import type { DownloadEvent } from '../../../src/apps/streampulse/domain.ts'
import type { KafkaTransport } from '../../../src/connectors/kafka/index.ts'
import { streamPulseGenerator } from '../../../src/generators/streampulse.ts'
import { avroFile } from '../../../src/serdes/avro/file.ts'
import { exited, spawnApp } from './apps.ts'
import { kafkaBrokers, uniqueName } from './kafka.ts'
import { type Cleanup, pgConnection, pgQuery } from './services.ts'

/** A database of its own (the seed's table names are fixed), dropped by `cleanup`. */
export async function streamPulseDb(cleanup: Cleanup): Promise<string> {
  const name = uniqueName('sp').replaceAll('-', '_')
  await pgQuery(`CREATE DATABASE ${name}`)
  cleanup(() => pgQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  return name
}

export async function dbQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  db: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ ...pgConnection(), database: db })
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

export interface StreamPulseTestEnv extends Record<string, string> {
  KAFKA_TOPIC: string
  KAFKA_GROUP_ID: string
  DLQ_TOPIC: string
  PG_DATABASE: string
}

/** The app's env on its own topic, group and database; small windows so tests see them close. */
export function streamPulseEnv(
  label: string,
  db: string,
  extra: Readonly<Record<string, string>> = {},
): StreamPulseTestEnv {
  const base = uniqueName(label)
  const pgc = pgConnection()
  return {
    KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
    KAFKA_TOPIC: `${base}-downloads`,
    KAFKA_GROUP_ID: `${base}-group`,
    KAFKA_CLIENT_ID: `${base}-client`,
    DLQ_TOPIC: `${base}-dlq`,
    PG_HOST: pgc.host,
    PG_PORT: String(pgc.port),
    PG_USER: pgc.user,
    PG_DATABASE: db,
    PG_SSLMODE: 'disable',
    WINDOW_SIZE: '2s',
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: '0',
    ...extra,
  }
}

const avro = avroFile<DownloadEvent>({ schemaPath: DEFAULT_SCHEMA_PATH })

/** Writes events (plain Avro, key = event_id) and raw bodies; returns once Kafka acknowledged them. */
export async function produceEvents(
  kafka: KafkaTransport,
  topic: string,
  items: ReadonlyArray<DownloadEvent | Buffer>,
  encode: (e: DownloadEvent) => Buffer | Promise<Buffer> = (e) =>
    avro.serialize(e, { topic, isKey: false }) as Buffer,
): Promise<void> {
  const sink = kafka.sink({ clientId: 'weir-test-streampulse' })
  await sink.open()
  try {
    let i = 0
    for (const item of items) {
      const isRaw = Buffer.isBuffer(item)
      sink.add({
        topic,
        key: Buffer.from(isRaw ? `raw-${i}` : item.event_id),
        value: isRaw ? item : await encode(item),
        headers: {},
        timestamp: Date.now(),
      })
      if (++i % 5000 === 0) await sink.flush()
    }
    await sink.flush()
  } finally {
    await sink.close()
  }
}

/**
 * `n` generated events, event time advancing `stepMs` from `start`; every `straggleEvery`-th event is
 * moved `straggleMs` back (late, within the allowed lateness). A region degrades on a short schedule
 * so the alert rules fire.
 */
export function events(
  n: number,
  options: { start: number; stepMs: number; seed?: number; straggleEvery?: number; straggleMs?: number },
): DownloadEvent[] {
  let i = 0
  const g = streamPulseGenerator({
    seed: options.seed ?? 7,
    now: () => options.start + i * options.stepMs,
    contents: 300,
    degradeEveryMs: 10_000,
    degradeForMs: 4_000,
  })
  const out: DownloadEvent[] = []
  for (; i < n; i++) {
    const e = g.next().value as DownloadEvent
    const straggle = options.straggleEvery !== undefined && i > 0 && i % options.straggleEvery === 0
    out.push(straggle ? { ...e, timestamp: e.timestamp - (options.straggleMs ?? 5000) } : e)
  }
  return out
}

// ------------------------------------------------------------------------------ expected rows

export interface Tables {
  content_stats: string[]
  region_health: string[]
  device_stats: string[]
  alerts: string[]
}

interface Sums {
  n: number
  ok: number
  failed: number
  bytes: number
  speed: number
  durationMs: number
  end: number
}

/** x / y rounded half up to `digits` decimals, as text with that many decimals (exact for integers). */
function ratio(x: number, y: number, digits: number): string {
  const scale = 10 ** digits
  const q = Math.floor((x * scale * 2 + y) / (2 * y))
  const s = String(q).padStart(digits + 1, '0')
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`
}

/** What the seed's four tables must hold after `input` (the events the app accepts), row per line. */
export function expectedTables(
  input: readonly DownloadEvent[],
  windowMs: number,
  skipContent: (e: DownloadEvent) => boolean = () => false,
): Tables {
  const groups = {
    content: new Map<string, Sums>(),
    region: new Map<string, Sums>(),
    device: new Map<string, Sums>(),
  }
  const add = (m: Map<string, Sums>, key: string, e: DownloadEvent, start: number) => {
    let s = m.get(key)
    if (s === undefined) {
      s = { n: 0, ok: 0, failed: 0, bytes: 0, speed: 0, durationMs: 0, end: start + windowMs }
      m.set(key, s)
    }
    s.n++
    if (e.status === 'success') s.ok++
    else s.failed++
    s.bytes += e.bytes
    s.speed += Math.round(e.download_speed_mbps * 1000)
    s.durationMs += Math.round(e.duration_seconds * 1000)
  }
  for (const e of input) {
    const start = Math.floor(e.timestamp / windowMs) * windowMs
    const w = new Date(start).toISOString()
    if (!skipContent(e)) add(groups.content, `${w}|${e.content_id}`, e, start)
    add(groups.region, `${w}|${e.region}`, e, start)
    add(groups.device, `${w}|${e.device_type}|${e.os_version}`, e, start)
  }
  const end = (s: Sums) => new Date(s.end).toISOString()
  const content = [...groups.content].map(
    ([k, s]) => `${k}|${end(s)}|${s.n}|${s.ok}|${s.failed}|${s.bytes}|${ratio(s.speed, s.n * 1000, 3)}`,
  )
  const region = [...groups.region].map(
    ([k, s]) =>
      `${k}|${end(s)}|${s.n}|${s.ok}|${s.failed}|${ratio(s.ok, s.n, 4)}|${ratio(s.speed, s.n * 1000, 3)}|${ratio(s.durationMs, s.n * 1000, 3)}|${s.bytes}`,
  )
  const device = [...groups.device].map(
    ([k, s]) =>
      `${k}|${end(s)}|${s.n}|${s.ok}|${s.failed}|${ratio(s.ok, s.n, 4)}|${ratio(s.speed, s.n * 1000, 3)}|${ratio(s.durationMs, s.n * 1000, 3)}`,
  )
  // The seed: success rate < 0.90 → WARNING, < 0.80 → CRITICAL; average speed < 10 Mbps → WARNING;
  // error rate > 10 % → high-error alert.
  const alerts: string[] = []
  for (const [k, s] of groups.region) {
    const success = Number(ratio(s.ok, s.n, 4))
    const speed = Number(ratio(s.speed, s.n * 1000, 3))
    const errors = Number(ratio(s.failed, s.n, 4))
    if (success < 0.9)
      alerts.push(
        `${k}|LOW_SUCCESS_RATE|${success < 0.8 ? 'CRITICAL' : 'WARNING'}|${success.toFixed(4)}|${success < 0.8 ? '0.8000' : '0.9000'}`,
      )
    if (speed < 10) alerts.push(`${k}|SLOW_DOWNLOADS|WARNING|${speed.toFixed(4)}|10.0000`)
    if (errors > 0.1) alerts.push(`${k}|HIGH_ERROR_RATE|WARNING|${errors.toFixed(4)}|0.1000`)
  }
  return {
    content_stats: content.sort(),
    region_health: region.sort(),
    device_stats: device.sort(),
    alerts: alerts.sort(),
  }
}

/** The four tables as the app left them, in the same row-per-line form (created_at/updated_at left out). */
export async function readTables(db: string): Promise<Tables> {
  const iso = (d: unknown) => (d as Date).toISOString()
  const q = async (sql: string, line: (r: Record<string, unknown>) => string) =>
    (await dbQuery(db, sql)).map(line).sort()
  return {
    content_stats: await q('SELECT * FROM content_stats', (r) =>
      [
        iso(r.window_start),
        r.content_id,
        iso(r.window_end),
        r.downloads,
        r.successful,
        r.failed,
        r.total_bytes,
        r.avg_speed_mbps,
      ].join('|'),
    ),
    region_health: await q('SELECT * FROM region_health', (r) =>
      [
        iso(r.window_start),
        r.region,
        iso(r.window_end),
        r.downloads,
        r.successful,
        r.failed,
        r.success_rate,
        r.avg_speed_mbps,
        r.avg_duration_s,
        r.total_bytes,
      ].join('|'),
    ),
    device_stats: await q('SELECT * FROM device_stats', (r) =>
      [
        iso(r.window_start),
        r.device_type,
        r.os_version,
        iso(r.window_end),
        r.downloads,
        r.successful,
        r.failed,
        r.success_rate,
        r.avg_speed_mbps,
        r.avg_duration_s,
      ].join('|'),
    ),
    alerts: await q('SELECT * FROM alerts', (r) =>
      [iso(r.window_start), r.region, r.alert_type, r.severity, r.value, r.threshold].join('|'),
    ),
  }
}

/** Tables that exist yet? (The app creates them at start.) */
export async function tablesOrEmpty(db: string): Promise<Tables> {
  try {
    return await readTables(db)
  } catch {
    return { content_stats: [], region_health: [], device_stats: [], alerts: [] }
  }
}

/**
 * `weir run streampulse` as a child process whose whole output is kept (`output()`), killed (-9) by
 * `cleanup` if still running and when this process exits.
 */
export function spawnStreamPulse(cleanup: Cleanup, env: Readonly<Record<string, string>>) {
  const child = spawnApp('streampulse', { ...env })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  cleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited(child)
    process.off('exit', kill)
  })
  return Object.assign(child, { output: () => output })
}

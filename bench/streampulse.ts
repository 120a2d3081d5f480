/**
 * StreamPulse benchmark (`npm run bench:streampulse`, `-- --quick` for 200k events): pre-produced Avro
 * download events → `weir run streampulse` (child process, as deployed) → PostgreSQL, timed from the
 * app's first event to the moment PostgreSQL holds every event in region_health (the last window's rows
 * committed). Also in the same run: Kafka's consume ceiling on the same topic (ConsumerPerformance) and
 * the app's window-close-to-row latency (p50/p99 from its /metrics). The seed claims ~1,000 events/s.
 *
 * Options: --events=N (default 1,000,000), --partitions=P (default 5), --contents=N (default 2,000),
 * --profile=DIR (the app's CPU profile and GC trace into DIR; NODE_OPTIONS cannot carry --cpu-prof)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { DEFAULT_SCHEMA_PATH } from '../src/apps/streampulse/config.ts'
import type { DownloadEvent } from '../src/apps/streampulse/domain.ts'
import { streamPulseChangelogTopics } from '../src/apps/streampulse/pipeline.ts'
import { kafkaTransport } from '../src/connectors/kafka/index.ts'
import { streamPulseGenerator } from '../src/generators/streampulse.ts'
import { avroFile } from '../src/serdes/avro/file.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const BROKER = '127.0.0.1:9092'
const JARS = join(ROOT, '.cache', 'kafka', '4.3.1', 'libs', '*')
const argv = process.argv.slice(2)
const opt = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = argv.includes('--quick')
const N = Number(opt('events') ?? (quick ? 200_000 : 1_000_000))
const PARTITIONS = Number(opt('partitions') ?? 5)
const CONTENTS = Number(opt('contents') ?? 2000)
const WINDOWS = 10
const PROFILE = opt('profile')
const log = (s: string) => process.stderr.write(`[bench:streampulse] ${s}\n`)
const stamp = `bench-sp-${Date.now().toString(36)}`
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' }

async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ ...PG, database: 'postgres' })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** N events over WINDOWS minutes of event time, the last one just before a window end. */
async function produce(topic: string): Promise<void> {
  const kafka = kafkaTransport({ brokers: [BROKER], clientId: `${stamp}-producer` })
  const admin = kafka.admin()
  await admin.ensureTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: 1 }])
  await admin.close()
  const start = Math.floor(Date.now() / 60_000) * 60_000 - (WINDOWS + 10) * 60_000
  const span = WINDOWS * 60_000
  let i = 0
  const g = streamPulseGenerator({
    seed: 42,
    contents: CONTENTS,
    now: () => start + Math.floor((i * span) / N),
  })
  const avro = avroFile<DownloadEvent>({ schemaPath: DEFAULT_SCHEMA_PATH })
  const sink = kafka.sink({ clientId: `${stamp}-producer` })
  await sink.open()
  const t0 = performance.now()
  for (; i < N; i++) {
    const r = g.next()
    const e = r.value as DownloadEvent
    sink.add({
      topic,
      key: Buffer.from(e.event_id),
      value: avro.serialize(e, { topic, isKey: false }) as Buffer,
      headers: {},
      timestamp: r.timestamp,
    })
    if (i % 20_000 === 19_999) await sink.flush()
  }
  await sink.flush()
  await sink.close()
  log(`produced ${N} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

/** Kafka's own consumer on the same records: fetch.nMsg.sec (group join excluded). */
function consumeCeiling(topic: string): number {
  const r = spawnSync(
    'java',
    [
      '-cp',
      JARS,
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      BROKER,
      '--topic',
      topic,
      '--num-records',
      String(N),
      '--group',
      `${stamp}-ceiling`,
    ],
    {
      encoding: 'utf8',
    },
  )
  if (r.status !== 0) throw new Error(`ConsumerPerformance failed: ${r.stderr}`)
  const lines = r.stdout.trim().split('\n')
  const header = lines.findIndex((l) => l.startsWith('start.time'))
  const row = lines[header + 1]?.split(',').map((s) => s.trim())
  if (header < 0 || !row) throw new Error(`cannot read ConsumerPerformance output: ${r.stdout}`)
  return Number(row[9])
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

async function metricsOf(port: number): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as Record<string, unknown>
  } catch {
    return undefined
  }
}

async function main(): Promise<void> {
  const topic = `${stamp}-downloads`
  const db = stamp.replaceAll('-', '_')
  await pgAdmin(`CREATE DATABASE ${db}`)
  let child: ChildProcess | undefined
  const kill = () => child?.kill('SIGKILL')
  process.once('exit', kill)
  try {
    await produce(topic)
    const ceiling = consumeCeiling(topic)
    log(`consume ceiling ${Math.round(ceiling)} records/s`)
    const port = await freePort()
    const env = {
      ...process.env,
      LOG_LEVEL: 'warn',
      KAFKA_BOOTSTRAP_SERVERS: BROKER,
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${stamp}-group`,
      DLQ_TOPIC: `${stamp}-dlq`,
      PARALLELISM: String(PARTITIONS),
      PG_HOST: PG.host,
      PG_PORT: String(PG.port),
      PG_USER: PG.user,
      PG_DATABASE: db,
      PG_SSLMODE: 'disable',
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: String(port),
    }
    const started = performance.now()
    const profile = PROFILE === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`, '--trace-gc']
    child = spawn(process.execPath, [...profile, join(ROOT, 'bin', 'weir.js'), 'run', 'streampulse'], {
      env,
      stdio: ['ignore', PROFILE === undefined ? 'ignore' : 'pipe', 'inherit'],
    })
    if (PROFILE !== undefined) child.stdout?.pipe(createWriteStream(join(PROFILE, 'gc.log')))
    const c = new pg.Client({ ...PG, database: db })
    let firstEvent: number | undefined
    let allRead: number | undefined
    let done: number | undefined
    let peakRss = 0
    // The app's own CPU time over the timed span: what the machine's load does not inflate much.
    let cpuAtFirst: number | undefined
    let cpuAtDone: number | undefined
    for (;;) {
      const m = await metricsOf(port)
      const processed = typeof m?.events_processed === 'number' ? m.events_processed : 0
      if (firstEvent === undefined && processed > 0) {
        firstEvent = performance.now()
        cpuAtFirst = cpuSecondsOf(child.pid)
      }
      if (allRead === undefined && processed >= N) allRead = performance.now()
      const rss = (m?.memory as { rss?: number } | undefined)?.rss
      if (typeof rss === 'number') peakRss = Math.max(peakRss, rss)
      if (allRead !== undefined) {
        if (!(c as unknown as { _connected?: boolean })._connected) await c.connect().catch(() => {})
        const r = await c
          .query<{ n: string | null }>('SELECT sum(downloads) AS n FROM region_health')
          .catch(() => undefined)
        if (Number(r?.rows[0]?.n ?? 0) >= N) {
          done = performance.now()
          cpuAtDone = cpuSecondsOf(child.pid)
          break
        }
      }
      if (performance.now() - started > 600_000) throw new Error('timed out after 10 minutes')
      await new Promise((r) => setTimeout(r, 50))
    }
    const m = (await metricsOf(port)) as {
      window_close_to_row_seconds: { p50: number; p99: number; count: number }
      rows_written: Record<string, number>
    }
    await c.end()
    // A graceful stop (a --cpu-prof in NODE_OPTIONS is written then), at most 30 s.
    const exited = new Promise((r) => child?.once('exit', r))
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))])
    const seconds = (done - (firstEvent ?? started)) / 1000
    const result = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg()[0]?.toFixed(1)}`,
      events: N,
      partitions: PARTITIONS,
      contents: CONTENTS,
      windows: WINDOWS,
      eventsPerSecond: Math.round(N / seconds),
      readAllSeconds: ((allRead ?? done) - (firstEvent ?? started)) / 1000,
      toLastRowSeconds: seconds,
      appCpuSeconds:
        cpuAtDone === undefined || cpuAtFirst === undefined
          ? null
          : Math.round((cpuAtDone - cpuAtFirst) * 100) / 100,
      eventsPerAppCpuSecond:
        cpuAtDone === undefined || cpuAtFirst === undefined ? null : Math.round(N / (cpuAtDone - cpuAtFirst)),
      consumeCeiling: Math.round(ceiling),
      ratioToCeiling: Math.round((N / seconds / ceiling) * 1000) / 1000,
      windowCloseToRowSeconds: m.window_close_to_row_seconds,
      rowsWritten: m.rows_written,
      startupSeconds: ((firstEvent ?? started) - started) / 1000,
    }
    log(JSON.stringify(result, null, 2))
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
    writeFileSync(
      join(ROOT, 'bench', 'results', `${result.date.slice(0, 10)}-streampulse${quick ? '-quick' : ''}.json`),
      `${JSON.stringify(result, null, 2)}\n`,
    )
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    kill()
    await pgAdmin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {})
    const kafka = kafkaTransport({ brokers: [BROKER], clientId: `${stamp}-cleanup` })
    const admin = kafka.admin() as ReturnType<typeof kafka.admin> & {
      deleteTopics?: (t: string[]) => Promise<void>
    }
    await admin
      .deleteTopics?.([topic, `${stamp}-dlq`, ...streamPulseChangelogTopics(`${stamp}-group`)])
      .catch(() => {})
    await admin.close()
  }
}

await main()

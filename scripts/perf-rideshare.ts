/**
 * Drain benchmark of `weir run rideshare` as its own process (issue 5: ≥ 200,000 GPS pings/s consumed,
 * RSS ≤ 150 MB with 100,000 drivers, window 100 ms, strategy latest):
 *
 *   node scripts/perf-rideshare.ts [--records 1000000] [--drivers 100000] [--prefix p.] [--no-produce]
 *                                  [--node-flags "--cpu-prof --cpu-prof-dir=/tmp/prof"] [--env K=V,K=V]
 *                                  [--entry dist/cli/main.js]
 *
 * 1. `weir produce rideshare --drivers N --count R --rate 0 --topic-prefix <prefix>` writes the backlog
 *    (skipped with --no-produce and a --prefix whose topics already hold it);
 * 2. a private redis-server with `requirepass admin` (the seed's default password) on a free port;
 * 3. `weir run rideshare` with the seed's env (PLAINTEXT Kafka, earliest, a fresh group), timed from its
 *    first consumed record until every record is consumed and Redis has acknowledged every message
 *    (/metrics polled every 100 ms); peak RSS is the kernel's high-water mark (VmHWM) of that process.
 * The last stdout line is one JSON object with the figures. `--entry` runs another build of the CLI
 * (the compiled one: `npx tsc -p tsconfig.build.json --outDir /tmp/weir-dist`, entry
 * /tmp/weir-dist/cli/main.js, with node_modules reachable from there), as an installed package runs.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kafkaTransport } from '../src/connectors/kafka/index.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const WEIR = join(ROOT, 'bin', 'weir.js')
const TOPICS = ['gps_pings', 'trips', 'driver_status', 'surge_updates', 'driver_profiles', 'rider_profiles']

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}
const records = Number(opt('records') ?? 1_000_000)
const drivers = Number(opt('drivers') ?? 100_000)
const prefix = opt('prefix') ?? `perf-rs-${Date.now().toString(36)}.`
const produce = !args.includes('--no-produce')
const nodeFlags = (opt('node-flags') ?? '').split(' ').filter(Boolean)
const extraEnv = Object.fromEntries(
  (opt('env') ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
)
const brokers = (process.env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:9092').split(',')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const log = (msg: string) => process.stderr.write(`[perf-rideshare] ${msg}\n`)

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((r) => server.close(r))
  return port
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

async function endOffsets(): Promise<number> {
  const admin = kafkaTransport({ brokers }).admin()
  try {
    const ends = await admin.endOffsets(TOPICS.map((t) => prefix + t))
    let n = 0
    for (const v of ends.values()) n += v
    return n
  } finally {
    await admin.close()
  }
}

/** CPU seconds (user + system) a process has used so far. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ = 100)
}

/** VmHWM and VmRSS of a process, in MB. */
function memOf(pid: number): { hwm: number; rss: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(s)?.[1] ?? 0)
  return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 }
}

const baseEnv = {
  ...process.env,
  KAFKA_BOOTSTRAP_SERVERS: brokers.join(','),
  KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
  LOG_LEVEL: 'WARN',
}

if (produce) {
  // `weir produce` creates the app's unprefixed input topics; the prefixed ones are made here.
  const admin = kafkaTransport({ brokers }).admin()
  await admin.ensureTopics(TOPICS.map((t) => ({ name: prefix + t, partitions: 1, replicationFactor: 1 })))
  await admin.close()
  log(`producing ${records} records of ${drivers} drivers to ${prefix}*`)
  const p = spawn(
    process.execPath,
    [
      WEIR,
      'produce',
      'rideshare',
      '--drivers',
      String(drivers),
      '--count',
      String(records),
      '--rate',
      '0',
      '--seed',
      '1',
      '--topic-prefix',
      prefix,
    ],
    { env: baseEnv, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let err = ''
  p.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-2000)
  })
  if ((await exited(p)) !== 0) throw new Error(`weir produce failed: ${err}`)
}
const expected = await endOffsets()
log(`${expected} records in ${prefix}*`)

const dir = await mkdtemp(join(tmpdir(), 'perf-rs-redis-'))
const redisPort = await freePort()
const redis = spawn(
  'redis-server',
  ['--port', String(redisPort), '--bind', '127.0.0.1', '--requirepass', 'admin', '--save', '', '--dir', dir],
  { stdio: 'ignore' },
)
await sleep(300)

const apiPort = await freePort()
const bridge = spawn(process.execPath, [...nodeFlags, opt('entry') ?? WEIR, 'run', 'rideshare'], {
  env: {
    ...baseEnv,
    KAFKA_GROUP_ID: `${prefix}group-${Date.now().toString(36)}`,
    KAFKA_AUTO_OFFSET_RESET: 'earliest',
    TOPIC_PREFIX: prefix,
    PROCESSOR_TOPICS: TOPICS.join(','),
    PROCESSOR_WINDOW_SIZE_MS: '100',
    PROCESSOR_AGGREGATION_STRATEGY: 'latest',
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(redisPort),
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    ...extraEnv,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
})

interface Metrics {
  messages_consumed_total: number
  messages_published_total: number
  gps_pings_received_total: number
  gps_updates_emitted_total: number
  redis_backlog: number
  gps_aggregation_ratio: number
}
async function metrics(): Promise<Metrics | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${apiPort}/metrics`, { headers: { accept: 'application/json' } })
    return (await r.json()) as Metrics
  } catch {
    return undefined
  }
}

let t0 = 0
let cpu0 = 0
let m: Metrics | undefined
const deadline = Date.now() + 600_000
let peakSampled = 0
for (;;) {
  if (Date.now() > deadline) throw new Error('timed out')
  if (bridge.exitCode !== null) throw new Error(`weir run exited ${bridge.exitCode}`)
  m = await metrics()
  peakSampled = Math.max(peakSampled, memOf(bridge.pid!).rss)
  if (m !== undefined) {
    if (t0 === 0 && m.messages_consumed_total > 0) {
      t0 = performance.now()
      cpu0 = cpuOf(bridge.pid!)
    }
    if (m.messages_consumed_total >= expected && m.redis_backlog === 0) break
  }
  await sleep(100)
}
const seconds = (performance.now() - t0) / 1000
const mem = memOf(bridge.pid!)
const cpuSeconds = cpuOf(bridge.pid!) - cpu0
bridge.kill('SIGTERM')
await exited(bridge)
redis.kill('SIGTERM')
await exited(redis)
await rm(dir, { recursive: true, force: true })

const result = {
  prefix,
  records: m!.messages_consumed_total,
  gpsPings: m!.gps_pings_received_total,
  seconds: Math.round(seconds * 100) / 100,
  recordsPerSec: Math.round(m!.messages_consumed_total / seconds),
  pingsPerSec: Math.round(m!.gps_pings_received_total / seconds),
  published: m!.messages_published_total,
  publishesPerSec: Math.round(m!.messages_published_total / seconds),
  gpsAggregationRatio: m!.gps_aggregation_ratio,
  cpuSeconds: Math.round(cpuSeconds * 100) / 100,
  cpuCores: Math.round((cpuSeconds / seconds) * 100) / 100,
  peakRssMb: Math.round(mem.hwm),
  peakRssSampledMb: Math.round(peakSampled),
  endRssMb: Math.round(mem.rss),
}
log(
  `${result.records} records (${result.gpsPings} pings) in ${result.seconds} s: ${result.recordsPerSec} records/s, ` +
    `${result.pingsPerSec} pings/s, ${result.publishesPerSec} publishes/s, peak RSS ${result.peakRssMb} MB, ` +
    `${result.cpuCores} cores (${result.cpuSeconds} CPU s)`,
)
process.stdout.write(`${JSON.stringify(result)}\n`)

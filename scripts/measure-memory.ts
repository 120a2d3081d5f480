/**
 * Peak memory and CPU of each bundled app under a steady load, for the container limits in deploy/.
 *
 *   node scripts/measure-memory.ts [--apps traffic,rideshare] [--rate 10000] [--seconds 60] [--limit-mb 1024]
 *
 * Per app: `weir run <app>` starts inside its own cgroup v1 memory group (a limit of --limit-mb, high
 * enough not to shape the result), `weir produce <app>` writes --rate records/s for --seconds to private
 * topics, and the script samples the app's RSS every second until it has consumed everything. It reports
 * peak RSS (VmHWM), the cgroup's peak (RSS + page cache + kernel memory charged to it), CPU seconds per
 * consumed record (so cores per 10k records/s) and how long SIGTERM took to stop it. Everything it starts
 * (topics, group, cgroup, a private redis-server for rideshare) is removed at the end, also on Ctrl-C.
 * Needs root (the cgroup) and the services of scripts/services.sh on 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Admin } from '@platformatic/kafka'
import { freePort, startRedisServer } from '../test/integration/helpers/services.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const WEIR = `${ROOT}bin/weir.js`
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'
const CGROUP_ROOT = '/sys/fs/cgroup/memory'
const TICKS_PER_SECOND = 100 // USER_HZ on Linux

interface Args {
  apps: string[]
  rate: number
  seconds: number
  limitMb: number
}

interface Result {
  app: string
  rate: number
  produced: number
  consumed: number
  seconds: number
  peakRssMb: number
  cgroupPeakMb: number
  steadyRssMb: number
  peakAnonMb: number
  failcnt: number
  cpuSeconds: number
  coresPer10k: number
  stopMs: number
  exitCode: number | null
}

type Cleanup = (fn: () => unknown) => void

function parse(argv: readonly string[]): Args {
  const flag = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`)
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback
  }
  return {
    apps: flag('apps', 'traffic,traffic-windows,rideshare,millionx').split(','),
    rate: Number(flag('rate', '10000')),
    seconds: Number(flag('seconds', '60')),
    limitMb: Number(flag('limit-mb', '1024')),
  }
}

/** Env of one measured run: private topics and group under `base`, everything else the app's defaults. */
async function envFor(app: string, base: string, cleanup: Cleanup): Promise<Record<string, string>> {
  const common = { LOG_LEVEL: 'WARN', NODE_ENV: 'production' }
  switch (app) {
    case 'traffic':
    case 'traffic-windows':
      return {
        ...common,
        KAFKA_BROKERS: BROKERS,
        GROUP_ID: base,
        CLIENT_ID: base,
        INPUT_TOPIC: `${base}.in`,
        OUTPUT_TOPIC: `${base}.out`,
        DLQ_TOPIC: `${base}.dlq`,
        AUTO_OFFSET_RESET: 'earliest',
        HEALTH_PORT: String(await freePort()),
        // traffic-windows: 10 s windows of the events' (current) time, so they close during the run
        WINDOW_SIZE: '10s',
        WINDOW_GRACE: '2s',
      }
    case 'rideshare': {
      // A private Redis: the shared one's pub/sub channels are subscribed to by other suites.
      const redis = await startRedisServer(cleanup, ['--requirepass', 'measure'])
      return {
        ...common,
        NODE_ENV: 'development',
        KAFKA_BOOTSTRAP_SERVERS: BROKERS,
        KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
        KAFKA_GROUP_ID: base,
        KAFKA_AUTO_OFFSET_RESET: 'earliest',
        TOPIC_PREFIX: `${base}.`,
        DLQ_TOPIC: 'dlq',
        REDIS_HOST: redis.host,
        REDIS_PORT: String(redis.port),
        REDIS_PASSWORD: 'measure',
        API_PORT: String(await freePort()),
        PROCESSOR_TOPICS: 'gps_pings,trips,driver_status,surge_updates,driver_profiles,rider_profiles',
        LOG_LEVEL: 'WARNING',
      }
    }
    default:
      return {
        ...common,
        KAFKA_BOOTSTRAP_SERVERS: BROKERS,
        KAFKA_GROUP_ID: base,
        KAFKA_CLIENT_ID: base,
        TOPIC_PREFIX: `${base}.`,
        DLQ_TOPIC: `${base}.dlq`,
        AUTO_OFFSET_RESET: 'earliest',
        WEB_PORT: String(await freePort()),
      }
  }
}

function portOf(env: Record<string, string>): number {
  return Number(env.HEALTH_PORT ?? env.API_PORT ?? env.WEB_PORT)
}

/** Starts a process that is killed by `cleanup` (and if this script exits first). */
function start(
  argv: readonly string[],
  env: Record<string, string>,
  cleanup: Cleanup,
  prefix: readonly string[] = [],
) {
  const child = spawn(
    prefix[0] ?? process.execPath,
    [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), ...argv],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  cleanup(async () => {
    kill()
    await exitOf(child)
    process.off('exit', kill)
  })
  return { child, stderr: () => stderr }
}

async function waitHealthy(
  what: string,
  port: number,
  p: { child: ChildProcess; stderr: () => string },
): Promise<void> {
  for (const deadline = Date.now() + 60_000; !(await healthy(port)); await sleep(250)) {
    if (p.child.exitCode !== null)
      throw new Error(`${what} exited at start (${p.child.exitCode}): ${p.stderr()}`)
    if (Date.now() > deadline) throw new Error(`${what} not healthy on :${port} after 60 s: ${p.stderr()}`)
  }
}

function statusField(pid: number, field: string): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))
  return m ? Number(m[1]) / 1024 : 0
}

function cpuTicks(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(rest[11]) + Number(rest[12])
}

async function consumedTotal(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics/prometheus`)
  let total = 0
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('weir_records_consumed_total')) total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`)
    return ((await res.json()) as { status?: string }).status === 'healthy'
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

async function deleteTopicsStartingWith(prefix: string): Promise<void> {
  const admin = new Admin({ clientId: 'weir-measure-cleanup', bootstrapBrokers: BROKERS.split(',') })
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    if (topics.length > 0) await admin.deleteTopics({ topics })
  } finally {
    await admin.close()
  }
}

async function measure(app: string, args: Args, cleanup: Cleanup): Promise<Result> {
  const base = `weir-deploy-mem-${app}-${Date.now().toString(36)}`
  cleanup(() => deleteTopicsStartingWith(base))
  const env = { ...process.env, ...(await envFor(app, base, cleanup)) } as Record<string, string>
  const port = portOf(env)

  const cgroup = `${CGROUP_ROOT}/${base}`
  mkdirSync(cgroup)
  cleanup(() => existsSync(cgroup) && rmdirSync(cgroup))
  writeFileSync(`${cgroup}/memory.limit_in_bytes`, String(args.limitMb * 1024 * 1024))

  // The shell joins the cgroup, then becomes node: start-up memory is charged to it too.
  const joinCgroup = ['sh', '-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$0" "$@"`]
  const measured = start([WEIR, 'run', app], env, cleanup, joinCgroup)
  const child = measured.child
  await waitHealthy(app, port, measured)

  // traffic-windows reads what the traffic app writes (its generator would write to the shared
  // `traffic-events` topic): an unmeasured traffic app turns generated raw readings into its input.
  let produceApp = app
  let produceEnv = env
  if (app === 'traffic-windows') {
    produceApp = 'traffic'
    produceEnv = {
      ...env,
      GROUP_ID: `${base}-upstream`,
      INPUT_TOPIC: `${base}.raw`,
      OUTPUT_TOPIC: env.INPUT_TOPIC!,
      DLQ_TOPIC: `${base}.raw-dlq`,
      HEALTH_PORT: String(await freePort()),
    }
    await waitHealthy(
      'upstream traffic',
      portOf(produceEnv),
      start([WEIR, 'run', 'traffic'], produceEnv, cleanup),
    )
  }

  const count = args.rate * args.seconds
  // Their generators write to the seed's topic names unless given the run's prefix.
  const extra =
    app === 'rideshare'
      ? ['--drivers', '10000', '--topic-prefix', env.TOPIC_PREFIX!]
      : app === 'millionx'
        ? ['--topic-prefix', env.TOPIC_PREFIX!]
        : []
  const producer = start(
    [
      WEIR,
      'produce',
      produceApp,
      '--rate',
      String(args.rate),
      '--count',
      String(count),
      '--seed',
      '7',
      ...extra,
    ],
    produceEnv,
    cleanup,
  ).child

  const started = performance.now()
  const ticks0 = cpuTicks(child.pid!)
  const rss: number[] = []
  let peakAnonMb = 0
  let producedDone = false
  void exitOf(producer).then(() => {
    producedDone = true
  })
  let consumed = 0
  let idleSince = 0
  for (;;) {
    await sleep(1000)
    rss.push(statusField(child.pid!, 'VmRSS'))
    peakAnonMb = Math.max(peakAnonMb, statusField(child.pid!, 'RssAnon'))
    const now = await consumedTotal(port)
    // Done when the producer has finished and the app has not consumed anything new for 3 s.
    if (producedDone && now === consumed) {
      if (idleSince === 0) idleSince = performance.now()
      else if (performance.now() - idleSince > 3000) break
    } else idleSince = 0
    consumed = now
    if (performance.now() - started > (args.seconds + 120) * 1000) break
  }
  const seconds = (idleSince - started) / 1000
  const cpuSeconds = (cpuTicks(child.pid!) - ticks0) / TICKS_PER_SECOND
  const peakRssMb = statusField(child.pid!, 'VmHWM')
  const cgroupPeakMb = Number(readFileSync(`${cgroup}/memory.max_usage_in_bytes`, 'utf8')) / 1024 / 1024
  const failcnt = Number(readFileSync(`${cgroup}/memory.failcnt`, 'utf8'))
  const tail = rss.slice(Math.floor(rss.length / 2))
  const steadyRssMb = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length)

  const stopAt = performance.now()
  child.kill('SIGTERM')
  const exitCode = await exitOf(child)
  const stopMs = performance.now() - stopAt

  return {
    app,
    rate: args.rate,
    produced: count,
    consumed,
    seconds: round(seconds),
    peakRssMb: round(peakRssMb),
    cgroupPeakMb: round(cgroupPeakMb),
    steadyRssMb: round(steadyRssMb),
    peakAnonMb: round(peakAnonMb),
    failcnt,
    cpuSeconds: round(cpuSeconds),
    coresPer10k: round((cpuSeconds / seconds / (consumed / seconds)) * 10_000, 3),
    stopMs: Math.round(stopMs),
    exitCode,
  }
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

const args = parse(process.argv.slice(2))
const results: Result[] = []
for (const app of args.apps) {
  const fns: Array<() => unknown> = []
  const cleanup: Cleanup = (fn) => {
    fns.push(fn)
  }
  const interrupted = () => process.exit(130)
  process.once('SIGINT', interrupted)
  try {
    const r = await measure(app, args, cleanup)
    results.push(r)
    process.stdout.write(`${JSON.stringify(r)}\n`)
  } catch (err) {
    process.stderr.write(`${app}: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  } finally {
    for (const fn of fns.reverse()) await Promise.resolve(fn()).catch(() => {})
    process.off('SIGINT', interrupted)
  }
}
process.stdout.write(
  `\n| app | records/s | consumed | peak RSS MB | peak anonymous RSS MB | cgroup peak MB | steady RSS MB | CPU cores per 10k/s | SIGTERM→exit ms |\n|---|---|---|---|---|---|---|---|---|\n${results
    .map(
      (r) =>
        `| ${r.app} | ${Math.round(r.consumed / r.seconds)} | ${r.consumed} | ${r.peakRssMb} | ${r.peakAnonMb} | ${r.cgroupPeakMb} | ${r.steadyRssMb} | ${r.coresPer10k} | ${r.stopMs} (exit ${r.exitCode}) |`,
    )
    .join('\n')}\n`,
)

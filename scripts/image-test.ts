/**
 * Runs the built image for real with podman (by hand or `bash scripts/image.sh --test`; not in the
 * default suite: it needs root, podman and a built image).
 *
 *   WEIR_IMAGE=localhost/weir:0.1.0 node scripts/image-test.ts [--app traffic|rideshare] [--rate 10000] [--seconds 30] [--drivers 10000] [--backlog]
 *
 * Checks: the image carries no sources, tests or compiler; it runs as uid 10001 with tini as PID 1;
 * the app in it (host network, the shared Kafka, private topics, a 256 MB memory limit like seed 000's)
 * answers /health (with the Kubernetes manifests' securityContext: read-only root filesystem, no
 * capabilities, no privilege escalation), passes the image's HEALTHCHECK, processes a load of `weir produce` records without
 * being OOM-killed, and `podman stop` (SIGTERM) stops it with exit code 0 well inside the grace period.
 * Reports the container's peak memory from its cgroup. Everything it starts is removed at the end.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Admin } from '@platformatic/kafka'
import { freePort, startRedisServer } from '../test/integration/helpers/services.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const IMAGE = process.env.WEIR_IMAGE ?? 'localhost/weir:latest'
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'
const GRACE_SECONDS = 45
const argv = process.argv.slice(2)
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback
}
const APP = flag('app', 'traffic')
const RATE = Number(flag('rate', '10000'))
const SECONDS = Number(flag('seconds', '30'))
const DRIVERS = flag('drivers', '10000')
const BACKLOG = argv.includes('--backlog')

const cleanups: Array<() => unknown> = []
const podman = (...args: string[]) => execFileSync('podman', args, { encoding: 'utf8' }).trim()
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
let failures = 0
function check(what: string, ok: boolean, detail = ''): void {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}\n`)
  if (!ok) failures++
}

async function health(port: number): Promise<string | undefined> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status: string }).status
  } catch {
    return undefined
  }
}

async function consumed(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics/prometheus`)).text()
  return text
    .split('\n')
    .filter((l) => l.startsWith('weir_records_consumed_total'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

/** The rideshare Redis password as a root-owned 0644 file, like a mounted Kubernetes Secret. */
function secretFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-image-secret-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'redis-password')
  writeFileSync(path, 'image-test\n', { mode: 0o644 })
  return path
}

async function envFor(base: string): Promise<{ env: Record<string, string>; port: number }> {
  const port = await freePort()
  if (APP === 'rideshare') {
    const redis = await startRedisServer((fn) => cleanups.push(fn), ['--requirepass', 'image-test'])
    return {
      port,
      env: {
        KAFKA_BOOTSTRAP_SERVERS: BROKERS,
        KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
        KAFKA_GROUP_ID: base,
        KAFKA_AUTO_OFFSET_RESET: 'earliest',
        TOPIC_PREFIX: `${base}.`,
        REDIS_HOST: redis.host,
        REDIS_PORT: String(redis.port),
        // As the manifests pass secrets: a file (a Kubernetes Secret volume is mode 0644, root-owned).
        REDIS_PASSWORD_FILE: '/run/secrets/weir/redis-password',
        API_PORT: String(port),
        // The generator writes all six topics; the seed's default consumes four.
        PROCESSOR_TOPICS: 'gps_pings,trips,driver_status,surge_updates,driver_profiles,rider_profiles',
      },
    }
  }
  return {
    port,
    env: {
      KAFKA_BROKERS: BROKERS,
      GROUP_ID: base,
      INPUT_TOPIC: `${base}.in`,
      OUTPUT_TOPIC: `${base}.out`,
      DLQ_TOPIC: `${base}.dlq`,
      HEALTH_PORT: String(port),
    },
  }
}

async function main(): Promise<void> {
  // The image's contents.
  const inspect = JSON.parse(podman('image', 'inspect', IMAGE))[0] as {
    Size: number
    Healthcheck?: { Test: string[] }
    Config: { User: string; Entrypoint: string[]; Cmd: string[]; Healthcheck?: { Test: string[] } }
  }
  check('runs as a non-root numeric user', inspect.Config.User === '10001:10001', inspect.Config.User)
  check(
    'tini is the entrypoint',
    inspect.Config.Entrypoint.join(' ') === '/usr/bin/tini -- weir',
    inspect.Config.Entrypoint.join(' '),
  )
  // podman shows a Docker-format image's HEALTHCHECK at the top level (OCI images cannot carry one).
  const healthcheck = inspect.Healthcheck ?? inspect.Config.Healthcheck
  check(
    'HEALTHCHECK is set',
    healthcheck?.Test.includes('weir-healthcheck') === true,
    healthcheck?.Test.join(' '),
  )
  const listing = podman(
    'run',
    '--rm',
    '--entrypoint',
    'sh',
    IMAGE,
    '-c',
    'ls /app; ls /app/node_modules; ls /app/node_modules/.bin 2>/dev/null; command -v gcc make python3 tsc git || true',
  )
  const names = listing.split('\n')
  check(
    'no sources or tests in the image',
    !names.includes('src') && !names.includes('test'),
    names.slice(0, 8).join(' '),
  )
  check(
    'no dev dependencies (typescript, biome)',
    !names.includes('typescript') && !names.includes('@biomejs'),
  )
  check('no compiler or build tools', !/\/(gcc|make|python3|tsc|git)$/m.test(listing))
  process.stdout.write(`     image size ${(inspect.Size / 1e6).toFixed(0)} MB\n`)

  // The app in the image, under the seed's 256 MB limit.
  const base = `weir-image-test-${APP}-${Date.now().toString(36)}`
  cleanups.push(async () => {
    const admin = new Admin({ clientId: 'weir-image-test', bootstrapBrokers: BROKERS.split(',') })
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(base))
      if (topics.length) await admin.deleteTopics({ topics })
    } finally {
      await admin.close()
    }
  })
  const { env, port } = await envFor(base)
  const name = base
  cleanups.push(() => execFileSync('podman', ['rm', '-f', '-t', '0', name], { stdio: 'ignore' }))
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`])
  /** `weir produce` on the host: RATE records/s (0: as fast as it can) for RATE × SECONDS records. */
  const count = RATE * SECONDS
  const produce = async (rate: number) => {
    const extra = APP === 'rideshare' ? ['--drivers', DRIVERS, '--topic-prefix', env.TOPIC_PREFIX!] : []
    // The producer runs on the host, where the secret file's container path does not exist.
    const hostEnv: Record<string, string | undefined> = { ...process.env, ...env }
    if (hostEnv.REDIS_PASSWORD_FILE) {
      delete hostEnv.REDIS_PASSWORD_FILE
      hostEnv.REDIS_PASSWORD = 'image-test'
    }
    const producer = spawn(
      process.execPath,
      [
        `${ROOT}bin/weir.js`,
        'produce',
        APP,
        '--rate',
        String(rate),
        '--count',
        String(count),
        '--seed',
        '3',
        ...extra,
      ],
      {
        env: hostEnv,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
    cleanups.push(() => producer.kill('SIGKILL'))
    await new Promise((r) => producer.once('exit', r))
  }
  // --backlog: the records are waiting before the app starts, which it then reads as fast as it can
  // (catching up after an outage), the most memory it needs.
  if (BACKLOG) await produce(0)
  // --health-interval disable: podman schedules health checks with systemd timers, absent in a sandbox;
  // the check itself is run below with `podman healthcheck run`.
  podman(
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'host',
    '--memory',
    '256m',
    '--memory-swap',
    '256m',
    '--health-interval',
    'disable',
    // The Kubernetes pods' securityContext: read-only root filesystem with /tmp writable, every
    // capability dropped, no privilege escalation.
    '--read-only',
    '--tmpfs',
    '/tmp',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    ...(env.REDIS_PASSWORD_FILE ? ['-v', `${secretFile()}:${env.REDIS_PASSWORD_FILE}:ro`] : []),
    ...envArgs,
    IMAGE,
    'run',
    APP,
  )
  const deadline = Date.now() + 60_000
  while ((await health(port)) !== 'healthy') {
    if (Date.now() > deadline)
      throw new Error(`no healthy /health on :${port} in 60 s: ${podman('logs', name)}`)
    await sleep(500)
  }
  check('/health answers healthy', true)
  check('uid inside is 10001', podman('exec', name, 'id', '-u') === '10001')
  check('PID 1 is tini', podman('exec', name, 'cat', '/proc/1/cmdline').split('\0')[0] === '/usr/bin/tini')
  let hc = ''
  try {
    hc = podman('healthcheck', 'run', name)
    check('image HEALTHCHECK passes', true)
  } catch (err) {
    check('image HEALTHCHECK passes', false, String((err as { stdout?: string }).stdout ?? err) + hc)
  }

  if (!BACKLOG) await produce(RATE)
  const expected = count
  const until = Date.now() + 120_000
  let n = await consumed(port)
  while (n < expected && Date.now() < until) {
    await sleep(1000)
    n = await consumed(port)
  }
  check(
    `processed the load inside the container (${count} records ${BACKLOG ? 'as a backlog' : `at ${RATE}/s`})`,
    n >= expected,
    `${n} consumed`,
  )

  const id = podman('inspect', name, '--format', '{{.Id}}')
  const cgroup = `/sys/fs/cgroup/memory/machine.slice/libpod-${id}.scope`
  const peakFile = [
    `${cgroup}/memory.max_usage_in_bytes`,
    `/sys/fs/cgroup/memory/libpod_parent/libpod-${id}/memory.max_usage_in_bytes`,
  ].find(existsSync)
  const peak = peakFile ? Number(readFileSync(peakFile, 'utf8')) / 1024 / 1024 : Number.NaN
  process.stdout.write(
    `     container peak memory (cgroup, incl. page cache) ${peak.toFixed(0)} MB of 256 MB\n`,
  )

  const stopAt = performance.now()
  podman('stop', '-t', String(GRACE_SECONDS), name)
  const stopSeconds = (performance.now() - stopAt) / 1000
  const state = JSON.parse(podman('inspect', name))[0].State as { ExitCode: number; OOMKilled: boolean }
  check('SIGTERM stops it with exit code 0', state.ExitCode === 0, `exit ${state.ExitCode}`)
  check(
    `stopped within the ${GRACE_SECONDS} s grace period`,
    stopSeconds < GRACE_SECONDS,
    `${stopSeconds.toFixed(1)} s`,
  )
  check('not OOM-killed under 256 MB', !state.OOMKilled)
  const logs = execFileSync('podman', ['logs', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const stderrLogs = execFileSync('sh', ['-c', `podman logs ${name} 2>&1 1>/dev/null`], { encoding: 'utf8' })
  check(
    'the log shows a graceful stop',
    /"signal received, stopping gracefully"/.test(logs + stderrLogs) && /"stopped"/.test(logs + stderrLogs),
  )
}

try {
  await main()
} catch (err) {
  check('image test', false, err instanceof Error ? err.message : String(err))
} finally {
  for (const fn of cleanups.reverse())
    await Promise.resolve()
      .then(fn)
      .catch(() => {})
}
process.stdout.write(failures ? `${failures} check(s) failed\n` : 'all checks passed\n')
process.exitCode = failures ? 1 : 0

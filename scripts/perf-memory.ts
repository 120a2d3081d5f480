/**
 * Peak memory of each bundled app under a real memory limit (issue 14): each app runs as `weir run <app>`
 * inside its own cgroup v1 memory cgroup (`/sys/fs/cgroup/memory/weir-perf-mem-…`, limit written to
 * memory.limit_in_bytes; needs root), draining a pre-produced backlog at full speed, so the peak is the
 * worst case of any lower rate:
 *
 *   node scripts/perf-memory.ts [--apps traffic,traffic-windows,millionx,rideshare] [--limit-mb 256]
 *                               [--records 300000] [--rideshare-records 600000] [--drivers 100000]
 *                               [--node-flags "--max-semi-space-size=4 --max-old-space-size=153"]
 *
 * Per app: a fresh prefix for every topic and group; the input written by this process with the app's
 * own generator (outside the cgroup); then the app started in the cgroup (bin/weir.js sees the limit
 * and sizes V8 from it) and timed from its first consumed record (weir_records_consumed_total on
 * /metrics/prometheus, polled every 100 ms) until the group's committed offsets
 * reach the input's end offsets (nothing lost: every record committed, which Weir does only once its
 * outputs are written). Peak RSS is the kernel's high-water mark (VmHWM) of the app process; the
 * cgroup's own peak (memory.max_usage_in_bytes, which also counts page cache) and its OOM-kill count
 * are reported too. The cgroup, the topics and the private Redis (rideshare) are removed afterwards.
 * The last stdout line is one JSON array, one object per app.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { WeirApp } from '../src/apps/app.ts'
import { loadApp } from '../src/apps/index.ts'
import { encodeValue } from '../src/cli/feed.ts'
import { kafkaTransport } from '../src/connectors/kafka/index.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const WEIR = join(ROOT, 'bin', 'weir.js')
const CGROUP_ROOT = '/sys/fs/cgroup/memory'
const args = process.argv.slice(2)
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const apps = (opt('apps') ?? 'traffic,traffic-windows,millionx,rideshare').split(',')
const limitMb = Number(opt('limit-mb') ?? 256)
const records = Number(opt('records') ?? 300_000)
const rideshareRecords = Number(opt('rideshare-records') ?? 600_000)
const drivers = Number(opt('drivers') ?? 100_000)
/** V8 flags for the app instead of the ones bin/weir.js derives from the limit (experiments). */
const nodeFlags = (opt('node-flags') ?? '').split(' ').filter(Boolean)
const brokers = ['127.0.0.1:9092']
const stamp = Date.now().toString(36)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const log = (msg: string) => process.stderr.write(`[perf-memory] ${msg}\n`)

/** What differs per app: its env (topics, group, port) and the topic names its generator writes. */
interface Plan {
  readonly env: Record<string, string>
  readonly group: string
  readonly topicOf: (generated: string) => string
  readonly partitions: number
  readonly generatorOptions: Record<string, unknown>
}

function planOf(app: string, prefix: string, port: number, redisPort: number): Plan {
  switch (app) {
    case 'traffic':
      return {
        env: {
          KAFKA_BROKERS: brokers.join(','),
          GROUP_ID: `${prefix}group`,
          INPUT_TOPIC: `${prefix}traffic-raw`,
          OUTPUT_TOPIC: `${prefix}traffic-events`,
          DLQ_TOPIC: `${prefix}traffic-raw-dlq`,
          HEALTH_PORT: String(port),
          HEALTH_HOST: '127.0.0.1',
        },
        group: `${prefix}group`,
        topicOf: () => `${prefix}traffic-raw`,
        partitions: 5,
        generatorOptions: { seed: 1, invalidShare: 0.05 },
      }
    case 'traffic-windows':
      return {
        env: {
          KAFKA_BROKERS: brokers.join(','),
          GROUP_ID: `${prefix}group`,
          INPUT_TOPIC: `${prefix}traffic-events`,
          OUTPUT_TOPIC: `${prefix}traffic-aggregates`,
          DLQ_TOPIC: `${prefix}traffic-aggregates-dlq`,
          HEALTH_PORT: String(port),
          HEALTH_HOST: '127.0.0.1',
        },
        group: `${prefix}group`,
        topicOf: () => `${prefix}traffic-events`,
        partitions: 5,
        // Event time from 3 hours ago, 10 ms apart: windows fill and close as the backlog drains.
        generatorOptions: { seed: 1, eventStepMs: 10, start: Date.now() - 3 * 3_600_000 },
      }
    case 'millionx':
      return {
        env: {
          KAFKA_BOOTSTRAP_SERVERS: brokers.join(','),
          KAFKA_GROUP_ID: `${prefix}group`,
          TOPIC_PREFIX: prefix,
          DLQ_TOPIC: `${prefix}schema-validation-errors`,
          WEB_PORT: String(port),
          WEB_HOST: '127.0.0.1',
        },
        group: `${prefix}group`,
        topicOf: (t) => prefix + t,
        partitions: 3,
        generatorOptions: { seed: 1, invalidShare: 0.05 },
      }
    case 'rideshare':
      // As scripts/perf-rideshare.ts: 100 ms windows, `latest`, the seed's Redis password on a private Redis.
      return {
        env: {
          KAFKA_BOOTSTRAP_SERVERS: brokers.join(','),
          KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
          KAFKA_GROUP_ID: `${prefix}group`,
          KAFKA_AUTO_OFFSET_RESET: 'earliest',
          TOPIC_PREFIX: prefix,
          // All six of the generator's topics (the seed's default list leaves out the two profile topics).
          PROCESSOR_TOPICS: 'gps_pings,trips,driver_status,surge_updates,driver_profiles,rider_profiles',
          PROCESSOR_WINDOW_SIZE_MS: '100',
          PROCESSOR_AGGREGATION_STRATEGY: 'latest',
          REDIS_HOST: '127.0.0.1',
          REDIS_PORT: String(redisPort),
          API_HOST: '127.0.0.1',
          API_PORT: String(port),
        },
        group: `${prefix}group`,
        topicOf: (t) => prefix + t,
        partitions: 1,
        generatorOptions: { seed: 1, drivers },
      }
    default:
      throw new Error(`no memory plan for app ${app}`)
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((r) => server.close(r))
  return port
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

function statusKb(pid: number, field: string): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(s)?.[1] ?? 0)
  } catch {
    return 0
  }
}

function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Writes `n` generated records for the app to its (prefixed) input topics; returns the topics. */
async function produce(app: WeirApp, plan: Plan, n: number): Promise<string[]> {
  const g = app.generator?.(plan.generatorOptions)
  if (!g) throw new Error(`app ${app.name} has no generator`)
  const kafka = kafkaTransport({ brokers })
  const admin = kafka.admin()
  const sink = kafka.sink({ clientId: 'perf-memory-producer' })
  await sink.open()
  const topics = new Set<string>()
  try {
    for (let i = 0; i < n; i++) {
      const r = g.next()
      const topic = plan.topicOf(r.topic)
      if (!topics.has(topic)) {
        // Kept whatever their record timestamps say (old event times would be deleted by retention).
        await admin.ensureTopics([
          {
            name: topic,
            partitions: plan.partitions,
            replicationFactor: 1,
            config: { 'retention.ms': '-1' },
          },
        ])
        topics.add(topic)
      }
      const value = g.encode ? await g.encode(r) : encodeValue(r.value)
      sink.add({ topic, key: r.key === null ? null : Buffer.from(r.key), value, timestamp: r.timestamp })
      if (i % 5000 === 4999) await sink.flush()
    }
    await sink.flush()
  } finally {
    await sink.close()
    await admin.close()
  }
  return [...topics]
}

async function offsets(topics: string[], group: string): Promise<{ end: number; committed: number }> {
  const admin = kafkaTransport({ brokers }).admin()
  try {
    let end = 0
    let committed = 0
    for (const v of (await admin.endOffsets(topics)).values()) end += v
    for (const v of (await admin.committedOffsets(group, topics)).values()) committed += v
    return { end, committed }
  } finally {
    await admin.close()
  }
}

async function measure(name: string): Promise<Record<string, unknown>> {
  const app = await loadApp(name)
  const prefix = `perf-mem-${stamp}-${name}.`
  const port = await freePort()
  let redis: ChildProcess | undefined
  let redisDir: string | undefined
  const redisPort = await freePort()
  if (name === 'rideshare') {
    redisDir = await mkdtemp(join(tmpdir(), 'perf-mem-redis-'))
    redis = spawn(
      'redis-server',
      [
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
        '--requirepass',
        'admin',
        '--save',
        '',
        '--dir',
        redisDir,
      ],
      { stdio: 'ignore' },
    )
    await sleep(300)
  }
  const plan = planOf(name, prefix, port, redisPort)
  const n = name === 'rideshare' ? rideshareRecords : records
  log(`${name}: producing ${n} records to ${prefix}*`)
  const topics = await produce(app, plan, n)
  const cgroup = join(CGROUP_ROOT, `weir-perf-mem-${stamp}-${name}`)
  mkdirSync(cgroup)
  let child: ChildProcess | undefined
  try {
    writeFileSync(join(cgroup, 'memory.limit_in_bytes'), String(limitMb * 2 ** 20))
    // The shell joins the cgroup, then becomes `weir run` (exec): the app and everything it starts are inside.
    child = spawn(
      'sh',
      [
        '-c',
        `echo $$ > ${cgroup}/cgroup.procs && exec "$0" "$@"`,
        process.execPath,
        ...nodeFlags,
        WEIR,
        'run',
        name,
      ],
      { env: { ...process.env, ...plan.env, LOG_LEVEL: 'WARN' }, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const pid = child.pid as number
    const deadline = Date.now() + 600_000
    let t0 = 0
    let cpu0 = 0
    let rssAtStart = 0
    let peakSampled = 0
    let o = { end: n, committed: 0 }
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `weir run ${name} exited (${child.exitCode ?? child.signalCode}): ${stderr.slice(-2000)}`,
        )
      if (Date.now() > deadline) throw new Error(`${name}: not drained in 600 s`)
      peakSampled = Math.max(peakSampled, statusKb(pid, 'VmRSS') / 1024)
      o = await offsets(topics, plan.group)
      if (t0 === 0 && (await consumedSoFar(port)) > 0) {
        t0 = performance.now()
        cpu0 = cpuOf(pid)
      }
      if (t0 === 0) rssAtStart = statusKb(pid, 'VmRSS') / 1024
      if (o.committed >= o.end) break
      await sleep(100)
    }
    const seconds = (performance.now() - t0) / 1000
    const cpuSeconds = cpuOf(pid) - cpu0
    const hwm = statusKb(pid, 'VmHWM') / 1024
    const v8Flags = (process.env.WEIR_V8_SIZED ?? '') || cmdlineFlags(pid)
    child.kill('SIGTERM')
    const code = await exited(child)
    const read = (f: string) => readFileSync(join(cgroup, f), 'utf8')
    const oomKills = Number(/oom_kill (\d+)/.exec(read('memory.oom_control'))?.[1] ?? 0)
    const result = {
      app: name,
      limitMb,
      records: n,
      seconds: Math.round(seconds * 100) / 100,
      recordsPerSec: Math.round(n / seconds),
      peakRssMb: Math.round(hwm),
      peakRssSampledMb: Math.round(peakSampled),
      rssBeforeFirstRecordMb: Math.round(rssAtStart),
      cgroupPeakMb: Math.round(Number(read('memory.max_usage_in_bytes')) / 2 ** 20),
      cgroupFailcnt: Number(read('memory.failcnt')),
      oomKills,
      committed: o.committed,
      endOffsets: o.end,
      exitCode: code,
      cpuSecondsPerMillion: Math.round((cpuSeconds / (n / 1e6)) * 10) / 10,
      v8Flags,
      loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
    }
    log(JSON.stringify(result))
    return result
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited(child)
    }
    // A cgroup can only be removed once empty: wait for the app's exit to reach it.
    for (let i = 0; i < 50 && existsSync(cgroup); i++) {
      try {
        rmdirSync(cgroup)
      } catch {
        await sleep(100)
      }
    }
    redis?.kill('SIGTERM')
    if (redis) await exited(redis)
    if (redisDir) await rm(redisDir, { recursive: true, force: true })
    const admin = kafkaTransport({ brokers }).admin()
    await admin.deleteTopics((await admin.listTopics()).filter((t) => t.startsWith(prefix)))
    await admin.close()
  }
}

/** Records the app has read so far (its Prometheus counter, all topics), 0 until its server answers. */
async function consumedSoFar(port: number): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics/prometheus`)).text()
    let n = 0
    for (const line of text.split('\n'))
      if (line.startsWith('weir_records_consumed_total')) n += Number(line.split(' ').pop())
    return n
  } catch {
    return 0
  }
}

/** The V8 heap flags `bin/weir.js` re-executed itself with, read from the process's command line. */
function cmdlineFlags(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a.startsWith('--max-'))
      .join(' ')
  } catch {
    return ''
  }
}

const results: Record<string, unknown>[] = []
for (const name of apps) results.push(await measure(name))
process.stdout.write(`${JSON.stringify(results)}\n`)
process.exit(0)

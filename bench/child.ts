/**
 * One benchmark step in its own process, so RSS and CPU are per workload:
 *
 *   node bench/child.ts produce  <json>   pre-produce generated input (not timed)
 *   node bench/child.ts run      <json>   run one workload over the pre-produced input, print its figures
 *   node bench/child.ts latency  <json>   run workload 1, 2 or 5 while a paced producer writes a steady rate
 *   node bench/child.ts pace     <json>   the paced producer (spawned by `latency`)
 *   node bench/child.ts cleanup  <json>   delete every topic whose name starts with `prefix`
 *
 * The last stdout line of every mode is one JSON object (the parent parses it).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { AppGenerator, WeirApp as WeirAppLike } from '../src/apps/app.ts'
import { RIDESHARE_RUN_LIMITS, rideshareApp } from '../src/apps/rideshare/app.ts'
import { ridesharePipeline } from '../src/apps/rideshare/pipeline.ts'
import { AVRO_DEFECTS, trafficApp, trafficPipeline } from '../src/apps/traffic/app.ts'
import { rawArchive } from '../src/apps/traffic/archive.ts'
import { avroFormats } from '../src/apps/traffic/avro.ts'
import { type DqPreset, loadTrafficRules, trafficQuality } from '../src/apps/traffic/rules.ts'
import { trafficWindowsApp, trafficWindowsPipeline } from '../src/apps/traffic-windows/app.ts'
import { encodeValue } from '../src/cli/feed.ts'
import { type KafkaOptions, type KafkaTransport, kafkaTransport } from '../src/connectors/kafka/index.ts'
import type { ParquetSink } from '../src/connectors/parquet/index.ts'
import { redisPublishSink } from '../src/connectors/redis/index.ts'
import { bytes } from '../src/core/serde.ts'
import { type Pipeline, pipeline } from '../src/dsl/stream.ts'
import { trafficGenerator } from '../src/generators/index.ts'
import { silentLogger } from '../src/log/logger.ts'
import { createMetrics } from '../src/ops/index.ts'
import { run } from '../src/runtime/runner.ts'
import { waitForRegistry } from '../src/serdes/registry/wait.ts'

export type WorkloadName = 'passthrough' | 'traffic' | 'windows' | 'rideshare' | 'avro' | 'archive'

export interface ChildArgs {
  readonly workload: WorkloadName
  readonly brokers: string[]
  /** Topic name prefix, fresh per run. */
  readonly prefix: string
  /** Read this input instead of `<prefix>in` (a second contender on the same pre-produced input). */
  readonly input?: string
  readonly partitions: number
  readonly records: number
  /** latency / pace */
  readonly rate?: number
  readonly seconds?: number
  readonly redisPort?: number
  /** Workload 5: the schema registry's Confluent-compatible API. */
  readonly registryUrl?: string
  /**
   * Experiments: Kafka client tuning and run options for the processor under test (not the load
   * generator), e.g. `{"run":{"maxBacklog":5000},"kafka":{"producer":{"lingerMs":0}}}`.
   */
  readonly tuning?: {
    readonly run?: {
      readonly maxInFlight?: number
      readonly maxBacklog?: number
      readonly checkpointIntervalMs?: number
      /** `exactly-once` for the exactly-once rows (Kafka Streams' `exactly_once_v2` beside it). */
      readonly processing?: 'at-least-once' | 'exactly-once'
    }
    readonly kafka?: Pick<KafkaOptions, 'consumer' | 'producer'>
    /** The latency test's load generator and probe (default: a 5 ms producer linger, see `pace`). */
    readonly pacer?: Pick<KafkaOptions, 'consumer' | 'producer'>
  }
  /** run: write a V8 CPU profile of the timed span only (start-up and shutdown excluded) to this path. */
  readonly profile?: string
  /**
   * Workloads 2, 5 and archive: the traffic app's data-quality preset (`DQ_RULES`). Default `seed-001`, the
   * app's default and the six stateless checks the Kafka Streams program makes too; `seed-002` adds seed
   * 002's rules and a durable dedupe of sensor_id + timestamp (a state write and a changelog record per reading).
   */
  readonly dq?: DqPreset
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const total = (c: { get(): number }): number => (c as { total?: () => number }).total?.() ?? c.get()

export const RIDESHARE_TOPICS = [
  'gps_pings',
  'trips',
  'driver_status',
  'surge_updates',
  'driver_profiles',
  'rider_profiles',
] as const

export function topicsOf(a: ChildArgs): { input: string; output: string; dlq: string } {
  return { input: a.input ?? `${a.prefix}in`, output: `${a.prefix}out`, dlq: `${a.prefix}dlq` }
}

export function generatorOf(a: ChildArgs): AppGenerator {
  const w = a.workload
  const need = (g: WeirAppLike['generator']): NonNullable<WeirAppLike['generator']> => {
    if (!g) throw new Error(`app of workload ${w} has no generator`)
    return g
  }
  switch (w) {
    case 'passthrough':
      return need(trafficApp.generator)({ seed: 1, invalidShare: 0 })
    case 'traffic':
    case 'archive':
      return need(trafficApp.generator)({ seed: 1, invalidShare: 0.05 })
    case 'windows':
      return need(trafficWindowsApp.generator)({
        seed: 1,
        eventStepMs: 50,
        start: Date.parse('2026-01-01T00:00:00Z'),
      })
    case 'rideshare':
      return need(rideshareApp.generator)({ seed: 1, drivers: 100_000 })
    case 'avro': {
      // Workload 2's readings (5 % invalid, with the defects an Avro MetrLaReading can carry), written
      // as the traffic app writes them with VALUE_FORMAT=avro: the first one registers the schema.
      const g = trafficGenerator({ seed: 1, invalidShare: 0.05, defects: AVRO_DEFECTS })
      const input = avroOf(a).input
      return {
        next: () => g.next(),
        encode: (r) =>
          input.serialize(r.value as Parameters<typeof input.serialize>[0], {
            topic: topicsOf(a).input,
            isKey: false,
          }),
      }
    }
  }
}

/** The traffic app's Avro serdes against the registry (one client per process, as an app has). */
let avroSerdes: ReturnType<typeof avroFormats> | undefined
function avroOf(a: ChildArgs): ReturnType<typeof avroFormats> {
  if (a.registryUrl === undefined) throw new Error('workload avro needs registryUrl')
  avroSerdes ??= avroFormats({
    url: a.registryUrl,
    userInfo: undefined,
    autoRegister: true,
    strategy: 'TopicNameStrategy',
  })
  return avroSerdes
}

/** A generated value as the workload's input bytes: JSON, or the generator's own encoding (Avro). */
async function encodeOf(g: AppGenerator, r: ReturnType<AppGenerator['next']>): Promise<Buffer | null> {
  return g.encode ? await g.encode(r) : encodeValue(r.value)
}

/** Run options a workload's app uses besides the common ones. */
/** How the processor under test runs (both the throughput and the latency child). */
function processorRunOptions(a: ChildArgs, deadLetterTopic: string) {
  return {
    groupId: `${a.prefix}group`,
    clientId: `${a.prefix}client`,
    fromBeginning: true,
    deadLetterTopic,
    topics: { partitions: a.partitions },
    logger: silentLogger,
    ...appRunOptions(a),
    ...a.tuning?.run,
  }
}

function appRunOptions(a: ChildArgs) {
  switch (a.workload) {
    // `weir run rideshare` (src/apps/rideshare/app.ts): 100 ms checkpoints (PROCESSOR_CHECKPOINT_INTERVAL_MS's
    // default) and the app's backlog / in-flight limits.
    case 'rideshare':
      return { checkpointIntervalMs: 100, ...RIDESHARE_RUN_LIMITS }
    // `weir run traffic` with a registry: a record held up by a registry outage waits instead of dead-lettering.
    case 'avro':
      return waitForRegistry()
    default:
      return {}
  }
}

function pipelineOf(a: ChildArgs, redis?: ReturnType<typeof redisPublishSink>): Pipeline {
  const t = topicsOf(a)
  switch (a.workload) {
    case 'passthrough': {
      const p = pipeline('bench-pt')
      p.stream<unknown>(t.input, { partitions: a.partitions })
        .map((v) => v, { name: 'identity' })
        .to(t.output, { partitions: a.partitions })
      return p
    }
    case 'traffic':
      return trafficPipeline(
        {
          INPUT_TOPIC: t.input,
          OUTPUT_TOPIC: t.output,
          CLIENT_ID: 'bench',
          INPUT_PARTITIONS: a.partitions,
          GROUP_ID: `${a.prefix}group`,
        },
        () => Date.now(),
        {},
        { quality: qualityOf(a) },
      )
    case 'archive':
      // Workload 2 with the Parquet raw archive on (seed 002 §2.6): the same app, the sink in the checkpoint.
      return trafficPipeline(
        {
          INPUT_TOPIC: t.input,
          OUTPUT_TOPIC: t.output,
          CLIENT_ID: 'bench',
          INPUT_PARTITIONS: a.partitions,
          GROUP_ID: `${a.prefix}group`,
        },
        () => Date.now(),
        {},
        { archive: archiveSinkOf(a), quality: qualityOf(a) },
      )
    case 'windows':
      return trafficWindowsPipeline({
        GROUP_ID: `${a.prefix}windows`,
        INPUT_TOPIC: t.input,
        OUTPUT_TOPIC: t.output,
        INPUT_PARTITIONS: a.partitions,
        WINDOW_SIZE: 300_000,
        WINDOW_GRACE: 60_000,
      })
    case 'avro': {
      const formats = avroOf(a)
      return trafficPipeline(
        { INPUT_TOPIC: t.input, OUTPUT_TOPIC: t.output, CLIENT_ID: 'bench', INPUT_PARTITIONS: a.partitions },
        () => Date.now(),
        { input: formats.input, output: formats.output },
        { quality: qualityOf(a) },
      )
    }
    case 'rideshare':
      if (!redis) throw new Error('rideshare needs redis')
      return ridesharePipeline({
        topics: [...RIDESHARE_TOPICS],
        prefix: a.prefix,
        partitions: a.partitions,
        windowSizeMs: 100,
        strategy: 'latest',
        sampleRate: 10,
        sink: redis,
      })
  }
}

/** The data-quality rules of the traffic workloads (`dq`, default seed-001: Kafka Streams' six checks). */
function qualityOf(a: ChildArgs) {
  return trafficQuality(loadTrafficRules({ DQ_RULES: a.dq ?? 'seed-001' }), { now: () => Date.now() })
}

/**
 * The archive of workload `archive`: the app's defaults (zstd, 1,000,000 rows or 64 MB per file)
 * except files close every second instead of every minute, so the run ends soon after its last record is archived.
 */
let archiveSink: ParquetSink | undefined
function archiveSinkOf(a: ChildArgs): ParquetSink {
  archiveSink ??= rawArchive(
    {
      ARCHIVE_DIR: mkdtempSync(join(tmpdir(), 'weir-bench-archive-')),
      ARCHIVE_CODEC: 'zstd',
      ARCHIVE_ROLL_ROWS: 1_000_000,
      ARCHIVE_ROLL_BYTES: 64 * 2 ** 20,
      ARCHIVE_ROLL_INTERVAL: 1000,
    },
    { rollOnCheckpoint: false },
  )
  if (archiveSink === undefined) throw new Error(`workload ${a.workload}: no archive`)
  return archiveSink
}

async function endSum(kafka: KafkaTransport, topics: string[]): Promise<number> {
  const admin = kafka.admin()
  try {
    const ends = await admin.endOffsets(topics)
    let n = 0
    for (const v of ends.values()) n += v
    return n
  } finally {
    await admin.close()
  }
}

async function committedSum(kafka: KafkaTransport, group: string, topics: string[]): Promise<number> {
  const admin = kafka.admin()
  try {
    let n = 0
    for (const v of (await admin.committedOffsets(group, topics)).values()) n += Math.max(0, v)
    return n
  } finally {
    await admin.close()
  }
}

async function produce(a: ChildArgs): Promise<unknown> {
  const kafka = kafkaTransport({ brokers: a.brokers })
  const g = generatorOf(a)
  const t = topicsOf(a)
  const admin = kafka.admin()
  const inputs = inputTopicsOf(a)
  // Kept whatever their record timestamps: the windows workload's event times start in January, and the
  // broker's time-based retention would delete such segments within minutes of writing them.
  await admin.ensureTopics(
    inputs.map((name) => ({ name, partitions: a.partitions, replicationFactor: 1, config: RETAIN_FOREVER })),
  )
  await admin.close()
  const sink = kafka.sink({ clientId: 'bench-producer' })
  await sink.open()
  let gps = 0
  let bytes = 0
  try {
    for (let i = 0; i < a.records; i++) {
      const r = g.next()
      const topic = a.workload === 'rideshare' ? a.prefix + r.topic : t.input
      if (a.workload === 'rideshare' && r.topic === 'gps_pings') gps++
      const value = await encodeOf(g, r)
      bytes += value?.length ?? 0
      sink.add({ topic, key: r.key === null ? null : Buffer.from(r.key), value, timestamp: r.timestamp })
      if (i % 5000 === 4999) await sink.flush()
    }
    await sink.flush()
  } finally {
    await sink.close()
  }
  if (a.records > 0) await checkInput(kafka, a)
  return { produced: a.records, gps, avgValueBytes: bytes / a.records }
}

const RETAIN_FOREVER = { 'retention.ms': '-1', 'retention.bytes': '-1' } as const

function inputTopicsOf(a: ChildArgs): string[] {
  return a.workload === 'rideshare' ? RIDESHARE_TOPICS.map((x) => a.prefix + x) : [topicsOf(a).input]
}

/**
 * The input is whole: every partition still starts at offset 0 and the end offsets add up to the records
 * produced. Checked after producing and again before each timed run, so a run never measures a topic the
 * broker has emptied (throws, naming the topic, otherwise).
 */
export async function checkInput(kafka: KafkaTransport, a: ChildArgs): Promise<void> {
  const admin = kafka.admin()
  try {
    const topics = inputTopicsOf(a)
    const begin = await admin.beginningOffsets(topics)
    const end = await admin.endOffsets(topics)
    let n = 0
    for (const v of end.values()) n += v
    const trimmed = [...begin].filter(([, v]) => v !== 0).map(([k, v]) => `${k} starts at ${v}`)
    if (trimmed.length > 0 || n !== a.records)
      throw new Error(
        `bench input ${topics.join(',')} is not whole: ${n} records for ${a.records} expected${trimmed.length ? `; ${trimmed.join(', ')}` : ''}`,
      )
  } finally {
    await admin.close()
  }
}

/** Deletes the topics of one round: everything named `<prefix>…` (retention -1 would keep them forever). */
async function cleanup(a: ChildArgs): Promise<unknown> {
  const admin = kafkaTransport({ brokers: a.brokers }).admin()
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(a.prefix))
    await admin.deleteTopics(topics)
    return { deleted: topics.length }
  } finally {
    await admin.close()
  }
}

/** Peaks of RSS, of the JS heap in use and of Buffer memory (outside the heap), sampled every 100 ms. */
function startSampler(): { peak(): number; peakHeap(): number; peakBuffers(): number; stop(): void } {
  let peak = 0
  let peakHeap = 0
  let peakBuffers = 0
  const sample = () => {
    const m = process.memoryUsage()
    if (m.rss > peak) peak = m.rss
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed
    if (m.arrayBuffers > peakBuffers) peakBuffers = m.arrayBuffers
  }
  sample()
  const timer = setInterval(sample, 100)
  return {
    peak: () => peak,
    peakHeap: () => peakHeap,
    peakBuffers: () => peakBuffers,
    stop: () => clearInterval(timer),
  }
}

/** The kernel's peak resident set of this process (VmHWM), as the Kafka Streams program reports its own. */
function hwmRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) / 1024 : Number.NaN
}

/** The V8 sampling profiler over the inspector protocol, so a profile covers exactly the timed span. */
async function startProfiler(): Promise<{ stop(): Promise<unknown> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop')
      session.disconnect()
      return profile
    },
  }
}

async function runWorkload(a: ChildArgs): Promise<unknown> {
  const sampler = startSampler()
  const kafka = kafkaTransport({ brokers: a.brokers, ...a.tuning?.kafka })
  const t = topicsOf(a)
  await checkInput(kafka, a)
  const redis =
    a.workload === 'rideshare'
      ? redisPublishSink({ host: '127.0.0.1', port: a.redisPort ?? 6379, name: 'bench' })
      : undefined
  const metrics = createMetrics()
  const running = await run(pipelineOf(a, redis), {
    transport: kafka,
    metrics,
    ...processorRunOptions(a, t.dlq),
  })
  const m = running.task.metrics
  // How much waits in the runtime: records in flight and unflushed sink items, sampled every 10 ms.
  const queued = { n: 0, inFlight: 0, backlog: 0, maxInFlight: 0, maxBacklog: 0 }
  const queueTimer = setInterval(() => {
    const f = running.task.tracker.inFlight()
    const b = running.task.backlog()
    queued.n++
    queued.inFlight += f
    queued.backlog += b
    if (f > queued.maxInFlight) queued.maxInFlight = f
    if (b > queued.maxBacklog) queued.maxBacklog = b
  }, 10)
  // Clock starts at the first consumed record: group join and topic creation are excluded.
  // A run that never starts (group join or a transactional producer's init stuck on a busy broker) fails
  // with a reason instead of hanging the bench.
  const startBy = Date.now() + 180_000
  while (total(m.consumed) === 0) {
    if (Date.now() > startBy) throw new Error(`workload ${a.workload}: no record consumed within 180 s`)
    await sleep(2)
  }
  const profiler = a.profile === undefined ? undefined : await startProfiler()
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  // Kafka→Kafka workloads with one output per input (or a dead letter): done when outputs + dead letters
  // reach the input count (end offsets). Windows and rideshare emit fewer records than they read: done
  // when every input record is consumed and the checkpoint after it has flushed the sinks.
  const byOffsets =
    a.workload === 'passthrough' ||
    a.workload === 'traffic' ||
    a.workload === 'avro' ||
    a.workload === 'archive'
  // Exactly-once: done when the group's committed input offsets reach the end, i.e. the last transaction
  // committed (end offsets would count the transaction markers too).
  const byCommits = a.tuning?.run?.processing === 'exactly-once'
  let t1 = 0
  for (;;) {
    if (byCommits) {
      if ((await committedSum(kafka, `${a.prefix}group`, inputTopicsOf(a))) >= a.records) break
      await sleep(20)
    } else if (byOffsets) {
      if ((await endSum(kafka, [t.output, t.dlq])) >= a.records) break
      await sleep(20)
    } else {
      if (total(m.consumed) >= a.records) break
      await sleep(5)
    }
  }
  // The archive: done once every row is in a published file (nothing held back from the commit).
  if (archiveSink !== undefined)
    while (archiveSink.holdback().length > 0 || archiveSink.backlog() > 0) await sleep(20)
  t1 = performance.now()
  const cpu = process.cpuUsage(cpu0)
  if (profiler && a.profile) writeFileSync(a.profile, JSON.stringify(await profiler.stop()))
  const consumed = total(m.consumed)
  const produced = total(m.produced)
  const deadLettered = total(m.deadLettered)
  clearInterval(queueTimer)
  await running.stop('bench done')
  await redis?.close()
  sampler.stop()
  const seconds = (t1 - t0) / 1000
  return {
    records: a.records,
    seconds,
    recordsPerSec: a.records / seconds,
    consumed,
    produced,
    deadLettered,
    peakRssMb: sampler.peak() / 2 ** 20,
    hwmRssMb: hwmRssMb(),
    peakHeapUsedMb: sampler.peakHeap() / 2 ** 20,
    peakBuffersMb: sampler.peakBuffers() / 2 ** 20,
    meanInFlight: queued.inFlight / Math.max(1, queued.n),
    meanBacklog: queued.backlog / Math.max(1, queued.n),
    maxInFlight: queued.maxInFlight,
    maxBacklog: queued.maxBacklog,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    cpuSecondsPerMillion: (cpu.user + cpu.system) / 1e6 / (a.records / 1e6),
  }
}

/**
 * The paced producer and the probe: a steady `rate` records/s for `seconds`, each stamped with header
 * bench-sent-at (epoch ms, fractional); a second pipeline in this process (not the one measured) reads
 * the output and dead-letter topics and records arrival time − bench-sent-at for each record.
 */
async function pace(a: ChildArgs): Promise<unknown> {
  // The load generator stands for an upstream application: it lingers 5 ms like Kafka's Java producer
  // (linger.ms=5 by default since Kafka 4.0), not like Weir's sink (0).
  const kafka = kafkaTransport({ brokers: a.brokers, producer: { lingerMs: 5 }, ...a.tuning?.pacer })
  const t = topicsOf(a)
  const nowMs = () => performance.timeOrigin + performance.now()
  const samples: Array<{ sentAt: number; ms: number }> = []
  const probe = pipeline('bench-probe')
  for (const topic of [t.output, t.dlq]) {
    probe.stream<Buffer | null>(topic, { value: bytes(), name: `probe-${topic}` }).peek(
      (_v, r) => {
        const h = r.headers['bench-sent-at']
        if (h === undefined) return
        const sentAt = Number(h.toString())
        samples.push({ sentAt, ms: nowMs() - sentAt })
      },
      { name: `lat-${topic}` },
    )
  }
  const probing = await run(probe, {
    transport: kafka,
    metrics: createMetrics(),
    groupId: `${a.prefix}probe`,
    clientId: `${a.prefix}probe`,
    fromBeginning: true,
    deadLetterTopic: `${a.prefix}probe-dlq`,
    topics: { partitions: a.partitions },
    logger: silentLogger,
  })
  while (probing.assignment().length === 0) await sleep(20)
  const g = generatorOf(a)
  const sink = kafka.sink({ clientId: 'bench-pacer' })
  await sink.open()
  const rate = a.rate ?? 5000
  const n = Math.round(rate * (a.seconds ?? 10))
  const start = performance.now()
  let sent = 0
  while (sent < n) {
    const due = Math.min(n, Math.floor(((performance.now() - start) / 1000) * rate))
    while (sent < due) {
      const r = g.next()
      const value = await encodeOf(g, r)
      const now = nowMs()
      sink.add({
        topic: t.input,
        key: r.key === null ? null : Buffer.from(r.key),
        value,
        headers: { 'bench-sent-at': Buffer.from(now.toFixed(3)) },
        timestamp: Math.floor(now),
      })
      sent++
    }
    await sleep(1)
  }
  const paceSeconds = (performance.now() - start) / 1000
  await sink.flush()
  await sink.close()
  const deadline = Date.now() + 60_000
  while (samples.length < sent && Date.now() < deadline) await sleep(50)
  await probing.stop('bench done')
  // The first second is warm-up (JIT, first fetches) and is left out.
  let first = Number.POSITIVE_INFINITY
  for (const s of samples) if (s.sentAt < first) first = s.sentAt
  const lat = samples.filter((s) => s.sentAt >= first + 1000).map((s) => s.ms)
  lat.sort((x, y) => x - y)
  return {
    sent,
    paceSeconds,
    received: samples.length,
    measured: lat.length,
    p50: percentile(lat, 0.5),
    p95: percentile(lat, 0.95),
    p99: percentile(lat, 0.99),
    max: lat[lat.length - 1] ?? Number.NaN,
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

/** Runs workload 1, 2 or 5 while `pace` writes a steady rate and measures produce → output arrival. */
async function latency(a: ChildArgs): Promise<unknown> {
  const kafka = kafkaTransport({ brokers: a.brokers, ...a.tuning?.kafka })
  const t = topicsOf(a)
  const admin = kafka.admin()
  await admin.ensureTopics([
    { name: t.input, partitions: a.partitions, replicationFactor: 1 },
    { name: t.output, partitions: a.partitions, replicationFactor: 1 },
    { name: t.dlq, partitions: 1, replicationFactor: 1 },
  ])
  await admin.close()
  const running = await run(pipelineOf(a), {
    transport: kafka,
    metrics: createMetrics(),
    ...processorRunOptions(a, t.dlq),
  })
  while (running.assignment().length === 0) await sleep(20)
  // Where the processor's own pauses come from: GC pauses and event-loop delay while the pacer runs.
  const gc = { minor: [] as number[], major: [] as number[] }
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind
      const list = kind === constants.NODE_PERFORMANCE_GC_MINOR ? gc.minor : gc.major
      list.push(e.duration)
    }
  })
  gcObserver.observe({ entryTypes: ['gc'] })
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const pacer = spawn(process.execPath, [fileURLToPath(import.meta.url), 'pace', JSON.stringify(a)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  pacer.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const code = await new Promise<number | null>((r) => pacer.once('exit', r))
  loopDelay.disable()
  gcObserver.disconnect()
  await running.stop('bench done')
  if (code !== 0) throw new Error(`pacer exited ${code}`)
  const pauses = (xs: number[]) => {
    const v = [...xs].sort((x, y) => x - y)
    return {
      count: v.length,
      p50: percentile(v, 0.5),
      max: v[v.length - 1] ?? 0,
      totalMs: v.reduce((x, y) => x + y, 0),
    }
  }
  return {
    ...JSON.parse(out.trim().split('\n').pop() as string),
    gcMinor: pauses(gc.minor),
    gcMajor: pauses(gc.major),
    loopDelayMs: {
      p50: loopDelay.percentile(50) / 1e6,
      p99: loopDelay.percentile(99) / 1e6,
      max: loopDelay.max / 1e6,
    },
  }
}

const [mode, json] = process.argv.slice(2)
if (mode !== undefined && json !== undefined) {
  const a = JSON.parse(json) as ChildArgs
  const f = { produce, run: runWorkload, latency, pace, cleanup }[mode]
  if (!f) throw new Error(`unknown mode ${mode}`)
  const result = await f(a)
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(0)
}

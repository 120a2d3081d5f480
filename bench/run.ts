/**
 * Weir benchmark harness: `npm run bench` (full: 3 runs per figure) or `npm run bench -- --quick`
 * (1 run, small inputs, < 2 min). Starts the services (scripts/services.sh), measures Kafka's own
 * ceiling with ProducerPerformance / ConsumerPerformance, runs each workload in its own child process
 * over fresh topics with pre-produced input, measures latency at a steady rate, profiles workload 1
 * once, and writes bench/results/<date>.json, bench/results/<date>.svg and (full mode) the table in
 * BENCHMARKS.md.
 *
 * Workload 5 (Avro through the schema registry) is skipped, with a note in the table, when the registry
 * does not answer.
 *
 * Kafka Streams beside Weir (bench/kstreams/, built with Maven on first use): workloads 1–3 run in every
 * round on the same pre-produced input, interleaved (Weir, Kafka Streams, Kafka Streams with a tuned
 * producer; the next round in the other order), and workload 1 also exactly-once (Weir `exactly-once`,
 * Kafka Streams `exactly_once_v2`, both 100 ms); the first round checks that both wrote the same records.
 * The ceiling's tools come from the same Maven build, so the bench works whatever broker is running.
 *
 * Options: --quick, --only=passthrough,traffic,archive,windows,rideshare,avro, --runs=N, --records=N (input
 * records of every workload), --no-latency, --no-profile,
 * --no-kstreams, --no-eos, --dq=seed-002 (the traffic workloads with seed 002's data-quality rules, dedupe
 * included, instead of the app's default six stateless checks, which the Kafka Streams program makes too)
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderChart } from './chart.ts'
import type { ChildArgs, WorkloadName } from './child.ts'
import {
  buildJvmTools,
  compareTopics,
  KSTREAMS_DEFAULTS,
  KSTREAMS_EOS,
  KSTREAMS_TUNED,
  type KStreamsVariant,
  kafkaTool,
  kstreamsTopics,
  runKStreams,
} from './kstreams.ts'
import { type ProfileEntry, selfTimeByArea, topSelfTime } from './profile.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const CHILD = join(ROOT, 'bench', 'child.ts')
const RESULTS = join(ROOT, 'bench', 'results')
const BROKERS = ['127.0.0.1:9092']
const KAFKA_VERSION = '4.3.1'

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(`--${name}`)
const opt = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = flag('quick')
const runs = Number(opt('runs') ?? (quick ? 1 : 3))
const ALL: WorkloadName[] = ['passthrough', 'traffic', 'archive', 'windows', 'rideshare', 'avro']
const REGISTRY_URL = 'http://127.0.0.1:8081/apis/ccompat/v7'
const only = (opt('only')?.split(',') as WorkloadName[] | undefined) ?? ALL
/** Workloads with a Kafka Streams counterpart in bench/kstreams/. */
const KS_WORKLOADS: readonly WorkloadName[] = ['passthrough', 'traffic', 'windows']
const withKStreams = !flag('no-kstreams')
const dqOption = opt('dq')
if (dqOption !== undefined && dqOption !== 'seed-001' && dqOption !== 'seed-002')
  throw new Error(`--dq must be seed-001 or seed-002, not ${dqOption}`)
/** The traffic workloads' data-quality preset (bench/child.ts defaults to seed-001). */
const dq: Pick<ChildArgs, 'dq'> = dqOption === undefined ? {} : { dq: dqOption }
const withEos = withKStreams && !flag('no-eos')
/** Contenders per workload, in the order of even rounds (odd rounds run them in reverse). */
type Contender =
  | { kind: 'weir'; name: 'weir' | 'weir-eos' }
  | { kind: 'ks'; name: string; variant: KStreamsVariant }
function contendersOf(w: WorkloadName): Contender[] {
  const weir: Contender = { kind: 'weir', name: 'weir' }
  if (!withKStreams || !KS_WORKLOADS.includes(w)) return [weir]
  const ks = (variant: KStreamsVariant): Contender => ({ kind: 'ks', name: variant.name, variant })
  // Windows write ~1 record per 1,400 read: producer tuning changes nothing there.
  const list =
    w === 'windows' ? [weir, ks(KSTREAMS_DEFAULTS)] : [weir, ks(KSTREAMS_DEFAULTS), ks(KSTREAMS_TUNED)]
  if (withEos && w === 'passthrough') list.push({ kind: 'weir', name: 'weir-eos' }, ks(KSTREAMS_EOS))
  return list
}
const PARTITIONS: Record<WorkloadName, number> = {
  passthrough: 5,
  traffic: 5,
  archive: 5,
  windows: 5,
  rideshare: 1,
  avro: 5,
}
const N: Record<WorkloadName, number> = opt('records')
  ? (Object.fromEntries(ALL.map((w) => [w, Number(opt('records'))])) as Record<WorkloadName, number>)
  : quick
    ? {
        passthrough: 30_000,
        traffic: 30_000,
        archive: 30_000,
        windows: 30_000,
        rideshare: 60_000,
        avro: 30_000,
      }
    : // 500k: at ~100k records/s, 200k records (2 s) left JIT warm-up and the first fetches in the figure.
      {
        passthrough: 500_000,
        traffic: 500_000,
        archive: 500_000,
        windows: 500_000,
        rideshare: 300_000,
        avro: 500_000,
      }
// Quick still needs enough records for the JVM tools to warm up (200k understated the ceiling by ~2.5×).
const CEILING_N = quick ? 500_000 : 1_000_000
const LATENCY_SECONDS = quick ? 10 : 30
const LATENCY_RATE = 5000
const LABEL: Record<WorkloadName, string> = {
  passthrough: '1. pass-through JSON',
  traffic: '2. traffic flatten+validate',
  archive: '2b. traffic + Parquet archive',
  windows: '3. traffic 5-min windows',
  rideshare: '4. rideshare → Redis (100k drivers)',
  avro: '5. traffic in Avro (schema registry)',
}
/** Kafka→Kafka with one output (or dead letter) per input: compared to the consume+produce ceiling, latency measured. */
const ONE_TO_ONE: readonly WorkloadName[] = ['passthrough', 'traffic', 'avro']

const stamp = Date.now().toString(36)
let seq = 0
const prefix = (w: string) => `bench-${stamp}-${seq++}-${w}-`
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`)

interface Stat {
  median: number
  min: number
  max: number
  values: number[]
}
function stat(values: number[]): Stat {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, values }
  const mid = Math.floor(v.length / 2)
  const median = v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2
  return { median, min: v[0] as number, max: v[v.length - 1] as number, values }
}

function child(mode: string, args: ChildArgs, nodeFlags: string[] = []): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    // The processor runs as the `weir` command runs it (bin/weir.js sets this V8 flag; see there).
    const v8 = mode === 'produce' ? [] : ['--no-allocation-site-pretenuring']
    const p = spawn(process.execPath, [...v8, ...nodeFlags, CHILD, mode, JSON.stringify(args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const kill = () => p.kill('SIGKILL')
    process.once('exit', kill)
    p.once('exit', () => process.off('exit', kill))
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    p.once('exit', (code) => {
      if (code !== 0)
        return reject(new Error(`child ${mode} ${args.workload} exited ${code}: ${err.slice(-2000)}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() as string))
      } catch {
        reject(new Error(`child ${mode} printed no result: ${out.slice(-500)} ${err.slice(-1000)}`))
      }
    })
  })
}

/** Kafka's own tools on a fresh topic like the workloads' (5 partitions), same record size. */
async function ceiling(recordSize: number): Promise<{ produce: number; consume: number; combined: number }> {
  const topic = `${prefix('ceiling')}t`
  // Created through Weir's admin like every workload topic (5 partitions, RF 1).
  await child('produce', {
    workload: 'passthrough',
    brokers: BROKERS,
    prefix: topic.slice(0, -1),
    partitions: 5,
    records: 0,
  })
  // The producer twice, the faster counts: one run of it swung between ~185k and ~275k records/s on a
  // quiet 2-core machine (2026-12-04), and a ceiling is the best the broker and its own client can do.
  let produce = 0
  for (let i = 0; i < 2; i++) {
    const pOut = kafkaTool('ProducerPerformance', [
      '--topic',
      `${topic.slice(0, -1)}in`,
      '--num-records',
      String(CEILING_N),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--command-property',
      `bootstrap.servers=${BROKERS[0]}`,
      'acks=all',
    ])
    // "N records sent, X records/sec (Y MB/sec), ..."
    const pm = /records sent, ([\d.]+) records\/sec/.exec(pOut)
    if (!pm) throw new Error(`cannot read ProducerPerformance output: ${pOut}`)
    produce = Math.max(produce, Number(pm[1]))
  }
  const cOut = kafkaTool('ConsumerPerformance', [
    '--bootstrap-server',
    BROKERS[0] as string,
    '--topic',
    `${topic.slice(0, -1)}in`,
    '--num-records',
    String(CEILING_N),
    '--group',
    `${topic}group`,
  ])
  // CSV: start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const lines = cOut.trim().split('\n')
  const header = lines.findIndex((l) => l.startsWith('start.time'))
  const row = lines[header + 1]?.split(',').map((s) => s.trim())
  if (header < 0 || !row) throw new Error(`cannot read ConsumerPerformance output: ${cOut}`)
  // fetch.nMsg.sec excludes the group join (rebalance time), as the workload clocks do.
  const consume = Number(row[9])
  await child('cleanup', {
    workload: 'passthrough',
    brokers: BROKERS,
    prefix: topic.slice(0, -1),
    partitions: 5,
    records: 0,
  })
  return { produce, consume, combined: 1 / (1 / produce + 1 / consume) }
}

async function main(): Promise<void> {
  const t0 = Date.now()
  log(`mode ${quick ? 'quick' : 'full'}, ${runs} run(s), workloads ${only.join(',')}`)
  const up = spawnSync('bash', ['scripts/services.sh', 'up', 'kafka', 'redis', 'postgres'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
  if (up.status !== 0) throw new Error(`services.sh up failed: ${up.stderr}${up.stdout}`)
  // Kafka's tools and the Kafka Streams program, whatever broker services.sh found running.
  buildJvmTools(log)
  const load0 = os.loadavg()
  const hasRideshare = existsSync(join(ROOT, 'src', 'apps', 'rideshare', 'app.ts'))
  // The registry is only needed for workload 5: if it cannot start (it may still be building), say so and skip it.
  let registryDown: string | undefined
  if (only.includes('avro')) {
    spawnSync('bash', ['scripts/services.sh', 'up', 'registry'], { cwd: ROOT, encoding: 'utf8' })
    registryDown = await registryProblem()
    if (registryDown) log(`workload 5 skipped: ${registryDown}`)
  }
  const skip = (w: WorkloadName) =>
    (w === 'rideshare' && !hasRideshare) || (w === 'avro' && registryDown !== undefined)

  const ceilings: Array<{ produce: number; consume: number; combined: number }> = []
  /** Every contender's figures per workload, one entry per round. */
  const versus: Partial<Record<WorkloadName, Record<string, Array<Record<string, number>>>>> = {}
  const equivalence: Partial<Record<WorkloadName, Record<string, unknown>>> = {}
  const perWorkload: Partial<Record<WorkloadName, Array<Record<string, number>>>> = {}
  const inputSize: Partial<Record<WorkloadName, number>> = {}
  let recordSize = 374

  for (let r = 0; r < runs; r++) {
    for (const w of only) {
      if (skip(w)) continue
      const a: ChildArgs = {
        workload: w,
        brokers: BROKERS,
        prefix: prefix(w),
        partitions: PARTITIONS[w],
        records: N[w],
        registryUrl: REGISTRY_URL,
        ...dq,
      }
      const produced = await child('produce', a)
      inputSize[w] = produced.avgValueBytes as number
      if (w === 'passthrough') recordSize = Math.round(produced.avgValueBytes as number)
      const input = `${a.prefix}in`
      const contenders = contendersOf(w)
      if (r % 2 === 1) contenders.reverse()
      for (const c of contenders) {
        let res: Record<string, number>
        if (c.kind === 'ks') {
          res = await runKStreams({ ...a, workload: w as 'passthrough', input }, c.variant)
        } else if (c.name === 'weir-eos') {
          res = await child('run', {
            ...a,
            prefix: `${a.prefix}eos-`,
            input,
            tuning: { run: { processing: 'exactly-once' } },
          })
        } else {
          res = await child('run', a)
          if (w === 'rideshare')
            res.gpsPerSec =
              ((produced.gps as number) / (res.records as number)) * (res.recordsPerSec as number)
          const list = perWorkload[w] ?? []
          list.push(res)
          perWorkload[w] = list
        }
        const byName = versus[w] ?? {}
        versus[w] = byName
        const runsOf = byName[c.name] ?? []
        byName[c.name] = runsOf
        runsOf.push(res)
        log(
          `run ${r + 1}/${runs} ${w} ${c.name}: ${Math.round(res.recordsPerSec as number)} rec/s, cpu ${(res.cpuSecondsPerMillion as number).toFixed(1)} s/M, rss ${Math.round(res.peakRssMb as number)} MB`,
        )
      }
      // Same work? Weir's and Kafka Streams' outputs (and dead letters) of the first round, record by record.
      if (r === 0 && contenders.length > 1) {
        const ks = kstreamsTopics({ prefix: a.prefix }, KSTREAMS_DEFAULTS)
        const kind = w as 'passthrough'
        const out = await compareTopics(BROKERS, kind, `${a.prefix}out`, ks.output)
        const dlq = w === 'traffic' ? await compareTopics(BROKERS, kind, `${a.prefix}dlq`, ks.dlq) : undefined
        equivalence[w] = { output: out, ...(dlq ? { deadLetters: dlq } : {}) }
        log(
          `run 1 ${w} Weir vs Kafka Streams: output ${summary(out)}${dlq ? `; dead letters ${summary(dlq)}` : ''}`,
        )
      }
      await child('cleanup', a)
    }
    const c = await ceiling(recordSize)
    ceilings.push(c)
    log(
      `run ${r + 1}/${runs} ceiling: produce ${Math.round(c.produce)}, consume ${Math.round(c.consume)}, combined ${Math.round(c.combined)} rec/s`,
    )
  }

  const latency: Partial<Record<WorkloadName, Array<Record<string, number>>>> = {}
  /** Workload 1 under exactly-once (100 ms transactions) at the same steady rate. */
  const latencyEos: Array<Record<string, number>> = []
  if (!flag('no-latency')) {
    for (let r = 0; r < runs; r++) {
      if (only.includes('passthrough') && !flag('no-eos')) {
        const a: ChildArgs = {
          workload: 'passthrough',
          brokers: BROKERS,
          prefix: prefix('lat-passthrough-eos'),
          partitions: PARTITIONS.passthrough,
          records: 0,
          rate: LATENCY_RATE,
          seconds: LATENCY_SECONDS,
          tuning: { run: { processing: 'exactly-once' } },
        }
        const res = await child('latency', a)
        await child('cleanup', a)
        latencyEos.push(res)
        log(
          `latency ${r + 1}/${runs} passthrough exactly-once: p50 ${res.p50?.toFixed(1)} p99 ${res.p99?.toFixed(1)} ms (${res.received}/${res.sent})`,
        )
      }
      for (const w of ONE_TO_ONE) {
        if (!only.includes(w) || skip(w)) continue
        const a: ChildArgs = {
          workload: w,
          brokers: BROKERS,
          prefix: prefix(`lat-${w}`),
          partitions: PARTITIONS[w],
          records: 0,
          rate: LATENCY_RATE,
          seconds: LATENCY_SECONDS,
          registryUrl: REGISTRY_URL,
          ...dq,
        }
        const res = await child('latency', a)
        await child('cleanup', a)
        const list = latency[w] ?? []
        list.push(res)
        latency[w] = list
        log(
          `latency ${r + 1}/${runs} ${w}: p50 ${res.p50?.toFixed(1)} p99 ${res.p99?.toFixed(1)} ms (${res.received}/${res.sent})`,
        )
      }
    }
  }

  let profile:
    | { file: string; records: number; top: ProfileEntry[]; areas: Record<string, number> }
    | undefined
  if (!flag('no-profile') && only.includes('passthrough')) {
    const dir = join(RESULTS, 'profile')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'passthrough.cpuprofile')
    // The profile covers the timed span only (the child starts V8's profiler at the first consumed
    // record and stops it with the clock), so start-up and shutdown are not in the shares.
    const a: ChildArgs = {
      workload: 'passthrough',
      brokers: BROKERS,
      prefix: prefix('prof'),
      partitions: 5,
      records: N.passthrough,
      profile: file,
    }
    await child('produce', a)
    await child('run', a)
    await child('cleanup', a)
    const cpuprofile = JSON.parse(readFileSync(file, 'utf8'))
    profile = {
      file: 'bench/results/profile/passthrough.cpuprofile',
      records: a.records,
      top: topSelfTime(cpuprofile, 20, ROOT),
      areas: selfTimeByArea(cpuprofile),
    }
    log(`profiled workload 1: top ${profile.top[0]?.name} ${profile.top[0]?.selfPct.toFixed(1)} %`)
  }

  // ----------------------------------------------------------------------------------------- results
  const ceil = {
    produce: stat(ceilings.map((c) => c.produce)),
    consume: stat(ceilings.map((c) => c.consume)),
    combined: stat(ceilings.map((c) => c.combined)),
    recordSize,
    records: CEILING_N,
    partitions: 5,
  }
  const workloads: Record<string, unknown> = {}
  const rows: Row[] = []
  for (const w of ALL) {
    const rs = perWorkload[w]
    if (!rs) {
      const missing =
        w === 'rideshare' && !hasRideshare
          ? 'not yet measured (app missing)'
          : w === 'avro' && registryDown !== undefined
            ? `skipped: ${registryDown}`
            : 'not run'
      rows.push({ w, label: LABEL[w], missing })
      continue
    }
    // Kafka→Kafka with one output per input: against the consume+produce ceiling; windows and the
    // Redis bridge write far fewer records than they read: against the consume ceiling.
    const kk = ONE_TO_ONE.includes(w) || w === 'archive'
    const ceilingOf = (i: number) => {
      const c = ceilings[i] as { consume: number; combined: number }
      return kk ? c.combined : c.consume
    }
    const rate = stat(rs.map((x) => x.recordsPerSec as number))
    const ratio = stat(rs.map((x, i) => (x.recordsPerSec as number) / ceilingOf(i)))
    const rss = stat(rs.map((x) => x.peakRssMb as number))
    const cpu = stat(rs.map((x) => x.cpuSecondsPerMillion as number))
    const lat = latency[w]
    const l = lat
      ? {
          p50: stat(lat.map((x) => x.p50 as number)),
          p95: stat(lat.map((x) => x.p95 as number)),
          p99: stat(lat.map((x) => x.p99 as number)),
        }
      : undefined
    const gps = w === 'rideshare' ? stat(rs.map((x) => x.gpsPerSec as number)) : undefined
    workloads[w] = {
      label: LABEL[w],
      records: N[w],
      partitions: PARTITIONS[w],
      avgInputBytes: inputSize[w],
      ceiling: kk ? 'consume+produce (harmonic)' : 'consume',
      recordsPerSec: rate,
      ratioToCeiling: ratio,
      peakRssMb: rss,
      cpuSecondsPerMillion: cpu,
      ...(gps ? { gpsPingsPerSec: gps } : {}),
      ...(l ? { latencyMs: { rate: LATENCY_RATE, seconds: LATENCY_SECONDS, ...l, runs: lat } } : {}),
      ...(w === 'passthrough' && latencyEos.length > 0
        ? {
            exactlyOnceLatencyMs: {
              rate: LATENCY_RATE,
              seconds: LATENCY_SECONDS,
              p50: stat(latencyEos.map((x) => x.p50 as number)),
              p95: stat(latencyEos.map((x) => x.p95 as number)),
              p99: stat(latencyEos.map((x) => x.p99 as number)),
              runs: latencyEos,
            },
          }
        : {}),
      runs: rs,
    }
    rows.push({ w, label: LABEL[w], rate, ratio, rss, cpu, lat: l, ceilingKind: kk ? 'c+p' : 'consume', gps })
  }
  // The archive's cost: workload 2 with the Parquet sink on, as a share of the same app without it, run by run.
  const on = perWorkload.archive
  const off = perWorkload.traffic
  const archiveVsTraffic =
    on && off
      ? stat(
          on.map((x, i) => (x.recordsPerSec as number) / ((off[i]?.recordsPerSec as number) ?? Number.NaN)),
        )
      : undefined
  if (archiveVsTraffic)
    log(
      `archive on/off: ${(archiveVsTraffic.median * 100).toFixed(1)} % of workload 2's records/s (runs: ${archiveVsTraffic.values.map((v) => (v * 100).toFixed(1)).join(', ')})`,
    )

  const vsTable = renderVersus(versus)
  const date = new Date().toISOString().slice(0, 10)
  mkdirSync(RESULTS, { recursive: true })
  const cpus = os.cpus()
  const machine = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    kafka: KAFKA_VERSION,
    java: (spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0] ?? '').trim(),
  }
  const result = {
    date,
    mode: quick ? 'quick' : 'full',
    runs,
    elapsedSeconds: Math.round((Date.now() - t0) / 1000),
    machine,
    ceiling: ceil,
    ceilingRuns: ceilings,
    ...(only.includes('avro') ? { registry: registryDown ?? `up at ${REGISTRY_URL}` } : {}),
    workloads,
    ...(archiveVsTraffic ? { archiveVsTraffic } : {}),
    kafkaStreams: { contenders: versus, equivalence, table: vsTable },
    loadAverage: { start: load0, end: os.loadavg() },
    profile,
  }
  // A partial or quick run never overwrites the full results of the day nor BENCHMARKS.md.
  const partial = only.length !== ALL.length
  const named = `${date}${quick ? '-quick' : ''}${partial ? `-${only.join('+')}` : ''}`
  // A second run of the same workloads on the same day keeps the first one's files (cited in BENCHMARKS.md).
  const base = existsSync(join(RESULTS, `${named}.json`))
    ? `${named}-${new Date().toISOString().slice(11, 16).replace(':', '')}`
    : named
  writeFileSync(join(RESULTS, `${base}.json`), `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(
    join(RESULTS, `${base}.svg`),
    renderChart(
      rows
        .filter((r) => r.ratio)
        .map((r) => ({ label: r.label, ratio: r.ratio as Stat, note: r.ceilingKind as string })),
      `Weir throughput ÷ Kafka ceiling (same run, ${date}, ${quick ? 'quick' : `median of ${runs}`})`,
    ),
  )
  const table = renderTable(rows, ceil)
  process.stdout.write(`\n${table}\n`)
  if (vsTable) {
    process.stdout.write(`\nWeir and Kafka Streams, same input, interleaved rounds:\n${vsTable}\n`)
    // Measured: at 30k records Kafka Streams spends 130-170 CPU s per M records (JIT warm-up), ~31 at 500k.
    if (quick)
      process.stdout.write('(quick: too few records for the JVM to warm up; compare with a full run)\n')
  }
  if (profile) {
    process.stdout.write(`\nTop self time, workload 1 (${profile.file}):\n`)
    for (const e of profile.top.slice(0, 10))
      process.stdout.write(`  ${e.selfPct.toFixed(1).padStart(5)} %  ${e.name}  ${e.where}\n`)
    process.stdout.write(
      `By area: ${Object.entries(profile.areas)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v.toFixed(0)} %`)
        .join(', ')}\n`,
    )
  }
  if (!quick && !partial) updateBenchmarksMd(table, base, profile, vsTable)
  log(`wrote bench/results/${base}.json and .svg in ${result.elapsedSeconds} s`)
}

/** "500000 = 500000 (same 500000)" or what differs. */
function summary(c: Record<string, unknown>): string {
  return c.equal
    ? `${c.recordsA} records each, all the same`
    : `Weir ${c.recordsA}, Kafka Streams ${c.recordsB}, same ${c.same}, only Weir ${c.onlyA}, only Kafka Streams ${c.onlyB}`
}

interface Row {
  w: WorkloadName
  label: string
  missing?: string
  rate?: Stat
  ratio?: Stat
  rss?: Stat
  cpu?: Stat
  gps?: Stat
  lat?: { p50: Stat; p95: Stat; p99: Stat } | undefined
  ceilingKind?: string
}

const k = (x: number) =>
  x >= 10_000 ? `${(x / 1000).toFixed(0)}k` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)
const range = (s: Stat, f: (x: number) => string) =>
  s.values.length > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median)
const pct = (x: number) => `${(x * 100).toFixed(0)} %`
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–')

const VERSUS_ROWS: ReadonlyArray<{ w: WorkloadName; weir: string; ks: string; label: string }> = [
  {
    w: 'passthrough',
    weir: 'weir',
    ks: 'ks',
    label: '1. pass-through JSON, at-least-once: Kafka Streams defaults',
  },
  {
    w: 'passthrough',
    weir: 'weir',
    ks: 'kst',
    label: '1. pass-through JSON, at-least-once: Kafka Streams batch.size=262144',
  },
  {
    w: 'passthrough',
    weir: 'weir-eos',
    ks: 'kse',
    label: '1. pass-through JSON, exactly-once (100 ms): Kafka Streams exactly_once_v2',
  },
  { w: 'traffic', weir: 'weir', ks: 'ks', label: '2. traffic flatten+validate: Kafka Streams defaults' },
  {
    w: 'traffic',
    weir: 'weir',
    ks: 'kst',
    label: '2. traffic flatten+validate: Kafka Streams batch.size=262144',
  },
  { w: 'windows', weir: 'weir', ks: 'ks', label: '3. traffic 5-min windows: Kafka Streams defaults' },
]

/** Weir beside Kafka Streams: each figure median (min–max) over rounds; the ratio is taken per round. */
function renderVersus(
  versus: Partial<Record<WorkloadName, Record<string, Array<Record<string, number>>>>>,
): string {
  const out = [
    '| workload: Kafka Streams as | records/s Weir | records/s Kafka Streams | **Weir ÷ Kafka Streams** records/s | CPU s per M records Weir / KS | **KS ÷ Weir CPU per record** | peak RSS MB Weir / KS |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const row of VERSUS_ROWS) {
    const weir = versus[row.w]?.[row.weir]
    const ks = versus[row.w]?.[row.ks]
    if (!weir || !ks) continue
    const f = (rs: Array<Record<string, number>>, key: string) => stat(rs.map((x) => x[key] as number))
    const ratio = stat(
      weir.map((x, i) => (x.recordsPerSec as number) / ((ks[i]?.recordsPerSec as number) ?? Number.NaN)),
    )
    // CPU per record is the steadier figure on a shared machine: records/s moves with what else runs.
    const cpuRatio = stat(
      weir.map(
        (x, i) =>
          ((ks[i]?.cpuSecondsPerMillion as number) ?? Number.NaN) / (x.cpuSecondsPerMillion as number),
      ),
    )
    const n = (x: number) => x.toFixed(0)
    const one = (x: number) => x.toFixed(1)
    out.push(
      `| ${row.label} | ${range(f(weir, 'recordsPerSec'), k)} | ${range(f(ks, 'recordsPerSec'), k)} | **${range(ratio, (x) => `${x.toFixed(2)}×`)}** | ${range(f(weir, 'cpuSecondsPerMillion'), one)} / ${range(f(ks, 'cpuSecondsPerMillion'), one)} | **${range(cpuRatio, (x) => `${x.toFixed(1)}×`)}** | ${range(f(weir, 'peakRssMb'), n)} / ${range(f(ks, 'peakRssMb'), n)} |`,
    )
  }
  return out.length > 2 ? out.join('\n') : ''
}

function renderTable(
  rows: Row[],
  ceil: { produce: Stat; consume: Stat; combined: Stat; recordSize: number },
): string {
  const out = [
    '| workload | records/s | ratio to ceiling | p50 / p95 / p99 ms @ 5k/s | peak RSS MB | CPU s per M records |',
    '|---|---|---|---|---|---|',
  ]
  for (const r of rows) {
    if (r.missing || !r.rate || !r.ratio || !r.rss || !r.cpu) {
      out.push(`| ${r.label} | ${r.missing ?? '–'} | – | – | – | – |`)
      continue
    }
    const lat = r.lat ? `${range(r.lat.p50, ms)} / ${range(r.lat.p95, ms)} / ${range(r.lat.p99, ms)}` : '–'
    const rate = range(r.rate, k) + (r.gps ? ` (GPS pings: ${k(r.gps.median)}/s)` : '')
    out.push(
      `| ${r.label} | ${rate} | ${range(r.ratio, pct)} of ${r.ceilingKind} | ${lat} | ${range(r.rss, (x) => x.toFixed(0))} | ${range(r.cpu, (x) => x.toFixed(1))} |`,
    )
  }
  out.push(
    `| Kafka ceiling (${ceil.recordSize} B records, 5 partitions) | produce ${range(ceil.produce, k)}, consume ${range(ceil.consume, k)}, consume+produce ${range(ceil.combined, k)} | 100 % | – | – | – |`,
  )
  return out.join('\n')
}

function updateBenchmarksMd(
  table: string,
  base: string,
  profile: { top: ProfileEntry[]; areas: Record<string, number> } | undefined,
  vsTable?: string,
): void {
  const top = profile?.top ?? []
  const file = join(ROOT, 'BENCHMARKS.md')
  if (!existsSync(file)) return
  let md = readFileSync(file, 'utf8')
  const replace = (tag: string, body: string) => {
    const re = new RegExp(`(<!-- bench:${tag} -->)[\\s\\S]*?(<!-- /bench:${tag} -->)`)
    md = md.replace(re, (_m, a: string, b: string) => `${a}\n${body}\n${b}`)
  }
  replace('table', table)
  if (vsTable) replace('kstreams', vsTable)
  replace(
    'chart',
    `![throughput as a ratio of the ceiling](bench/results/${base}.svg)\n\nRaw figures: [bench/results/${base}.json](bench/results/${base}.json)`,
  )
  replace(
    'profile',
    [
      `By area: ${Object.entries(profile?.areas ?? {})
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v.toFixed(0)} %`)
        .join(' · ')}`,
      '',
      '| self % | function | where |',
      '|---|---|---|',
      ...top.map((e) => `| ${e.selfPct.toFixed(1)} | \`${e.name}\` | ${e.where} |`),
    ].join('\n'),
  )
  writeFileSync(file, md)
}

/** `--render=bench/results/<date>.json`: rewrite BENCHMARKS.md's table, chart link and profile from a results file. */
function renderFrom(file: string): void {
  const r = JSON.parse(readFileSync(join(ROOT, file), 'utf8'))
  const rows: Row[] = ALL.map((w) => {
    const x = r.workloads[w]
    if (!x) return { w, label: LABEL[w], missing: 'not measured' }
    return {
      w,
      label: x.label,
      rate: x.recordsPerSec,
      ratio: x.ratioToCeiling,
      rss: x.peakRssMb,
      cpu: x.cpuSecondsPerMillion,
      gps: x.gpsPingsPerSec,
      lat: x.latencyMs,
      ceilingKind: x.ceiling.startsWith('consume+produce') ? 'c+p' : 'consume',
    }
  })
  const table = renderTable(rows, r.ceiling)
  process.stdout.write(`${table}\n`)
  updateBenchmarksMd(table, r.mode === 'quick' ? `${r.date}-quick` : r.date, r.profile)
}

/** Why workload 5 cannot run, or undefined when the registry answers. */
async function registryProblem(): Promise<string | undefined> {
  try {
    const r = await fetch(`${REGISTRY_URL}/subjects`, { signal: AbortSignal.timeout(5000) })
    return r.ok ? undefined : `schema registry answered ${r.status} at ${REGISTRY_URL}`
  } catch (err) {
    return `schema registry down at ${REGISTRY_URL} (scripts/registry.sh up): ${(err as Error).message}`
  }
}

const render = opt('render')
if (render) renderFrom(render)
else await main()

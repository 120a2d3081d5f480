/**
 * Does memory stay flat (issue 14 §3)? Every unit of scripts/memory-plans.ts at a steady rate for
 * --seconds, all at once, each in its own cgroup v1 memory group with --limit-mb (needs root), its RSS
 * sampled every --every seconds:
 *
 *   node scripts/soak-memory.ts [--apps traffic,…] [--rate 1000] [--embedding-rate 20] [--drivers 100000]
 *                               [--seconds 600] [--every 10] [--warm-up 120] [--limit-mb 256] [--from-source]
 *
 * This process writes each unit's input with the app's generator at the unit's rate (event time = wall
 * clock) and runs the MillionX stages before a measured stage (unmeasured, in this process). The apps run
 * from dist/ as the image does (see useDist). Per unit it reports the warm-up peak (highest RSS sampled in
 * the first --warm-up seconds), the highest and lowest sampled after it, the final RSS, the growth after
 * warm-up (mean of the last minute minus mean of the first minute after warm-up), VmHWM, records consumed,
 * CPU seconds, OOM kills, and whether its group committed all of its input at the end. The last stdout
 * line is one JSON array; the full RSS series are in it.
 */
import { loadavg } from 'node:os'
import { deleteTopicsWith, offsets, type Plan, planOf, produce, runUpstream, UNITS } from './memory-plans.ts'
import {
  consumedSoFar,
  cpuSecondsOf,
  exited,
  flagValue,
  memoryCgroup,
  sleep,
  startInCgroup,
  statusMb,
  useDist,
} from './memory-probe.ts'

const opt = flagValue
const units = (opt('apps') ?? UNITS.join(',')).split(',')
const rate = Number(opt('rate') ?? 1000)
const embeddingRate = Number(opt('embedding-rate') ?? 20)
const drivers = Number(opt('drivers') ?? 100_000)
const seconds = Number(opt('seconds') ?? 600)
const every = Number(opt('every') ?? 10)
const warmUp = Number(opt('warm-up') ?? 120)
const limitMb = Number(opt('limit-mb') ?? 256)
const stamp = Date.now().toString(36)
const log = (msg: string) => process.stderr.write(`[soak-memory] ${msg}\n`)
const round1 = (x: number) => Math.round(x * 10) / 10
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)

interface Soak {
  readonly unit: string
  readonly plan: Plan
  readonly prefix: string
  readonly rate: number
  readonly cgroup: ReturnType<typeof memoryCgroup>
  readonly started: ReturnType<typeof startInCgroup>
  readonly samples: Array<{ t: number; rssMb: number }>
  readonly stopUpstream: () => Promise<void>
  produced?: Promise<string[]>
  cpu0: number
}

const soaks: Soak[] = []
const abort = new AbortController()
let released = false
async function releaseAll(): Promise<void> {
  if (released) return
  released = true
  abort.abort()
  for (const s of soaks) {
    if (s.started.child.exitCode === null && s.started.child.signalCode === null) {
      s.started.child.kill('SIGKILL')
      await exited(s.started.child)
    }
    await s.stopUpstream().catch(() => {})
    await s.cgroup.remove()
    await s.plan.release().catch(() => {})
    await deleteTopicsWith(s.prefix).catch(() => {})
  }
}
process.once('SIGINT', () => void releaseAll().then(() => process.exit(130)))

const removeDist = process.argv.includes('--from-source') ? () => {} : useDist()
try {
  for (const unit of units) {
    const prefix = `soak-mem-${stamp}-${unit}.`
    // traffic-windows: event time follows the wall clock, so 5-minute windows close as they would live.
    const unitRate = unit === 'embedding-service' ? embeddingRate : rate
    const plan = await planOf(unit, prefix, { drivers, eventStart: Date.now() })
    if (unit === 'traffic-windows') plan.generatorOptions.eventStepMs = 1000 / unitRate
    const cgroup = memoryCgroup(`weir-soak-mem-${stamp}-${unit}`, limitMb)
    const started = startInCgroup(plan, cgroup.path)
    const stopUpstream = await runUpstream(plan, false)
    soaks.push({ unit, plan, prefix, rate: unitRate, cgroup, started, samples: [], stopUpstream, cpu0: 0 })
  }
  // Every app serving before the clock starts (start-up is not the soak).
  for (const s of soaks)
    for (let i = 0; (await consumedSoFar(s.plan.port)) === 0 && !(await answers(s.plan.port)); i++) {
      if (s.started.child.exitCode !== null)
        throw new Error(`${s.unit} exited at start: ${s.started.stderr()}`)
      if (i > 600) throw new Error(`${s.unit}: no ops server after 60 s`)
      await sleep(100)
    }
  log(`${soaks.length} units running; producing for ${seconds} s at ${rate}/s (embedding ${embeddingRate}/s)`)
  const t0 = performance.now()
  for (const s of soaks) {
    s.cpu0 = cpuSecondsOf(s.started.child.pid!)
    s.produced = produce(s.plan, Math.round(s.rate * seconds), { rate: s.rate, signal: abort.signal })
    // Awaited after the soak; until then a failure (the broker gone) must not end the process uncleaned.
    s.produced.catch(() => {})
  }
  for (let tick = 0; (performance.now() - t0) / 1000 < seconds; tick++) {
    const t = Math.round((performance.now() - t0) / 1000)
    for (const s of soaks) {
      // A unit that died (an OOM kill) is reported as such; the others go on.
      if (s.started.child.exitCode !== null || s.started.child.signalCode !== null) continue
      s.samples.push({ t, rssMb: Math.round(statusMb(s.started.child.pid!, 'VmRSS')) })
    }
    if (tick % 6 === 0)
      log(
        `${t} s, load ${loadavg()[0]!.toFixed(1)}: ${soaks.map((s) => `${s.unit} ${s.samples.at(-1)!.rssMb}`).join(', ')}`,
      )
    await sleep(t0 + (tick + 1) * every * 1000 - performance.now())
  }
  const produced = await Promise.all(soaks.map((s) => s.produced!))
  const results = []
  for (const [i, s] of soaks.entries()) {
    const pid = s.started.child.pid!
    const inputs = s.plan.inputs.length > 0 ? s.plan.inputs : produced[i]!
    // The tail of the input is read and committed within a few commit intervals.
    let o = await offsets(inputs, s.plan.group)
    for (let k = 0; k < 120 && o.committed < o.end; k++) {
      await sleep(500)
      o = await offsets(inputs, s.plan.group)
    }
    const during = s.samples.filter((x) => x.t < warmUp).map((x) => x.rssMb)
    const after = s.samples.filter((x) => x.t >= warmUp).map((x) => x.rssMb)
    const firstMinute = s.samples.filter((x) => x.t >= warmUp && x.t < warmUp + 60).map((x) => x.rssMb)
    const lastMinute = s.samples.filter((x) => x.t >= seconds - 60).map((x) => x.rssMb)
    const died = s.started.child.exitCode !== null || s.started.child.signalCode !== null
    const r = {
      app: s.unit,
      exited: died
        ? `${s.started.child.exitCode ?? s.started.child.signalCode} at ${s.samples.at(-1)?.t ?? 0} s: ${s.started.stderr().slice(-300)}`
        : undefined,
      limitMb,
      rate: s.rate,
      seconds,
      consumed: died ? undefined : await consumedSoFar(s.plan.port),
      warmUpPeakMb: Math.max(...during),
      afterWarmUpMinMb: Math.min(...after),
      afterWarmUpMaxMb: Math.max(...after),
      finalMb: s.samples.at(-1)?.rssMb,
      growthAfterWarmUpMb: Math.round(mean(lastMinute) - mean(firstMinute)),
      peakRssMb: died ? undefined : Math.round(statusMb(pid, 'VmHWM')),
      cgroupPeakMb: s.cgroup.peakMb(),
      oomKills: s.cgroup.oomKills(),
      cpuSeconds: died ? undefined : round1(cpuSecondsOf(pid) - s.cpu0),
      committed: o.committed,
      endOffsets: o.end,
      series: s.samples.map((x) => x.rssMb),
    }
    log(JSON.stringify({ ...r, series: undefined }))
    results.push(r)
  }
  for (const s of soaks) {
    s.started.child.kill('SIGTERM')
    await exited(s.started.child)
  }
  process.stdout.write(
    `${JSON.stringify({ loadAverage: loadavg().map(round1), at: new Date().toISOString(), results })}\n`,
  )
} finally {
  await releaseAll()
  removeDist()
}
process.exit(0)

async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health`)
    return true
  } catch {
    return false
  }
}

/**
 * Peak memory of each bundled app under a real memory limit (issue 14): each app (and each MillionX
 * stage on its own) runs as `weir run …` inside its own cgroup v1 memory cgroup
 * (`/sys/fs/cgroup/memory/weir-perf-mem-…`, limit written to memory.limit_in_bytes; needs root),
 * draining a pre-produced backlog at full speed, so the peak is the worst case of any lower rate:
 *
 *   node scripts/perf-memory.ts [--apps traffic,traffic-windows,rideshare,streampulse,schema-validator,
 *                                      privacy-shield,context-enricher,embedding-service] [--limit-mb 256]
 *                               [--records 300000] [--rideshare-records 600000] [--drivers 100000]
 *                               [--embedding-records 3000] [--upstream-compression none] [--from-source]
 *                               [--node-flags "--max-semi-space-size=4 --max-old-space-size=153"]
 *
 * The apps run from the compiled dist/ as the container image does (built first; --from-source runs the
 * .ts sources through Node's type stripping instead). Per app: a fresh prefix for every topic and group;
 * the input written by this process with the app's own generator (outside the cgroup; a MillionX stage's
 * input by the stages before it, run in this process — scripts/memory-plans.ts; --upstream-compression sets
 * their producer compression, e.g. to see what reading gzip input costs); then the app started in
 * the cgroup (bin/weir.js sees the limit and sizes V8 from it) and timed from its first consumed record
 * (weir_records_consumed_total on /metrics/prometheus, polled every 100 ms) until the group's committed
 * offsets reach the input's end offsets (nothing lost: every record committed, which Weir does only once
 * its outputs are written). Peak RSS is the kernel's high-water mark (VmHWM) of the app process; the
 * cgroup's own peak (memory.max_usage_in_bytes, which also counts page cache) and its OOM-kill count are
 * reported too. The cgroup, topics, database/schema and private Redis are removed afterwards. The last
 * stdout line is one JSON array, one object per app.
 */
import { loadavg } from 'node:os'
import { deleteTopicsWith, offsets, planOf, produce, runUpstream, UNITS } from './memory-plans.ts'
import {
  cmdlineFlags,
  consumedSoFar,
  cpuSecondsOf,
  exited,
  flagValue,
  heapOf,
  memoryCgroup,
  sleep,
  startInCgroup,
  statusMb,
  useDist,
} from './memory-probe.ts'

const opt = flagValue
const apps = (opt('apps') ?? UNITS.join(',')).split(',')
const limitMb = Number(opt('limit-mb') ?? 256)
const records = Number(opt('records') ?? 300_000)
const rideshareRecords = Number(opt('rideshare-records') ?? 600_000)
const embeddingRecords = Number(opt('embedding-records') ?? 3000)
const drivers = Number(opt('drivers') ?? 100_000)
/** V8 flags for the app instead of the ones bin/weir.js derives from the limit (experiments). */
const nodeFlags = (opt('node-flags') ?? '').split(' ').filter(Boolean)
const stamp = Date.now().toString(36)
const log = (msg: string) => process.stderr.write(`[perf-memory] ${msg}\n`)
const round1 = (x: number) => Math.round(x * 10) / 10

async function measure(name: string): Promise<Record<string, unknown>> {
  const prefix = `perf-mem-${stamp}-${name}.`
  const plan = await planOf(name, prefix, { drivers })
  const n =
    name === 'rideshare' ? rideshareRecords : name === 'embedding-service' ? embeddingRecords : records
  let cgroup: ReturnType<typeof memoryCgroup> | undefined
  let child: ReturnType<typeof startInCgroup>['child'] | undefined
  try {
    log(`${name}: producing ${n} records to ${prefix}*`)
    const produced = await produce(plan, n)
    const upstreamCompression = opt('upstream-compression')
    const stopUpstream = await runUpstream(
      plan,
      true,
      upstreamCompression === undefined ? {} : { FAUST_PRODUCER_COMPRESSION: upstreamCompression },
    )
    await stopUpstream()
    const inputs = plan.inputs.length > 0 ? plan.inputs : produced
    const input = await offsets(inputs, plan.group)
    cgroup = memoryCgroup(`weir-perf-mem-${stamp}-${name}`, limitMb)
    const started = startInCgroup(plan, cgroup.path, nodeFlags)
    child = started.child
    const pid = child.pid as number
    const deadline = Date.now() + 900_000
    let t0 = 0
    let cpu0 = 0
    let rssAtStart = 0
    let peakSampled = 0
    const heapPeak = { heapTotal: 0, heapUsed: 0, external: 0 }
    let o = input
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `weir ${plan.args.join(' ')} exited (${child.exitCode ?? child.signalCode}): ${started.stderr()}`,
        )
      if (Date.now() > deadline) throw new Error(`${name}: not drained in 900 s`)
      peakSampled = Math.max(peakSampled, statusMb(pid, 'VmRSS'))
      const heap = await heapOf(plan.port)
      for (const k of ['heapTotal', 'heapUsed', 'external'] as const)
        heapPeak[k] = Math.max(heapPeak[k], heap[k])
      o = await offsets(inputs, plan.group)
      if (t0 === 0 && (await consumedSoFar(plan.port)) > 0) {
        t0 = performance.now()
        cpu0 = cpuSecondsOf(pid)
      }
      if (t0 === 0) rssAtStart = statusMb(pid, 'VmRSS')
      if (o.committed >= o.end) break
      await sleep(100)
    }
    const seconds = (performance.now() - t0) / 1000
    const cpuSeconds = cpuSecondsOf(pid) - cpu0
    const hwm = statusMb(pid, 'VmHWM')
    const v8Flags = cmdlineFlags(pid)
    child.kill('SIGTERM')
    const code = await exited(child)
    const result = {
      app: name,
      limitMb,
      records: o.end,
      seconds: Math.round(seconds * 100) / 100,
      recordsPerSec: Math.round(o.end / seconds),
      peakRssMb: Math.round(hwm),
      peakRssSampledMb: Math.round(peakSampled),
      rssBeforeFirstRecordMb: Math.round(rssAtStart),
      peakHeapTotalMb: Math.round(heapPeak.heapTotal),
      peakHeapUsedMb: Math.round(heapPeak.heapUsed),
      peakExternalMb: Math.round(heapPeak.external),
      cgroupPeakMb: cgroup.peakMb(),
      cgroupFailcnt: cgroup.failcnt(),
      oomKills: cgroup.oomKills(),
      committed: o.committed,
      endOffsets: o.end,
      exitCode: code,
      cpuSeconds: round1(cpuSeconds),
      cpuSecondsPerMillion: round1(cpuSeconds / (o.end / 1e6)),
      v8Flags,
      loadAverage: loadavg().map(round1),
      at: new Date().toISOString(),
    }
    log(JSON.stringify(result))
    return result
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited(child)
    }
    await cgroup?.remove()
    await plan.release().catch((err) => log(`${name}: release: ${err}`))
    await deleteTopicsWith(prefix)
  }
}

const removeDist = process.argv.includes('--from-source') ? () => {} : useDist()
const results: Record<string, unknown>[] = []
try {
  for (const name of apps) {
    try {
      results.push(await measure(name))
    } catch (err) {
      log(`${name}: FAILED ${err instanceof Error ? err.message : String(err)}`)
      results.push({ app: name, error: String(err) })
    }
  }
} finally {
  removeDist()
}
process.stdout.write(`${JSON.stringify(results)}\n`)
process.exit(0)

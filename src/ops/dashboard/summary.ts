/**
 * The runtime numbers every app has, in one shape for the dashboard's overview whatever the app's own
 * /metrics looks like: totals (the page derives rates from successive reads), dead letters by code,
 * errors by stage, lag per partition, record latency, memory and checkpoint state.
 */

import type { RunningPipeline } from '../../runtime/runner.ts'
import type { MetricsSnapshot } from '../metrics.ts'

export interface DashboardSummary {
  readonly time: number
  readonly state: string
  readonly consumed_total: number
  readonly produced_total: number
  readonly dead_lettered_total: number
  readonly errors_total: number
  /** Dead letters by error code (all source topics together). */
  readonly dead_letters_by_code: Readonly<Record<string, number>>
  /** Processing errors by stage. */
  readonly errors_by_stage: Readonly<Record<string, number>>
  readonly lag: ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly lag: number }>
  readonly latency_ms: {
    readonly p50: number
    readonly p95: number
    readonly p99: number
    readonly count: number
  }
  readonly memory: { readonly rss_bytes: number; readonly heap_used_bytes: number }
  readonly checkpoint_error: string | null
  readonly last_checkpoint_at: number | null
}

/** `{ "code=X,topic=t": 3, … }` summed by one label. */
export function sumByLabel(series: unknown, label: string): Record<string, number> {
  const out: Record<string, number> = {}
  if (typeof series !== 'object' || series === null) return out
  for (const [key, value] of Object.entries(series)) {
    if (typeof value !== 'number') continue
    const pair = key.split(',').find((p) => p.startsWith(`${label}=`))
    const name = pair === undefined ? '(none)' : pair.slice(label.length + 1)
    out[name] = (out[name] ?? 0) + value
  }
  return out
}

export function runtimeSummary(
  running: RunningPipeline,
  snapshot: () => MetricsSnapshot,
  now: () => number = Date.now,
): DashboardSummary {
  const m = running.task.metrics
  const status = running.status()
  const snap = snapshot()
  const latency = m.recordLatency.summary()
  const mem = process.memoryUsage()
  const lag = [...running.lag()].map(([tp, n]) => {
    const i = tp.lastIndexOf(':')
    return { topic: tp.slice(0, i), partition: Number(tp.slice(i + 1)), lag: n }
  })
  return {
    time: now(),
    state: status.state,
    consumed_total: m.consumed.total(),
    produced_total: m.produced.total(),
    dead_lettered_total: m.deadLettered.total(),
    errors_total: m.errors.total(),
    dead_letters_by_code: sumByLabel(snap.weir_records_dead_lettered_total, 'code'),
    errors_by_stage: sumByLabel(snap.weir_processing_errors_total, 'stage'),
    lag,
    latency_ms: {
      p50: latency.p50 * 1000,
      p95: latency.p95 * 1000,
      p99: latency.p99 * 1000,
      count: latency.count,
    },
    memory: { rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed },
    checkpoint_error: status.checkpointError ?? null,
    last_checkpoint_at: status.lastCheckpointAt ?? null,
  }
}

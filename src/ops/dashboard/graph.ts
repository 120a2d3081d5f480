/**
 * The compiled topology (what `weir describe` prints) as nodes and edges for the dashboard's pipeline
 * view, each node with a running count the page turns into a rate: sources count records consumed from
 * their topic, topic sinks records produced to theirs (both exact), other stages the records the
 * runtime samples for stage latency times the sampling interval (an estimate, marked as such).
 */
import type { Topology } from '../../dsl/graph.ts'
import type { MetricsSnapshot } from '../metrics.ts'
import { sumByLabel } from './summary.ts'

export interface GraphNodeView {
  readonly id: number
  readonly name: string
  readonly kind: 'source' | 'processor' | 'topic-sink' | 'external-sink'
  readonly topic?: string
  readonly parents: readonly number[]
  readonly count: number
  /** false: estimated from sampled records. */
  readonly exact: boolean
  readonly errors: number
}

export interface PipelineGraphView {
  readonly name: string
  readonly time: number
  readonly nodes: readonly GraphNodeView[]
}

function stageCounts(series: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  if (typeof series !== 'object' || series === null) return out
  for (const [key, value] of Object.entries(series)) {
    const pair = key.split(',').find((p) => p.startsWith('stage='))
    const count = (value as { count?: unknown }).count
    if (pair !== undefined && typeof count === 'number') out[pair.slice(6)] = count
  }
  return out
}

export function pipelineGraph(
  topology: Topology,
  snapshot: () => MetricsSnapshot,
  options: { sampleEvery?: number; now?: () => number } = {},
): PipelineGraphView {
  const { sampleEvery = 64, now = Date.now } = options
  const snap = snapshot()
  const consumed = sumByLabel(snap.weir_records_consumed_total, 'topic')
  const produced = sumByLabel(snap.weir_records_produced_total, 'topic')
  const errors = sumByLabel(snap.weir_processing_errors_total, 'stage')
  const sampled = stageCounts(snap.weir_stage_latency_seconds)
  const nodes = topology.nodes().map((n): GraphNodeView => {
    const base = { id: n.id, name: n.name, kind: n.kind, errors: errors[n.name] ?? 0 }
    if (n.kind === 'source')
      return { ...base, topic: n.topic, parents: [], count: consumed[n.topic] ?? 0, exact: true }
    if (n.kind === 'topic-sink')
      return { ...base, topic: n.topic, parents: n.parents, count: produced[n.topic] ?? 0, exact: true }
    return { ...base, parents: n.parents, count: (sampled[n.name] ?? 0) * sampleEvery, exact: false }
  })
  return { name: topology.name, time: now(), nodes }
}

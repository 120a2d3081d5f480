/**
 * What a service's dashboard shows besides /health and /metrics: the runtime summary, the compiled
 * graph with per-node counts, the tail of the dead-letter topic, and the app's own views.
 */
import type { AppInstance } from '../apps/app.ts'
import type { Transport } from '../connectors/contract.ts'
import {
  type DashboardOptions,
  deadLetterSource,
  pipelineGraph,
  runtimeSummary,
} from '../ops/dashboard/index.ts'
import type { Metrics } from '../ops/metrics.ts'
import type { RunningPipeline } from '../runtime/runner.ts'

export function serviceDashboard(input: {
  readonly instance: AppInstance
  /** The running pipeline, or undefined while it starts (the ops server may be up before it). */
  readonly running: () => RunningPipeline | undefined
  readonly metrics: Metrics
  /** The app's transport, made on first use (the service binds its port before it makes one). */
  readonly transport: () => Transport
  readonly showValues: boolean
}): DashboardOptions {
  const { instance, running, metrics, transport } = input
  const snapshot = () => metrics.snapshot()
  // The runtime's default when the app names none.
  const dlqTopic = instance.run.deadLetterTopic ?? `${instance.pipeline.topology.name}-dlq`
  return {
    summary: () => {
      const r = running()
      return r === undefined ? undefined : runtimeSummary(r, snapshot)
    },
    graph: () => pipelineGraph(instance.pipeline.topology, snapshot),
    deadLetters: deadLetterSource({ transport, topic: dlqTopic, showValues: input.showValues }),
    ...(instance.views !== undefined && { views: instance.views }),
  }
}

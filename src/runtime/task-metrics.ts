import type { Counter, Histogram, Labels, MetricsRegistry } from '../core/metrics.ts'

/** The runtime's own metrics, with label objects cached so the hot path allocates nothing. */
export class TaskMetrics {
  readonly consumed: Counter
  readonly produced: Counter
  readonly deadLettered: Counter
  readonly errors: Counter
  readonly skipped: Counter
  readonly retries: Counter
  readonly stageLatency: Histogram
  readonly recordLatency: Histogram
  readonly checkpointSeconds: Histogram
  readonly checkpointFailures: Counter
  readonly #labels = new Map<string, Labels>()

  constructor(registry: MetricsRegistry) {
    this.consumed = registry.counter('weir_records_consumed_total', 'Records read from input topics')
    this.produced = registry.counter('weir_records_produced_total', 'Records written to output topics')
    this.deadLettered = registry.counter('weir_records_dead_lettered_total', 'Records sent to the dead-letter topic')
    this.errors = registry.counter('weir_processing_errors_total', 'Errors raised while processing, by stage and code')
    this.skipped = registry.counter('weir_records_skipped_total', 'Records dropped by a skip error policy')
    this.retries = registry.counter('weir_retries_total', 'Operator calls retried after an error')
    this.stageLatency = registry.histogram('weir_stage_latency_seconds', 'Time spent in each stage (sampled records)')
    this.recordLatency = registry.histogram(
      'weir_record_processing_seconds',
      'Time from a record entering the pipeline to being fully processed (sampled records)',
    )
    this.checkpointSeconds = registry.histogram('weir_checkpoint_seconds', 'Duration of checkpoints (flush and commit)')
    this.checkpointFailures = registry.counter('weir_checkpoint_failures_total', 'Checkpoints that failed to flush or commit')
  }

  readonly #single = new Map<string, Map<string, Labels>>()

  /** A cached `{ [name]: value }` label object (two map lookups, no string building). */
  label(name: string, value: string): Labels {
    let byValue = this.#single.get(name)
    if (byValue === undefined) {
      byValue = new Map()
      this.#single.set(name, byValue)
    }
    let l = byValue.get(value)
    if (l === undefined) {
      l = { [name]: value }
      byValue.set(value, l)
    }
    return l
  }

  labels2(a: string, av: string, b: string, bv: string): Labels {
    const k = `${a}\u0000${av}\u0000${b}\u0000${bv}`
    let l = this.#labels.get(k)
    if (l === undefined) {
      l = { [a]: av, [b]: bv }
      this.#labels.set(k, l)
    }
    return l
  }
}

/**
 * The metrics surface the runtime writes to. The implementation (src/ops/metrics.ts) renders it as JSON
 * and as Prometheus text; keeping the interface here lets operators record without importing HTTP code.
 */
export type Labels = Readonly<Record<string, string>>

export interface Counter {
  inc(labels?: Labels, amount?: number): void
  /** Current value for these labels (0 if never incremented). */
  get(labels?: Labels): number
  /** The sum over every label set (what "all topics" totals and rates need). */
  total(): number
}

export interface Gauge {
  set(value: number, labels?: Labels): void
  get(labels?: Labels): number | undefined
}

export interface Histogram {
  /** Observes a value in the histogram's unit (Weir uses seconds for latency, like Prometheus). */
  observe(value: number, labels?: Labels): void
  /** Count, sum and quantiles (p50/p95/p99) over everything observed for these labels. */
  summary(labels?: Labels): { count: number; sum: number; p50: number; p95: number; p99: number }
}

export interface MetricsRegistry {
  counter(name: string, help: string): Counter
  gauge(name: string, help: string): Gauge
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram
  /** A computed gauge read at scrape time (memory, lag); `type: 'counter'` for a computed count. */
  collect(
    name: string,
    help: string,
    read: () => ReadonlyArray<{ labels?: Labels; value: number }>,
    options?: { readonly type?: 'gauge' | 'counter' },
  ): void
  /**
   * Also expose another system's metric names, derived from Weir's (`'seed-002'`: the
   * `stream_processor_*` names of seed 002's dashboards). Optional: registries that cannot, ignore it.
   */
  compat?(profile: 'seed-002'): void
}

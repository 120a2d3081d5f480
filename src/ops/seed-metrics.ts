/**
 * The metric names seed 002's dashboards query (its prom-client `Metrics` class), derived from Weir's
 * own series at scrape time, so turning them on (`METRICS_COMPAT=seed-002`) costs nothing per record:
 *
 * | seed name | from |
 * |---|---|
 * | `stream_processor_messages_processed_total{topic,status}` | records consumed per input topic: `status="error"` the dead-lettered ones, `"success"` the rest |
 * | `stream_processor_latency_seconds` (histogram, buckets 0.001 0.01 0.1 0.5 1 5) | `weir_record_processing_seconds` observations (sampled records) |
 * | `stream_processor_consumer_lag{partition}` | `weir_consumer_lag`, summed over input topics per partition |
 * | `stream_processor_errors_total{type}` | `weir_processing_errors_total` by error code (VALIDATION_FAILED, DESERIALIZE_FAILED, …) |
 * | `stream_processor_throughput_rps` | records consumed per second over the last 10 s |
 */
import type { Labels } from '../core/metrics.ts'
import { braces, familyHeader, formatValue, renderLabelPairs } from './exposition.ts'
import { HistogramSeries } from './histogram.ts'

export const METRICS_COMPAT_PROFILES = ['seed-002'] as const
export type MetricsCompat = (typeof METRICS_COMPAT_PROFILES)[number]

/** The seed's `buckets: [0.001, 0.01, 0.1, 0.5, 1, 5]`. */
export const SEED_002_LATENCY_BUCKETS: readonly number[] = Object.freeze([0.001, 0.01, 0.1, 0.5, 1, 5])

export interface SeriesReader {
  /** Every series of a counter, gauge or collected family (registered name), [] when absent. */
  series(name: string): ReadonlyArray<{ readonly labels: Labels; readonly value: number }>
}

export interface Seed002Metrics {
  /** Mirrors each `weir_record_processing_seconds` observation. */
  readonly latency: HistogramSeries
  render(read: SeriesReader, throughput: number): string
}

export function seed002Metrics(): Seed002Metrics {
  const latency = new HistogramSeries(SEED_002_LATENCY_BUCKETS)
  return {
    latency,
    render(read, throughput) {
      let out = familyHeader(
        'stream_processor_messages_processed_total',
        'Total messages processed',
        'counter',
      )
      const dead = sumBy(read.series('weir_records_dead_lettered_total'), 'topic')
      for (const [topic, consumed] of sumBy(read.series('weir_records_consumed_total'), 'topic')) {
        const error = dead.get(topic) ?? 0
        out += line(
          'stream_processor_messages_processed_total',
          { topic, status: 'success' },
          Math.max(0, consumed - error),
        )
        out += line('stream_processor_messages_processed_total', { topic, status: 'error' }, error)
      }
      out += histogram('stream_processor_latency_seconds', 'Message processing latency', latency)
      out += familyHeader('stream_processor_consumer_lag', 'Consumer lag per partition', 'gauge')
      for (const [partition, lag] of sumBy(read.series('weir_consumer_lag'), 'partition'))
        out += line('stream_processor_consumer_lag', { partition }, lag)
      out += familyHeader('stream_processor_errors_total', 'Total processing errors', 'counter')
      for (const [type, n] of sumBy(read.series('weir_processing_errors_total'), 'code'))
        out += line('stream_processor_errors_total', { type }, n)
      out += familyHeader('stream_processor_throughput_rps', 'Messages per second', 'gauge')
      out += line('stream_processor_throughput_rps', {}, Math.round(throughput * 100) / 100)
      return out
    },
  }
}

function sumBy(series: ReadonlyArray<{ labels: Labels; value: number }>, label: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of series) {
    const key = s.labels[label]
    if (key === undefined) continue
    out.set(key, (out.get(key) ?? 0) + s.value)
  }
  return out
}

function line(name: string, labels: Labels, value: number): string {
  return `${name}${braces(renderLabelPairs(labels))} ${formatValue(value)}\n`
}

function histogram(name: string, help: string, h: HistogramSeries): string {
  let out = familyHeader(name, help, 'histogram')
  const cumulative = h.cumulative()
  const les = [...h.bounds.map(formatValue), '+Inf']
  for (let i = 0; i < les.length; i++)
    out += `${name}_bucket{le="${les[i]}"} ${formatValue(cumulative[i]!)}\n`
  out += `${name}_sum ${formatValue(h.sum)}\n${name}_count ${formatValue(h.count)}\n`
  return out
}

/**
 * The MetricsRegistry implementation: counters, gauges, histograms and computed gauges, rendered as a
 * JSON snapshot and as Prometheus text. Registering a name twice returns the same metric (operators in
 * different places can share `records_in_total`); registering it as another kind is an error.
 *
 * @example
 * const metrics = createMetrics()
 * const consumed = metrics.counter('messages_consumed_total', 'Records read from Kafka')
 * consumed.inc({ topic: 'trips' })
 * metrics.prometheus() // '# HELP weir_messages_consumed_total ...'
 */
import { ErrorCode, WeirError } from '../core/errors.ts'
import type { Counter, Gauge, Histogram, Labels, MetricsRegistry } from '../core/metrics.ts'
import {
  braces,
  familyHeader,
  formatValue,
  isValidMetricName,
  prefixedName,
  renderLabelPairs,
} from './exposition.ts'
import { bucketProblem, DEFAULT_BUCKETS, HistogramSeries, type HistogramSummary } from './histogram.ts'
import { SeriesTable } from './labels.ts'
import { readProcessStats, renderProcessStats } from './process-metrics.ts'
import { type Rate, rateOf } from './rate.ts'
import { type Seed002Metrics, type SeriesReader, seed002Metrics } from './seed-metrics.ts'

export interface MetricsOptions {
  /** Prepended to every metric name that does not already start with it (default `weir_`). */
  prefix?: string
  /** Distinct label sets per metric before new ones fold into `{overflow="true"}` (default 1,000). */
  maxSeriesPerMetric?: number
  /** Include process CPU, memory and uptime (default true). */
  processMetrics?: boolean
}

export type MetricsSnapshot = Record<string, unknown>

/** A counter that can also sum every label set (what a rate of "all topics" needs). */
export interface TotalCounter extends Counter {
  /** The sum over every label set, unlabelled included. */
  total(): number
}

export interface Metrics extends MetricsRegistry {
  counter(name: string, help: string): TotalCounter
  /**
   * JSON-friendly values keyed by the registered name: an unlabelled metric is its value (a number, or a
   * histogram summary); a labelled one is an object keyed by `name=value,...`. Process stats under `process`.
   */
  snapshot(): MetricsSnapshot
  /** Prometheus text exposition format 0.0.4. */
  prometheus(): string
}

interface Cell {
  value: number
}

type Family =
  | { kind: 'counter'; name: string; help: string; prom: string; table: SeriesTable<Cell> }
  | { kind: 'gauge'; name: string; help: string; prom: string; table: SeriesTable<Cell> }
  | {
      kind: 'histogram'
      name: string
      help: string
      prom: string
      table: SeriesTable<HistogramSeries>
      buckets: readonly number[]
      /** Also gets every observation (a compat profile's histogram with other buckets). */
      mirror?: HistogramSeries
    }
  | {
      kind: 'collect'
      name: string
      help: string
      prom: string
      read: () => ReadonlyArray<{ labels?: Labels; value: number }>
      type: 'gauge' | 'counter'
    }

function configError(message: string): WeirError {
  return new WeirError(ErrorCode.CONFIG_INVALID, message)
}

function sameBuckets(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ')
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const { prefix = 'weir_', maxSeriesPerMetric = 1000, processMetrics = true } = options
  const families = new Map<string, Family>()

  const register = <F extends Family>(kind: F['kind'], name: string, make: (prom: string) => F): F => {
    if (!isValidMetricName(name))
      throw configError(`metric name "${name}" must match [a-zA-Z_:][a-zA-Z0-9_:]*`)
    const prom = prefixedName(name, prefix)
    const existing = families.get(prom)
    if (existing !== undefined) {
      if (existing.kind !== kind)
        throw configError(`metric "${name}" is already registered as a ${existing.kind}`)
      return existing as F
    }
    const family = make(prom)
    families.set(prom, family)
    return family
  }

  const counter = (name: string, help: string): TotalCounter => {
    const { table } = register('counter', name, (prom) => ({
      kind: 'counter' as const,
      name,
      help,
      prom,
      table: new SeriesTable<Cell>(() => ({ value: 0 }), maxSeriesPerMetric),
    }))
    return {
      inc(labels, amount = 1) {
        if (!(amount >= 0)) throw new RangeError(`counter "${name}" can only increase (got ${amount})`)
        table.get(labels).value += amount
      },
      get: (labels) => table.peek(labels)?.value ?? 0,
      total() {
        let sum = 0
        for (const s of table.entries()) sum += s.cell.value
        return sum
      },
    }
  }

  const gauge = (name: string, help: string): Gauge => {
    const { table } = register('gauge', name, (prom) => ({
      kind: 'gauge' as const,
      name,
      help,
      prom,
      table: new SeriesTable<Cell>(() => ({ value: 0 }), maxSeriesPerMetric),
    }))
    return {
      set(value, labels) {
        table.get(labels).value = value
      },
      get: (labels) => table.peek(labels)?.value,
    }
  }

  const histogram = (name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS): Histogram => {
    const problem = bucketProblem(buckets)
    if (problem !== undefined) throw configError(`histogram "${name}": ${problem}`)
    const bounds = Object.freeze([...buckets])
    const family = register('histogram', name, (prom): Family & { kind: 'histogram' } => ({
      kind: 'histogram' as const,
      name,
      help,
      prom,
      buckets: bounds,
      table: new SeriesTable(() => new HistogramSeries(bounds), maxSeriesPerMetric),
    }))
    if (!sameBuckets(family.buckets, bounds))
      throw configError(`histogram "${name}" is already registered with other buckets`)
    const { table } = family
    const empty = new HistogramSeries(bounds)
    return {
      observe(value, labels) {
        table.get(labels).observe(value)
        family.mirror?.observe(value)
      },
      summary: (labels) => (table.peek(labels) ?? empty).summary(),
    }
  }

  const collect: Metrics['collect'] = (name, help, read, options) => {
    const type = options?.type ?? 'gauge'
    const family = register('collect', name, (prom) => ({ kind: 'collect' as const, name, help, prom, read, type }))
    family.read = read
  }

  const renderFamily = (family: Family): string => {
    switch (family.kind) {
      case 'counter':
      case 'gauge': {
        let out = familyHeader(family.prom, family.help, family.kind)
        for (const s of family.table.entries())
          out += `${family.prom}${s.rendered} ${formatValue(s.cell.value)}\n`
        return out
      }
      case 'histogram': {
        let out = familyHeader(family.prom, family.help, 'histogram')
        const les = [...family.buckets.map(formatValue), '+Inf']
        for (const s of family.table.entries()) {
          const sep = s.pairs === '' ? '' : ','
          const cumulative = s.cell.cumulative()
          for (let i = 0; i < les.length; i++) {
            out += `${family.prom}_bucket{${s.pairs}${sep}le="${les[i]}"} ${formatValue(cumulative[i]!)}\n`
          }
          out += `${family.prom}_sum${s.rendered} ${formatValue(s.cell.sum)}\n`
          out += `${family.prom}_count${s.rendered} ${formatValue(s.cell.count)}\n`
        }
        return out
      }
      case 'collect': {
        let samples: ReadonlyArray<{ labels?: Labels; value: number }>
        try {
          samples = family.read()
        } catch (err) {
          return `# weir: collecting ${family.prom} failed: ${errorMessage(err)}\n`
        }
        let out = familyHeader(family.prom, family.help, family.type)
        for (const s of samples)
          out += `${family.prom}${braces(renderLabelPairs(s.labels ?? {}))} ${formatValue(s.value)}\n`
        return out
      }
    }
  }

  const snapshotFamily = (family: Family): unknown => {
    if (family.kind === 'collect') {
      try {
        const samples = family.read()
        if (samples.length === 1 && Object.keys(samples[0]!.labels ?? {}).length === 0)
          return samples[0]!.value
        const out: Record<string, number> = {}
        for (const s of samples) {
          const labels = s.labels ?? {}
          const key = Object.keys(labels)
            .sort()
            .map((k) => `${k}=${labels[k]}`)
            .join(',')
          out[key] = s.value
        }
        return out
      } catch (err) {
        return { error: errorMessage(err) }
      }
    }
    const read = (cell: Cell | HistogramSeries): number | HistogramSummary =>
      cell instanceof HistogramSeries ? cell.summary() : cell.value
    const entries = [...(family.table as SeriesTable<Cell | HistogramSeries>).entries()]
    if (entries.length === 0)
      return family.kind === 'histogram' ? new HistogramSeries(family.buckets).summary() : 0
    if (entries.length === 1 && entries[0]!.jsonKey === '') return read(entries[0]!.cell)
    const out: Record<string, unknown> = {}
    for (const s of entries) out[s.jsonKey === '' ? '{}' : s.jsonKey] = read(s.cell)
    return out
  }

  /** Every series of a counter, gauge or collected family, for compat profiles. */
  const series: SeriesReader['series'] = (name) => {
    const family = families.get(prefixedName(name, prefix))
    if (family === undefined || family.kind === 'histogram') return []
    if (family.kind === 'collect') {
      try {
        return family.read().map((s) => ({ labels: s.labels ?? {}, value: s.value }))
      } catch {
        return []
      }
    }
    return [...family.table.entries()].map((e) => ({ labels: e.labels, value: e.cell.value }))
  }
  let seed002: { metrics: Seed002Metrics; throughput: Rate } | undefined

  return {
    counter,
    gauge,
    histogram,
    collect,
    compat(profile) {
      if (profile !== 'seed-002') throw configError(`unknown metrics compat profile "${String(profile)}"`)
      if (seed002 !== undefined) return
      const metrics = seed002Metrics()
      // Registered here if the runtime has not yet: same name, help and buckets as TaskMetrics.
      const latency = register('histogram', 'weir_record_processing_seconds', (prom): Family & { kind: 'histogram' } => ({
        kind: 'histogram' as const,
        name: 'weir_record_processing_seconds',
        help: 'Time from a record entering the pipeline to being fully processed (sampled records)',
        prom,
        buckets: DEFAULT_BUCKETS,
        table: new SeriesTable(() => new HistogramSeries(DEFAULT_BUCKETS), maxSeriesPerMetric),
      }))
      latency.mirror = metrics.latency
      const consumed = () => series('weir_records_consumed_total').reduce((sum, s) => sum + s.value, 0)
      seed002 = { metrics, throughput: rateOf(consumed) }
    },
    snapshot() {
      const out: MetricsSnapshot = {}
      for (const family of families.values()) out[family.name] = snapshotFamily(family)
      if (processMetrics) out.process = readProcessStats()
      return out
    },
    prometheus() {
      let out = ''
      for (const family of families.values()) out += renderFamily(family)
      if (processMetrics) out += renderProcessStats(readProcessStats(), prefix)
      if (seed002 !== undefined) out += seed002.metrics.render({ series }, seed002.throughput.perSecond())
      return out
    },
  }
}

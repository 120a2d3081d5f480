/**
 * StreamPulse's metrics (the seed's list: events processed, windows flushed, processing lag, alerts
 * generated, plus rows written per table) and its console lines ("Processed 150 events | Flushed 1
 * windows", "Wrote 3 records to content_stats") at INFO.
 */

import type pg from 'pg'
import type { Clock } from '../../core/clock.ts'
import type { Counter, Histogram, MetricsRegistry } from '../../core/metrics.ts'
import type { Logger } from '../../log/logger.ts'
import type { PartRow } from './domain.ts'
import type { MergeStatement } from './sql.ts'

export const SEED_TABLES = ['content_stats', 'region_health', 'device_stats', 'alerts'] as const
export type SeedTable = (typeof SEED_TABLES)[number]

export class StreamPulseMetrics {
  readonly #log: Logger
  readonly #clock: Clock
  readonly #logEvery: number
  readonly #events: Counter
  readonly #windows: Counter
  readonly #rows: Counter
  readonly #alerts: Counter
  readonly #closeToRow: Histogram
  /** When each partial row left its window (the window fired), for the close-to-row latency. */
  readonly #emittedAt = new WeakMap<PartRow, number>()
  /** Window starts written at least once, newest last (bounded: only recent windows can reappear). */
  readonly #flushedWindows = new Set<number>()
  #newestClosedEnd: number | undefined
  #lastProgressAt = Number.NEGATIVE_INFINITY
  #lastProgressCount = 0
  /** Events counted, kept here too: the counter's total() walks its series, too slow per event. */
  #eventCount = 0

  constructor(registry: MetricsRegistry, logger: Logger, clock: Clock, logEvery: number) {
    this.#log = logger
    this.#clock = clock
    this.#logEvery = logEvery
    this.#events = registry.counter(
      'streampulse_events_processed_total',
      'Download events read and validated',
    )
    this.#windows = registry.counter(
      'streampulse_windows_flushed_total',
      'Windows whose rows reached PostgreSQL (first write)',
    )
    this.#rows = registry.counter(
      'streampulse_rows_written_total',
      'Rows inserted or changed in PostgreSQL, by table',
    )
    this.#alerts = registry.counter('streampulse_alerts_generated_total', 'Alerts created, by severity')
    this.#closeToRow = registry.histogram(
      'streampulse_window_close_to_row_seconds',
      'From a window firing (its end passed, or a late event) to its rows committed in PostgreSQL',
    )
    registry.collect(
      'streampulse_processing_lag_seconds',
      'Now minus the end of the newest window written',
      () => {
        const lag = this.lagSeconds()
        return lag === undefined ? [] : [{ value: lag }]
      },
    )
  }

  /** An event passed validation (the pipeline's counting step). */
  event(): void {
    this.#events.inc()
    const n = ++this.#eventCount
    if (n - this.#lastProgressCount < this.#logEvery) return
    const now = this.#clock.now()
    if (now - this.#lastProgressAt < 1000) return
    this.#lastProgressAt = now
    this.#lastProgressCount = n - (n % this.#logEvery)
    this.#log.info(`Processed ${this.#lastProgressCount} events | Flushed ${this.#windows.total()} windows`)
  }

  /** A partial row left its window now. */
  emitted(row: PartRow): PartRow {
    this.#emittedAt.set(row, performance.now())
    return row
  }

  /** A flush committed: count rows per table, new windows and alerts; log what was written. */
  committed(
    rows: readonly PartRow[],
    plan: readonly MergeStatement[],
    results: readonly pg.QueryResult[],
  ): void {
    const now = performance.now()
    for (const r of rows) {
      const at = this.#emittedAt.get(r)
      if (at !== undefined) this.#closeToRow.observe((now - at) / 1000)
      const start = r.window_start.getTime()
      if (!this.#flushedWindows.has(start)) {
        this.#flushedWindows.add(start)
        this.#windows.inc()
        if (this.#flushedWindows.size > 10_000)
          this.#flushedWindows.delete(this.#flushedWindows.values().next().value!)
      }
      const end = r.window_end.getTime()
      if (this.#newestClosedEnd === undefined || end > this.#newestClosedEnd) this.#newestClosedEnd = end
    }
    for (let i = 0; i < plan.length; i++) {
      const { table } = plan[i]!
      const result = results[i]
      if (result === undefined || table === 'lock' || table === 'alerts_cleared') continue
      const written = result.rowCount ?? 0
      if (written === 0) continue
      this.#rows.inc({ table }, written)
      if (table === 'alerts') {
        for (const a of result.rows as Array<{ severity: string; inserted: boolean }>) {
          if (a.inserted) this.#alerts.inc({ severity: a.severity })
        }
      }
      this.#log.info(`Wrote ${written} records to ${table}`)
    }
  }

  lagSeconds(): number | undefined {
    return this.#newestClosedEnd === undefined
      ? undefined
      : Math.max(0, (this.#clock.now() - this.#newestClosedEnd) / 1000)
  }

  /** The app's /metrics JSON. */
  json(): Record<string, unknown> {
    const lag = this.lagSeconds()
    const latency = this.#closeToRow.summary()
    return {
      events_processed: this.#events.total(),
      windows_flushed: this.#windows.total(),
      rows_written: Object.fromEntries(SEED_TABLES.map((t) => [t, this.#rows.get({ table: t })])),
      alerts_generated: {
        WARNING: this.#alerts.get({ severity: 'WARNING' }),
        CRITICAL: this.#alerts.get({ severity: 'CRITICAL' }),
      },
      processing_lag_seconds: lag === undefined ? null : Math.round(lag * 1000) / 1000,
      window_close_to_row_seconds: { count: latency.count, p50: latency.p50, p99: latency.p99 },
    }
  }
}

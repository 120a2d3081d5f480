/**
 * The recent windows StreamPulse wrote, kept in memory for its dashboard: every partial row the sink
 * committed (a later write of the same partition's share replaces it, as the upsert does), merged across
 * partitions into region health, alerts and top content with the same arithmetic and rules as the SQL
 * (./sql.ts). Only the newest `keepWindows` window starts are kept, so memory stays bounded.
 *
 * It sees the partitions this instance processes: with several instances sharing the tables, each
 * dashboard shows its own share (`weir query streampulse` reads the merged tables).
 */
import type { PartRow } from './domain.ts'
import { ALERT_RULES } from './sql.ts'

export type Severity = 'WARNING' | 'CRITICAL'

export interface RegionWindow {
  readonly region: string
  readonly window_start: number
  readonly window_end: number
  readonly downloads: number
  readonly successful: number
  readonly failed: number
  /** 0–1, rounded to 4 places as region_health.success_rate. */
  readonly success_rate: number
  readonly avg_speed_mbps: number
  readonly avg_duration_s: number
  readonly total_bytes: number
}

export interface Alert {
  readonly window_start: number
  readonly region: string
  readonly alert_type: 'LOW_SUCCESS_RATE' | 'SLOW_DOWNLOADS' | 'HIGH_ERROR_RATE'
  readonly severity: Severity
  readonly value: number
  readonly threshold: number
  readonly message: string
}

export interface ContentTotal {
  readonly content_id: string
  readonly downloads: number
  readonly successful: number
  readonly failed: number
  readonly success_rate: number
  readonly total_bytes: number
}

const round = (v: number, places: number) => Math.round(v * 10 ** places) / 10 ** places

/** The seed's rules for one region window, as alerts (none when it is healthy). */
export function alertsFor(h: RegionWindow): Alert[] {
  const R = ALERT_RULES
  const out: Alert[] = []
  const base = { window_start: h.window_start, region: h.region }
  if (h.success_rate < R.successWarning) {
    const critical = h.success_rate < R.successCritical
    const threshold = critical ? R.successCritical : R.successWarning
    out.push({
      ...base,
      alert_type: 'LOW_SUCCESS_RATE',
      severity: critical ? 'CRITICAL' : 'WARNING',
      value: h.success_rate,
      threshold,
      message: `Success rate ${round(h.success_rate * 100, 1)}% in ${h.region} (below ${threshold * 100}%)`,
    })
  }
  if (h.avg_speed_mbps < R.slowMbps)
    out.push({
      ...base,
      alert_type: 'SLOW_DOWNLOADS',
      severity: 'WARNING',
      value: h.avg_speed_mbps,
      threshold: R.slowMbps,
      message: `Average speed ${h.avg_speed_mbps} Mbps in ${h.region} (below ${R.slowMbps} Mbps)`,
    })
  const errorRate = round(h.failed / h.downloads, 4)
  if (errorRate > R.errorRate)
    out.push({
      ...base,
      alert_type: 'HIGH_ERROR_RATE',
      severity: 'WARNING',
      value: errorRate,
      threshold: R.errorRate,
      message: `Error rate ${round(errorRate * 100, 1)}% in ${h.region} (above ${R.errorRate * 100}%)`,
    })
  return out
}

export class WindowBoard {
  readonly #keepWindows: number
  /** window start → partial-row key → row */
  readonly #windows = new Map<number, Map<string, PartRow>>()

  constructor(options: { keepWindows?: number } = {}) {
    this.#keepWindows = options.keepWindows ?? 10
  }

  /** Rows a flush committed (the sink's onCommitted). */
  committed(rows: readonly PartRow[]): void {
    for (const r of rows) {
      const start = r.window_start.getTime()
      let parts = this.#windows.get(start)
      if (parts === undefined) {
        if (this.#windows.size >= this.#keepWindows && start < Math.min(...this.#windows.keys())) continue
        parts = new Map()
        this.#windows.set(start, parts)
      }
      parts.set(`${r.kind}\u0001${r.group_key}\u0001${r.sub_key}\u0001${r.source_partition}`, r)
    }
    while (this.#windows.size > this.#keepWindows) this.#windows.delete(Math.min(...this.#windows.keys()))
  }

  /** Window starts held, newest first. */
  windowStarts(): number[] {
    return [...this.#windows.keys()].sort((a, b) => b - a)
  }

  /** Every region window held, newest window first, merged across partitions. */
  regionWindows(): RegionWindow[] {
    const out: RegionWindow[] = []
    for (const start of this.windowStarts()) {
      const byRegion = new Map<string, PartRow[]>()
      for (const r of this.#windows.get(start)!.values()) {
        if (r.kind !== 'region') continue
        const list = byRegion.get(r.group_key)
        if (list === undefined) byRegion.set(r.group_key, [r])
        else list.push(r)
      }
      for (const [region, parts] of byRegion) {
        const sum = (f: (p: PartRow) => number) => parts.reduce((a, p) => a + f(p), 0)
        const downloads = sum((p) => p.downloads)
        out.push({
          region,
          window_start: start,
          window_end: Math.max(...parts.map((p) => p.window_end.getTime())),
          downloads,
          successful: sum((p) => p.successful),
          failed: sum((p) => p.failed),
          success_rate: round(sum((p) => p.successful) / downloads, 4),
          avg_speed_mbps: round(sum((p) => p.speed_milli) / 1000 / downloads, 3),
          avg_duration_s: round(sum((p) => p.duration_ms) / 1000 / downloads, 3),
          total_bytes: sum((p) => p.bytes),
        })
      }
    }
    return out
  }

  /** Each region's newest window. */
  latestPerRegion(): RegionWindow[] {
    const seen = new Map<string, RegionWindow>()
    for (const w of this.regionWindows()) if (!seen.has(w.region)) seen.set(w.region, w)
    return [...seen.values()]
  }

  /** Alerts of every window held, newest window first, CRITICAL before WARNING. */
  alerts(): Alert[] {
    return this.regionWindows()
      .flatMap(alertsFor)
      .sort(
        (a, b) =>
          b.window_start - a.window_start ||
          a.severity.localeCompare(b.severity) ||
          a.region.localeCompare(b.region),
      )
  }

  /** Most downloaded content over the newest `windows` windows. */
  topContent(options: { windows: number; limit: number }): ContentTotal[] {
    const starts = new Set(this.windowStarts().slice(0, options.windows))
    const totals = new Map<string, { downloads: number; successful: number; failed: number; bytes: number }>()
    for (const start of starts) {
      for (const r of this.#windows.get(start)!.values()) {
        if (r.kind !== 'content') continue
        const t = totals.get(r.group_key) ?? { downloads: 0, successful: 0, failed: 0, bytes: 0 }
        t.downloads += r.downloads
        t.successful += r.successful
        t.failed += r.failed
        t.bytes += r.bytes
        totals.set(r.group_key, t)
      }
    }
    return [...totals]
      .sort((a, b) => b[1].downloads - a[1].downloads || a[0].localeCompare(b[0]))
      .slice(0, options.limit)
      .map(([content_id, t]) => ({
        content_id,
        downloads: t.downloads,
        successful: t.successful,
        failed: t.failed,
        success_rate: round(t.successful / t.downloads, 4),
        total_bytes: t.bytes,
      }))
  }
}

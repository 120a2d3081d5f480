/**
 * StreamPulse's dashboard tab: region health with its alerts (red CRITICAL, amber WARNING), top content
 * of the last windows, windows flushed and rows written per table, and late records (dead letters,
 * LATE_RECORD). All from memory: the metrics and the rows the sink committed (./window-board.ts), so a
 * page poll never queries PostgreSQL.
 */
import { type DashboardView, type PanelData, type PanelLevel, panelView } from '../../ops/dashboard/index.ts'
import { SEED_TABLES, type StreamPulseMetrics } from './metrics.ts'
import type { Severity, WindowBoard } from './window-board.ts'

/** Windows the top-content table adds up. */
const TOP_WINDOWS = 5

const levelOf = (s: Severity | undefined): PanelLevel =>
  s === 'CRITICAL' ? 'bad' : s === 'WARNING' ? 'warn' : ''

/** The fields of StreamPulseMetrics#json() the tab reads. */
export interface StreamPulseNumbers {
  readonly events_processed: number
  readonly windows_flushed: number
  readonly rows_written: Readonly<Record<(typeof SEED_TABLES)[number], number>>
  readonly alerts_generated: { readonly WARNING: number; readonly CRITICAL: number }
  readonly processing_lag_seconds: number | null
  readonly window_close_to_row_seconds: { readonly p50: number; readonly p99: number }
}

export function streamPulsePanel(
  metrics: StreamPulseNumbers,
  board: WindowBoard,
  settings: { windowMs: number; now: number },
): PanelData {
  const alerts = board.alerts()
  const worst = new Map<string, Severity>()
  const types = new Map<string, string[]>()
  const newest = board.windowStarts()[0]
  for (const a of alerts) {
    const key = `${a.window_start}|${a.region}`
    if (worst.get(key) !== 'CRITICAL') worst.set(key, a.severity)
    types.set(key, [...(types.get(key) ?? []), `${a.alert_type} (${a.severity})`])
  }
  const regions = board.latestPerRegion().map((h) => {
    const key = `${h.window_start}|${h.region}`
    return {
      ...h,
      success_pct: Math.round(h.success_rate * 1000) / 10,
      alerts: (types.get(key) ?? []).join(', ') || 'none',
      _level: levelOf(worst.get(key)),
    }
  })
  const rank = (l: PanelLevel) => (l === 'bad' ? 0 : l === 'warn' ? 1 : 2)
  regions.sort((a, b) => rank(a._level) - rank(b._level) || a.success_rate - b.success_rate)
  const lag = metrics.processing_lag_seconds
  const windowS = settings.windowMs / 1000
  const critical = metrics.alerts_generated.CRITICAL
  const warning = metrics.alerts_generated.WARNING
  const newestAlerts = alerts.filter((a) => a.window_start === newest)
  return {
    time: settings.now,
    sections: [
      {
        title: 'Windows',
        cards: [
          { id: 'events', name: 'Events processed', value: metrics.events_processed, rate: true },
          { id: 'windows', name: 'Windows flushed', value: metrics.windows_flushed, rate: true },
          {
            id: 'lag',
            name: 'Processing lag (now − newest window end)',
            value: lag,
            unit: 's',
            level: lag === null ? '' : lag > 10 * windowS ? 'bad' : lag > 3 * windowS ? 'warn' : 'ok',
            sub: `windows of ${windowS} s`,
          },
          {
            id: 'close-to-row',
            name: 'Window close → rows in PostgreSQL, p99',
            value: metrics.window_close_to_row_seconds.p99 * 1000,
            unit: 'ms',
            sub: `p50 ${Math.round(metrics.window_close_to_row_seconds.p50 * 1000)} ms`,
          },
          {
            id: 'alerts-critical',
            name: 'Alerts created: critical',
            value: critical,
            level: newestAlerts.some((a) => a.severity === 'CRITICAL') ? 'bad' : 'ok',
            sub: `${newestAlerts.filter((a) => a.severity === 'CRITICAL').length} in the newest window`,
          },
          {
            id: 'alerts-warning',
            name: 'Alerts created: warning',
            value: warning,
            level: newestAlerts.some((a) => a.severity === 'WARNING') ? 'warn' : 'ok',
            sub: `${newestAlerts.filter((a) => a.severity === 'WARNING').length} in the newest window`,
          },
        ],
        tables: [
          {
            id: 'rows-written',
            title: 'Rows written per table',
            key: 'table',
            columns: [
              { field: 'table', title: 'Table', text: true },
              { field: 'rows', title: 'Rows inserted or changed', rate: true },
            ],
            rows: SEED_TABLES.map((t) => ({ table: t, rows: metrics.rows_written[t] })),
          },
        ],
      },
      {
        title: 'Region health',
        note: 'Each region’s newest window, worst first; red: a CRITICAL alert, amber: a WARNING. From the rows this instance wrote (its partitions).',
        tables: [
          {
            id: 'regions',
            title: 'Newest window per region',
            empty: 'No window has been written yet (a window is written when the watermark passes its end).',
            columns: [
              { field: 'region', title: 'Region', text: true },
              { field: 'window_start', title: 'Window', unit: 'time' },
              { field: 'downloads', title: 'Downloads' },
              { field: 'success_pct', title: 'Success', unit: '%' },
              { field: 'avg_speed_mbps', title: 'Avg speed (Mbps)' },
              { field: 'avg_duration_s', title: 'Avg duration', unit: 's' },
              { field: 'total_bytes', title: 'Bytes', unit: 'bytes' },
              { field: 'alerts', title: 'Alerts', text: true },
            ],
            rows: regions,
          },
          {
            id: 'alerts',
            title: `Alerts, last ${board.windowStarts().length} windows`,
            empty: 'No alerts in the windows held.',
            columns: [
              { field: 'window_start', title: 'Window', unit: 'time' },
              { field: 'region', title: 'Region', text: true },
              { field: 'severity', title: 'Severity', text: true },
              { field: 'alert_type', title: 'Type', text: true },
              { field: 'message', title: 'Message', text: true },
            ],
            rows: alerts.slice(0, 100).map((a) => ({ ...a, _level: levelOf(a.severity) })),
          },
        ],
      },
      {
        title: `Top content, last ${TOP_WINDOWS} windows`,
        tables: [
          {
            id: 'top-content',
            title: 'Most downloaded',
            empty: 'No content window yet.',
            columns: [
              { field: 'content_id', title: 'Content', text: true },
              { field: 'downloads', title: 'Downloads' },
              { field: 'success_pct', title: 'Success', unit: '%' },
              { field: 'failed', title: 'Failed' },
              { field: 'total_bytes', title: 'Bytes', unit: 'bytes' },
            ],
            rows: board.topContent({ windows: TOP_WINDOWS, limit: 20 }).map((c) => ({
              ...c,
              success_pct: Math.round(c.success_rate * 1000) / 10,
              _level: c.success_rate < 0.8 ? ('warn' as const) : ('' as const),
            })),
          },
        ],
      },
    ],
  }
}

export function streamPulseView(
  metrics: StreamPulseMetrics,
  board: WindowBoard,
  settings: { windowMs: number; allowedLatenessMs: number; now: () => number },
): DashboardView {
  return panelView({
    id: 'streampulse',
    title: 'Regions and content',
    note: `Windows of ${settings.windowMs / 1000} s are written to PostgreSQL when the watermark passes their end, and rewritten for events up to ${settings.allowedLatenessMs / 1000} s late; later ones are dead letters (LATE_RECORD).`,
    deadLetterCodes: ['LATE_RECORD', 'VALIDATION_FAILED'],
    data: () =>
      streamPulsePanel(metrics.json() as unknown as StreamPulseNumbers, board, {
        windowMs: settings.windowMs,
        now: settings.now(),
      }),
  })
}

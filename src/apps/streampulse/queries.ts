/**
 * The seed's "real-time query" (<100 ms on indexed tables), as `weir query streampulse <query>`:
 * top content, region health and alerts over the last minutes, read from PostgreSQL.
 */
import type pg from 'pg'

export const QUERIES = {
  /** Most downloaded content over the range, with its success share. */
  'top-content': `SELECT content_id, sum(downloads)::bigint AS downloads, sum(successful)::bigint AS successful, sum(failed)::bigint AS failed,
  round(sum(successful)::numeric / sum(downloads), 4) AS success_rate, sum(total_bytes)::bigint AS total_bytes
FROM content_stats WHERE window_start >= $1
GROUP BY content_id ORDER BY downloads DESC, content_id LIMIT $2`,
  /** Each region over the range: downloads, success rate, download-weighted average speed and duration. */
  'region-health': `SELECT region, sum(downloads)::bigint AS downloads, round(sum(successful)::numeric / sum(downloads), 4) AS success_rate,
  round(sum(avg_speed_mbps * downloads) / sum(downloads), 3) AS avg_speed_mbps,
  round(sum(avg_duration_s * downloads) / sum(downloads), 3) AS avg_duration_s, count(*)::int AS windows
FROM region_health WHERE window_start >= $1
GROUP BY region ORDER BY success_rate, region LIMIT $2`,
  /** Alerts of the range, newest window first. */
  alerts: `SELECT window_start, region, alert_type, severity, value, threshold, message
FROM alerts WHERE window_start >= $1
ORDER BY window_start DESC, severity, region, alert_type LIMIT $2`,
} as const

export type QueryName = keyof typeof QUERIES

export function isQueryName(name: string | undefined): name is QueryName {
  return name !== undefined && Object.hasOwn(QUERIES, name)
}

export async function runQuery(
  client: pg.ClientBase,
  name: QueryName,
  options: { since: Date; limit: number },
): Promise<{ rows: Record<string, unknown>[]; newestWindow: Date | undefined }> {
  const { rows } = await client.query(QUERIES[name], [options.since, options.limit])
  if (rows.length > 0) return { rows, newestWindow: undefined }
  const table =
    name === 'top-content' ? 'content_stats' : name === 'region-health' ? 'region_health' : 'alerts'
  const newest = await client.query<{ w: Date | null }>(`SELECT max(window_start) AS w FROM ${table}`)
  return { rows, newestWindow: newest.rows[0]?.w ?? undefined }
}

/** Rows as an aligned text table. */
export function formatTable(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return ''
  const cols = Object.keys(rows[0]!)
  const cell = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null ? '' : String(v))
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  return [
    line(cols),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ].join('\n')
}

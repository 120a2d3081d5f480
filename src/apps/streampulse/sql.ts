/**
 * StreamPulse's tables and the statements that keep them right.
 *
 * Window state lives per input partition (and, within it, per content bucket: ./window-groups.ts), so
 * a group (a content, a region, a device) seen on several partitions has one partial result per
 * partition and bucket. Each partial is upserted into `streampulse_window_parts`, keyed by (kind,
 * window, group, source_partition = partition × buckets + bucket); in the same transaction the
 * seed's tables are recomputed from all partials of the groups the flush touched, and the alerts from
 * the recomputed region rows. Every statement is an idempotent upsert: a replay after a crash writes
 * the same rows again. An advisory lock serialises flushes of instances sharing the tables, so none
 * recomputes from partials another has not committed yet.
 */
import type { PartRow } from './domain.ts'

/** The seed's alert rules (region health, per window). */
export const ALERT_RULES = {
  /** success_rate below this → LOW_SUCCESS_RATE WARNING */
  successWarning: 0.9,
  /** success_rate below this → LOW_SUCCESS_RATE CRITICAL */
  successCritical: 0.8,
  /** avg_speed_mbps below this → SLOW_DOWNLOADS WARNING */
  slowMbps: 10,
  /** failed / downloads above this → HIGH_ERROR_RATE WARNING */
  errorRate: 0.1,
} as const

export const PARTS_TABLE = 'streampulse_window_parts'
export const PART_COLUMNS = [
  'kind',
  'window_start',
  'window_end',
  'group_key',
  'sub_key',
  'source_partition',
  'downloads',
  'successful',
  'failed',
  'bytes',
  'speed_milli',
  'duration_ms',
] as const

/**
 * Created at start if missing. Group keys are checked on the partial rows (length, and PostgreSQL's
 * own refusal of NUL bytes in text), so a bad key is refused row by row there, as a dead letter, and
 * never fails the recomputation of the seed's tables.
 */
export const CREATE_TABLES = `
CREATE TABLE IF NOT EXISTS ${PARTS_TABLE} (
  kind text NOT NULL CHECK (kind IN ('content', 'region', 'device')),
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  group_key text NOT NULL CHECK (length(group_key) BETWEEN 1 AND 256),
  sub_key text NOT NULL CHECK (length(sub_key) <= 256),
  source_partition integer NOT NULL,
  downloads bigint NOT NULL CHECK (downloads > 0),
  successful bigint NOT NULL,
  failed bigint NOT NULL,
  bytes bigint NOT NULL,
  speed_milli bigint NOT NULL,
  duration_ms bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, window_start, group_key, sub_key, source_partition)
);
CREATE TABLE IF NOT EXISTS content_stats (
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  content_id text NOT NULL,
  downloads bigint NOT NULL,
  successful bigint NOT NULL,
  failed bigint NOT NULL,
  total_bytes bigint NOT NULL,
  avg_speed_mbps numeric(12, 3) NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (window_start, content_id)
);
CREATE INDEX IF NOT EXISTS content_stats_content_idx ON content_stats (content_id, window_start DESC);
CREATE TABLE IF NOT EXISTS region_health (
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  region text NOT NULL,
  downloads bigint NOT NULL,
  successful bigint NOT NULL,
  failed bigint NOT NULL,
  success_rate numeric(5, 4) NOT NULL,
  avg_speed_mbps numeric(12, 3) NOT NULL,
  avg_duration_s numeric(12, 3) NOT NULL,
  total_bytes bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (window_start, region)
);
CREATE INDEX IF NOT EXISTS region_health_region_idx ON region_health (region, window_start DESC);
CREATE TABLE IF NOT EXISTS device_stats (
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  device_type text NOT NULL,
  os_version text NOT NULL,
  downloads bigint NOT NULL,
  successful bigint NOT NULL,
  failed bigint NOT NULL,
  success_rate numeric(5, 4) NOT NULL,
  avg_speed_mbps numeric(12, 3) NOT NULL,
  avg_duration_s numeric(12, 3) NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (window_start, device_type, os_version)
);
CREATE INDEX IF NOT EXISTS device_stats_device_idx ON device_stats (device_type, os_version, window_start DESC);
CREATE TABLE IF NOT EXISTS alerts (
  window_start timestamptz NOT NULL,
  region text NOT NULL,
  alert_type text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('WARNING', 'CRITICAL')),
  value numeric(12, 4) NOT NULL,
  threshold numeric(12, 4) NOT NULL,
  message text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (window_start, region, alert_type)
);
CREATE INDEX IF NOT EXISTS alerts_created_idx ON alerts (created_at DESC);
`

export type MergeTable =
  | 'lock'
  | 'content_stats'
  | 'region_health'
  | 'device_stats'
  | 'alerts'
  | 'alerts_cleared'

export interface MergeStatement {
  readonly table: MergeTable
  readonly text: string
  readonly values: unknown[]
}

/** Columns as `sum(p.x)` and the ON CONFLICT assignments that rewrite only changed rows. */
const totals = `sum(p.downloads), sum(p.successful), sum(p.failed)`
const rate = `round(sum(p.successful)::numeric / sum(p.downloads), 4)`
const speed = `round(sum(p.speed_milli)::numeric / 1000 / sum(p.downloads), 3)`
const duration = `round(sum(p.duration_ms)::numeric / 1000 / sum(p.downloads), 3)`

function upsert(
  table: string,
  key: readonly string[],
  columns: readonly string[],
  select: string,
  kind: string,
  subKey: boolean,
): string {
  const set = columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')
  const changed = `(${columns.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => `EXCLUDED.${c}`).join(', ')})`
  return `INSERT INTO ${table} AS t (window_start, window_end, ${key.join(', ')}, ${columns.join(', ')}, updated_at)
SELECT p.window_start, max(p.window_end), p.group_key${subKey ? ', p.sub_key' : ''}, ${select}, now()
FROM ${PARTS_TABLE} p
JOIN unnest($1::timestamptz[], $2::text[], $3::text[]) AS k(window_start, group_key, sub_key)
  ON p.window_start = k.window_start AND p.group_key = k.group_key AND p.sub_key = k.sub_key
WHERE p.kind = '${kind}'
GROUP BY p.window_start, p.group_key${subKey ? ', p.sub_key' : ''}
ON CONFLICT (window_start, ${key.join(', ')}) DO UPDATE SET window_end = EXCLUDED.window_end, ${set}, updated_at = EXCLUDED.updated_at
WHERE ${changed}`
}

const CONTENT = upsert(
  'content_stats',
  ['content_id'],
  ['downloads', 'successful', 'failed', 'total_bytes', 'avg_speed_mbps'],
  `${totals}, sum(p.bytes), ${speed}`,
  'content',
  false,
)
const REGION = upsert(
  'region_health',
  ['region'],
  ['downloads', 'successful', 'failed', 'success_rate', 'avg_speed_mbps', 'avg_duration_s', 'total_bytes'],
  `${totals}, ${rate}, ${speed}, ${duration}, sum(p.bytes)`,
  'region',
  false,
)
const DEVICE = upsert(
  'device_stats',
  ['device_type', 'os_version'],
  ['downloads', 'successful', 'failed', 'success_rate', 'avg_speed_mbps', 'avg_duration_s'],
  `${totals}, ${rate}, ${speed}, ${duration}`,
  'device',
  true,
)

const R = ALERT_RULES
const errorRate = 'round(h.failed::numeric / h.downloads, 4)'
/** The region rows of this flush, as `h`. */
const touchedRegions = `region_health h JOIN unnest($1::timestamptz[], $2::text[]) AS k(window_start, region)
  ON h.window_start = k.window_start AND h.region = k.region`

/** One row per rule a region's window breaks. `value` is what broke it, `threshold` the limit. */
const ALERTS = `INSERT INTO alerts AS a (window_start, region, alert_type, severity, value, threshold, message)
SELECT h.window_start, h.region, 'LOW_SUCCESS_RATE',
  CASE WHEN h.success_rate < ${R.successCritical} THEN 'CRITICAL' ELSE 'WARNING' END,
  h.success_rate,
  CASE WHEN h.success_rate < ${R.successCritical} THEN ${R.successCritical} ELSE ${R.successWarning} END,
  format('Success rate %s%% in %s (below %s%%)', round(h.success_rate * 100, 1), h.region,
    CASE WHEN h.success_rate < ${R.successCritical} THEN ${R.successCritical * 100} ELSE ${R.successWarning * 100} END)
FROM ${touchedRegions} WHERE h.success_rate < ${R.successWarning}
UNION ALL
SELECT h.window_start, h.region, 'SLOW_DOWNLOADS', 'WARNING', h.avg_speed_mbps, ${R.slowMbps},
  format('Average speed %s Mbps in %s (below %s Mbps)', h.avg_speed_mbps, h.region, ${R.slowMbps})
FROM ${touchedRegions} WHERE h.avg_speed_mbps < ${R.slowMbps}
UNION ALL
SELECT h.window_start, h.region, 'HIGH_ERROR_RATE', 'WARNING', ${errorRate}, ${R.errorRate},
  format('Error rate %s%% in %s (above %s%%)', round(${errorRate} * 100, 1), h.region, ${R.errorRate * 100})
FROM ${touchedRegions} WHERE ${errorRate} > ${R.errorRate}
ON CONFLICT (window_start, region, alert_type) DO UPDATE
  SET severity = EXCLUDED.severity, value = EXCLUDED.value, threshold = EXCLUDED.threshold, message = EXCLUDED.message, updated_at = now()
  WHERE (a.severity, a.value, a.threshold) IS DISTINCT FROM (EXCLUDED.severity, EXCLUDED.value, EXCLUDED.threshold)
RETURNING a.severity, (a.xmax = 0) AS inserted`

/** A late event that lifted a window above a threshold clears its alert: alerts always match region_health. */
const CLEAR_ALERTS = `DELETE FROM alerts a USING ${touchedRegions}
WHERE a.window_start = h.window_start AND a.region = h.region AND NOT (
  (a.alert_type = 'LOW_SUCCESS_RATE' AND h.success_rate < ${R.successWarning}) OR
  (a.alert_type = 'SLOW_DOWNLOADS' AND h.avg_speed_mbps < ${R.slowMbps}) OR
  (a.alert_type = 'HIGH_ERROR_RATE' AND ${errorRate} > ${R.errorRate}))`

/** Every flush of every instance takes this transaction-scoped lock before recomputing. */
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('streampulse:' || current_schema()))`

/** The distinct (window, group, sub-group) keys of one kind, as three parallel arrays. */
function keysOf(rows: readonly PartRow[], kind: PartRow['kind']): [Date[], string[], string[]] | undefined {
  const seen = new Set<string>()
  const starts: Date[] = []
  const groups: string[] = []
  const subs: string[] = []
  for (const r of rows) {
    if (r.kind !== kind) continue
    const k = `${r.window_start.getTime()}\u0001${r.group_key}\u0001${r.sub_key}`
    if (seen.has(k)) continue
    seen.add(k)
    starts.push(r.window_start)
    groups.push(r.group_key)
    subs.push(r.sub_key)
  }
  return starts.length === 0 ? undefined : [starts, groups, subs]
}

/** What a flush runs after writing its partial rows, in order; `table` says what each result counts. */
export function mergeStatements(rows: readonly PartRow[]): MergeStatement[] {
  const out: MergeStatement[] = [{ table: 'lock', text: LOCK, values: [] }]
  const content = keysOf(rows, 'content')
  if (content) out.push({ table: 'content_stats', text: CONTENT, values: content })
  const region = keysOf(rows, 'region')
  if (region) out.push({ table: 'region_health', text: REGION, values: region })
  const device = keysOf(rows, 'device')
  if (device) out.push({ table: 'device_stats', text: DEVICE, values: device })
  if (region) {
    out.push({ table: 'alerts', text: ALERTS, values: [region[0], region[1]] })
    out.push({ table: 'alerts_cleared', text: CLEAR_ALERTS, values: [region[0], region[1]] })
  }
  return out
}

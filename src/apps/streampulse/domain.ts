/**
 * StreamPulse's events and window arithmetic. Sums are kept in integers (speed in thousandths of a
 * Mbps, duration in ms) so partial sums of any partitions, added in any order, give the same totals:
 * a replay rewrites exactly the same rows.
 */
import type { ValidationResult, Violation } from '../../dsl/operators/validate.ts'

/** One record of `schemas/event.avsc`. */
export interface DownloadEvent {
  readonly event_id: string
  readonly user_id: string
  readonly content_id: string
  readonly content_type: string
  readonly region: string
  readonly device_type: string
  readonly os_version: string
  readonly status: 'success' | 'failed'
  readonly error_code: string | null
  readonly bytes: number
  readonly download_speed_mbps: number
  readonly duration_seconds: number
  /** Event time, epoch ms. */
  readonly timestamp: number
}

/** A group's totals in a window (content, region or device), as a partial row carries them. */
export interface DownloadTotals {
  downloads: number
  successful: number
  failed: number
  bytes: number
  speedMilli: number
  durationMs: number
}

const TEXT_FIELDS = ['event_id', 'user_id', 'content_id', 'region', 'device_type', 'os_version'] as const

/** Empty or only white space; a visible ASCII first character answers without trimming. */
function blank(s: string): boolean {
  const c = s.charCodeAt(0)
  return !(c > 32 && c < 127) && s.trim() === ''
}

const nonNegative = (v: number) => Number.isFinite(v) && v >= 0

/** The common case, checked with no allocation (this runs for every event). */
function valid(e: DownloadEvent): boolean {
  for (const f of TEXT_FIELDS) if (blank(e[f])) return false
  return (
    nonNegative(e.bytes) &&
    nonNegative(e.download_speed_mbps) &&
    nonNegative(e.duration_seconds) &&
    Number.isSafeInteger(e.timestamp) &&
    e.timestamp > 0
  )
}

/**
 * What Avro cannot say: identifiers present, amounts non-negative and finite, an event time. A bad
 * event is a dead letter naming every violation (VALIDATION_FAILED).
 */
export function validateEvent(e: DownloadEvent): ValidationResult<DownloadEvent> {
  if (valid(e)) return { ok: true, value: e }
  const violations: Violation[] = []
  for (const f of TEXT_FIELDS) {
    if (blank(e[f])) violations.push({ rule: 'required', field: f, message: `${f} is empty` })
  }
  const amounts = [
    ['bytes', e.bytes],
    ['download_speed_mbps', e.download_speed_mbps],
    ['duration_seconds', e.duration_seconds],
  ] as const
  for (const [field, v] of amounts) {
    if (!nonNegative(v))
      violations.push({
        rule: 'non_negative',
        field,
        message: `${field} must be a finite number ≥ 0`,
        value: v,
      })
  }
  if (!Number.isSafeInteger(e.timestamp) || e.timestamp <= 0) {
    violations.push({
      rule: 'event_time',
      field: 'timestamp',
      message: 'timestamp must be epoch milliseconds',
      value: e.timestamp,
    })
  }
  return { ok: false, violations }
}

/** The three groupings of the seed, as the `kind` of a partial row. */
export type Grouping = 'content' | 'region' | 'device'

/**
 * One partition's share of one group's window, as written to `streampulse_window_parts`. The final
 * tables are recomputed from these in the same transaction (see ./sql.ts).
 */
export type PartRow = {
  readonly kind: Grouping
  readonly window_start: Date
  readonly window_end: Date
  readonly group_key: string
  readonly sub_key: string
  /** The window slot that computed this share: input partition × CONTENT_BUCKETS + content bucket. */
  readonly source_partition: number
  readonly downloads: number
  readonly successful: number
  readonly failed: number
  readonly bytes: number
  readonly speed_milli: number
  readonly duration_ms: number
}

export function partRow(
  kind: Grouping,
  group: readonly [string, string],
  window: { start: number; end: number },
  partition: number,
  t: DownloadTotals,
): PartRow {
  return {
    kind,
    window_start: new Date(window.start),
    window_end: new Date(window.end),
    group_key: group[0],
    sub_key: group[1],
    source_partition: partition,
    downloads: t.downloads,
    successful: t.successful,
    failed: t.failed,
    bytes: t.bytes,
    speed_milli: t.speedMilli,
    duration_ms: t.durationMs,
  }
}

/**
 * Prometheus text exposition format 0.0.4: names, label escaping and number formatting.
 * https://prometheus.io/docs/instrumenting/exposition_formats/ (kept dependency-free on purpose).
 */
import type { Labels } from '../core/metrics.ts'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name)
}

/** `records_in_total` → `weir_records_in_total`; a name that already carries the prefix is kept. */
export function prefixedName(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name : `${prefix}${name}`
}

/** Label names allow `[a-zA-Z_][a-zA-Z0-9_]*`; anything else becomes `_` rather than breaking the scrape. */
export function sanitizeLabelName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_]/g, '_')
  return /^[0-9]/.test(clean) || clean === '' ? `_${clean}` : clean
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** HELP text escapes backslash and line feed (quotes stay as they are). */
export function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

/** `a="1",b="x"` with names sorted, without braces, so `le` can be appended for histogram buckets. */
export function renderLabelPairs(labels: Labels): string {
  const names = Object.keys(labels).sort()
  return names.map((n) => `${sanitizeLabelName(n)}="${escapeLabelValue(String(labels[n]))}"`).join(',')
}

/** Wraps label pairs in braces; no labels renders as the empty string. */
export function braces(pairs: string): string {
  return pairs === '' ? '' : `{${pairs}}`
}

export function familyHeader(name: string, help: string, type: 'counter' | 'gauge' | 'histogram'): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`
}

/**
 * The traffic app's data-quality rules (seed 002 §2.4): which rule set runs (`DQ_RULES` preset or a
 * `DQ_RULES_FILE`), checked on the raw nested reading, with per-rule pass/fail counters. `duplicate`
 * rules do not run in memory here: each becomes a durable dedupe operator (TTL, bounded keys, a
 * changelog), so a restart still recognises repeats.
 */
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { MetricsRegistry } from '../../core/metrics.ts'
import {
  CLOCK_SKEW_MS,
  compileRules,
  parseRuleSet,
  type Rule,
  type RuleOf,
  type RuleSet,
  type RuleSetInput,
  trafficRules,
  type Violation,
} from '../../rules/index.ts'

const YEAR_MS = 365 * 24 * 3_600_000

/** Seed 001's checks, on the raw reading: presence, speed 0–120 mph, volume 0–10,000 veh/h, time sane. */
export const seed001Rules = {
  name: 'seed-001',
  rules: [
    {
      id: 'required',
      type: 'required',
      fields: [
        'sensor_id',
        'timestamp',
        'traffic_data.speed_mph',
        'traffic_data.volume_vehicles_per_hour',
        'location.highway',
        'location.direction',
      ],
    },
    { id: 'speed-range', type: 'range', field: 'traffic_data.speed_mph', min: 0, max: 120 },
    {
      id: 'volume-range',
      type: 'range',
      field: 'traffic_data.volume_vehicles_per_hour',
      min: 0,
      max: 10_000,
    },
    { id: 'timestamp-not-in-future', type: 'notInFuture', field: 'timestamp', skewMs: CLOCK_SKEW_MS },
    { id: 'timestamp-max-age', type: 'maxAge', field: 'timestamp', maxAgeMs: YEAR_MS },
  ],
} as const satisfies RuleSetInput

/**
 * Seed 002's DataQualityValidator (`trafficRules`: required sensor_id/timestamp/speed/coordinates,
 * speed 0–120, volume 0–10,000, occupancy 0–100 %, LA bounds, known sensors, not in the future, at
 * most 1 h old, no repeat of sensor_id + timestamp within 1 h, at most 10,000 keys per partition) plus
 * the fields seed 001 needs to build its flat record (volume, highway, direction).
 */
export const seed002Rules: RuleSetInput = {
  ...trafficRules,
  name: 'seed-002',
  rules: trafficRules.rules.map((r) =>
    r.id === 'required'
      ? {
          ...r,
          fields: [
            ...r.fields,
            'traffic_data.volume_vehicles_per_hour',
            'location.highway',
            'location.direction',
          ],
        }
      : r,
  ),
}

export const DQ_PRESETS = { 'seed-002': seed002Rules, 'seed-001': seed001Rules } as const
export const DQ_PRESET_NAMES = ['seed-002', 'seed-001'] as const
export type DqPreset = (typeof DQ_PRESET_NAMES)[number]

/** Reads the rule set: a file (JSON, or YAML by extension) wins over the preset. Errors name the variable. */
export function loadTrafficRules(settings: {
  DQ_RULES: DqPreset
  DQ_RULES_FILE?: string | undefined
}): RuleSet {
  const file = settings.DQ_RULES_FILE
  if (file === undefined) return parseRuleSet(DQ_PRESETS[settings.DQ_RULES])
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `DQ_RULES_FILE ${file}: cannot read it (${(err as Error).message})`,
      {
        cause: err,
      },
    )
  }
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase())
  let data: unknown
  try {
    data = yaml ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `DQ_RULES_FILE ${file}: not ${yaml ? 'YAML' : 'JSON'} (${(err as Error).message})`,
      { cause: err },
    )
  }
  try {
    return parseRuleSet(data)
  } catch (err) {
    const e = err as WeirError
    throw new WeirError(ErrorCode.CONFIG_INVALID, `DQ_RULES_FILE ${file}: ${e.message}`, {
      cause: err,
      details: e.details,
    })
  }
}

export interface TrafficQuality {
  /** Every violation of the stateless rules ([] = passes them). */
  check(raw: unknown): readonly Violation[]
  /** The `duplicate` rules, for durable dedupe operators. */
  readonly duplicates: readonly RuleOf<'duplicate'>[]
  /** Rule ids in order, for counters and `weir describe`. */
  readonly ruleIds: readonly string[]
  /** Counts one record that reached a duplicate rule (passes = checked − failures). */
  countDuplicateCheck(ruleId: string): void
  /** Per rule: records checked, passed and failed (the /metrics JSON). */
  summary(): Record<string, { checked: number; passed: number; failed: number }>
}

/**
 * Compiles the stateless rules and registers, per rule, `weir_dq_rule_checks_total{rule}` (records the
 * rule looked at), `weir_dq_rule_failed_total{rule}` and `weir_dq_rule_passes_total{rule}`, computed at
 * scrape time so a valid record costs one increment, not one per rule.
 */
export function trafficQuality(
  ruleSet: RuleSet,
  options: { now: () => number; metrics?: MetricsRegistry },
): TrafficQuality {
  const stateless: Rule[] = ruleSet.rules.filter((r) => r.type !== 'duplicate')
  const duplicates = ruleSet.rules.filter((r): r is RuleOf<'duplicate'> => r.type === 'duplicate')
  const check =
    stateless.length > 0 ? compileRules({ ...ruleSet, rules: stateless }, { now: options.now }) : () => []
  const m = options.metrics
  // Stateless failures counted here; a duplicate rule's are its dedupe operator's drops.
  const failures = new Map<string, number>()
  const dropped = m?.counter(
    'weir_dedupe_dropped_total',
    'Records dropped as repeats of a key seen within the dedupe span',
  ) ?? { get: () => 0 }
  const checks = new Map<string, number>()
  let checked = 0
  const ids = ruleSet.rules.map((r) => r.id)
  const checkedBy = (id: string) => (duplicates.some((d) => d.id === id) ? (checks.get(id) ?? 0) : checked)
  const failed = (id: string) =>
    duplicates.some((d) => d.id === id) ? dropped.get({ operator: `dq-${id}` }) : (failures.get(id) ?? 0)
  if (m) {
    const counter = { type: 'counter' } as const
    m.collect(
      'weir_dq_rule_checks_total',
      'Records a data-quality rule looked at, by rule',
      () => ids.map((rule) => ({ labels: { rule }, value: checkedBy(rule) })),
      counter,
    )
    m.collect(
      'weir_dq_rule_passes_total',
      'Records that passed a data-quality rule, by rule',
      () => ids.map((rule) => ({ labels: { rule }, value: checkedBy(rule) - failed(rule) })),
      counter,
    )
    m.collect(
      'weir_dq_rule_failed_total',
      'Records that failed a data-quality rule, by rule (repeats included)',
      () => ids.map((rule) => ({ labels: { rule }, value: failed(rule) })),
      counter,
    )
  }
  return {
    check(raw) {
      checked++
      const violations = check(raw)
      if (violations.length > 0) {
        const seen = new Set<string>()
        for (const v of violations) {
          if (seen.has(v.rule)) continue
          seen.add(v.rule)
          failures.set(v.rule, (failures.get(v.rule) ?? 0) + 1)
        }
      }
      return violations
    },
    duplicates,
    ruleIds: ruleSet.rules.map((r) => r.id),
    countDuplicateCheck(ruleId) {
      checks.set(ruleId, (checks.get(ruleId) ?? 0) + 1)
    },
    summary() {
      return Object.fromEntries(
        ids.map((id) => [
          id,
          { checked: checkedBy(id), passed: checkedBy(id) - failed(id), failed: failed(id) },
        ]),
      )
    },
  }
}

/** The value of a dotted path, for duplicate keys. */
export function pathValue(value: unknown, path: string): unknown {
  let v: unknown = value
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[part]
  }
  return v
}

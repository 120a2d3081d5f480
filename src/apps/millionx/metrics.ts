/**
 * The schema validator's metrics (seed 004): total validated, passed, failed, pass rate, failure types,
 * per-rule failure counters, DLQ rate. Counters go to the shared registry (Prometheus:
 * `weir_validated_records_total{source,result}`, `weir_validation_failures_total{rule}`,
 * `weir_validation_failure_types_total{type}`, gauge `weir_validation_pass_rate` as a 0–1 ratio); the
 * /metrics JSON reads the same numbers in the seed's shape, rates as percentages.
 *
 * Failure counts are per violation: a record with three violations adds three. An unreadable record
 * (not JSON) is one failure of type `deserialize`.
 *
 * @example
 * const m = new ValidatorMetrics(metrics)
 * m.failed('source.market.daraz', violations)
 * m.json() // { total_validated: 1, passed: 0, failed: 1, validation_pass_rate: 0, failure_types: { … }, … }
 */
import type { Counter, MetricsRegistry } from '../../core/metrics.ts'
import type { Violation } from '../../rules/index.ts'

/** Rule id for metrics: array indexes folded (`hashtags.3` → `hashtags.*`), so series stay bounded. */
export function ruleLabel(rule: string): string {
  return rule.replace(/(^|[.:])\d+(?=$|[.:])/g, '$1*')
}

interface SourceCounts {
  passed: number
  failed: number
}

export class ValidatorMetrics {
  readonly #records: Counter
  readonly #byRule: Counter
  readonly #byType: Counter
  readonly #sources = new Map<string, SourceCounts>()
  readonly #rules = new Map<string, number>()
  readonly #types = new Map<string, number>()
  #passed = 0
  #failed = 0

  constructor(registry: MetricsRegistry) {
    this.#records = registry.counter(
      'validated_records_total',
      'Records the schema validator checked, by source topic and result',
    )
    this.#byRule = registry.counter(
      'validation_failures_total',
      'Schema violations by rule (a record may break several)',
    )
    this.#byType = registry.counter(
      'validation_failure_types_total',
      'Schema violations by type: required, type, range, enum, crossField, deserialize, …',
    )
    registry.collect('validation_pass_rate', 'Share of validated records that passed (0–1)', () => [
      { value: this.passRatio() },
    ])
  }

  passed(source: string): void {
    this.#passed++
    this.#source(source).passed++
    this.#records.inc({ source, result: 'passed' })
  }

  failed(source: string, violations: readonly Pick<Violation, 'rule' | 'type'>[]): void {
    this.#failed++
    this.#source(source).failed++
    this.#records.inc({ source, result: 'failed' })
    for (const v of violations) this.#violation(ruleLabel(v.rule), v.type)
  }

  /** A record that could not be read at all (not JSON, not UTF-8, empty, null). */
  unreadable(source: string): void {
    this.failed(source, [{ rule: 'deserialize', type: 'deserialize' }])
  }

  passRatio(): number {
    const total = this.#passed + this.#failed
    return total === 0 ? 1 : this.#passed / total
  }

  /** The seed's validator metrics. `deadLettered` / `consumed` (from the runtime) give `dlq_rate`. */
  json(runtime: { consumed?: number; deadLettered?: number } = {}) {
    const total = this.#passed + this.#failed
    const pct = (x: number, of: number) => (of === 0 ? 0 : Math.round((10_000 * x) / of) / 100)
    const consumed = runtime.consumed ?? total
    const deadLettered = runtime.deadLettered ?? this.#failed
    return {
      total_validated: total,
      passed: this.#passed,
      failed: this.#failed,
      validation_pass_rate: total === 0 ? 100 : pct(this.#passed, total),
      failure_types: sortedObject(this.#types),
      failures_by_rule: sortedObject(this.#rules),
      dead_lettered: deadLettered,
      dlq_rate: pct(deadLettered, consumed),
      by_source: Object.fromEntries(
        [...this.#sources].map(([s, c]) => [
          s,
          { validated: c.passed + c.failed, passed: c.passed, failed: c.failed },
        ]),
      ),
    }
  }

  #violation(rule: string, type: string): void {
    this.#rules.set(rule, (this.#rules.get(rule) ?? 0) + 1)
    this.#types.set(type, (this.#types.get(type) ?? 0) + 1)
    this.#byRule.inc({ rule })
    this.#byType.inc({ type })
  }

  #source(source: string): SourceCounts {
    let c = this.#sources.get(source)
    if (c === undefined) {
      c = { passed: 0, failed: 0 }
      this.#sources.set(source, c)
    }
    return c
  }
}

function sortedObject(m: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
}

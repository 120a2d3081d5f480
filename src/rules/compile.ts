/**
 * `compileRules` turns a rule set (plain data) into one fast function `(record) => Violation[]`.
 * The set is validated once here; paths are split, regexes and expressions compiled, named sets turned
 * into Sets. A valid record returns the shared empty array.
 *
 * Stateful `duplicate` rules run after every other rule and only for records with no error-severity
 * violation: a record that will be rejected anyway is not remembered, so a corrected resend of it is
 * not taken for a duplicate.
 *
 * @example
 * const check = compileRules(
 *   { rules: [{ id: 'speed', type: 'range', field: 'speed_mph', min: 0, max: 120 }] },
 *   { now: () => Date.now() },
 * )
 * check({ speed_mph: 250 }) // [{ rule: 'speed', type: 'range', field: 'speed_mph', message: 'speed_mph 250 is above the maximum 120', … }]
 */
import {
  type Check,
  crossFieldCheck,
  duplicateCheck,
  enumCheck,
  fieldsOf,
  geoChecks,
  lengthCheck,
  maxAgeCheck,
  notInFutureCheck,
  patternCheck,
  rangeCheck,
  requiredCheck,
  typeCheck,
} from './checks.ts'
import { parseCheck } from './expr.ts'
import {
  type NamedSets,
  parseRuleSet,
  type Rule,
  type RuleOf,
  type RuleSet,
  type RuleSetInput,
} from './schema.ts'
import { boundedSeenSet, type SeenFn } from './seen.ts'
import { NO_VIOLATIONS, type ValidationResult, type Violation } from './types.ts'

export interface CompileOptions {
  /** The clock for `notInFuture`, `maxAge`, and `duplicate` without a timestamp field. */
  readonly now: () => number
  /** Named sets given in code (e.g. loaded from a database); they win over the rule set's own. */
  readonly sets?: NamedSets
  /** Memory for each `duplicate` rule. Default: `boundedSeenSet({ withinMs, maxKeys: rule.maxKeys ?? 100_000 })`. */
  readonly seen?: (rule: RuleOf<'duplicate'>) => SeenFn
}

export interface CompiledRules {
  (record: unknown): readonly Violation[]
  /** The validated rules, in order (ids filled in): register one counter per id up front. */
  readonly rules: readonly Rule[]
}

export const DEFAULT_MAX_KEYS = 100_000

function checksFor(rule: Rule, sets: NamedSets, options: CompileOptions): Check[] {
  const each = (make: (field: string) => Check) =>
    fieldsOf(rule as { field?: string; fields?: string[] }).map(make)
  switch (rule.type) {
    case 'required':
      return each((f) => requiredCheck(rule, f))
    case 'type':
      return each((f) => typeCheck(rule, f))
    case 'range':
      return each((f) => rangeCheck(rule, f))
    case 'enum':
      return each((f) => enumCheck(rule, f, sets))
    case 'geo':
      return geoChecks(rule)
    case 'notInFuture':
      return each((f) => notInFutureCheck(rule, f, options.now))
    case 'maxAge':
      return each((f) => maxAgeCheck(rule, f, options.now))
    case 'crossField': {
      const parsed = parseCheck(rule.expr)
      if (!parsed.ok) throw new Error(`unreachable: expression validated by parseRuleSet (${parsed.error})`)
      return [crossFieldCheck(rule, parsed.value)]
    }
    case 'pattern':
      return each((f) => patternCheck(rule, f))
    case 'length':
      return each((f) => lengthCheck(rule, f))
    case 'duplicate': {
      const seen =
        options.seen?.(rule) ??
        boundedSeenSet({ withinMs: rule.withinMs, maxKeys: rule.maxKeys ?? DEFAULT_MAX_KEYS }).seen
      return [duplicateCheck(rule, seen, options.now)]
    }
  }
}

/**
 * Validates `ruleSet` (throws WeirError CONFIG_INVALID naming each bad rule) and compiles it.
 * Accepts raw data or the result of `parseRuleSet`.
 */
export function compileRules(ruleSet: RuleSetInput | RuleSet, options: CompileOptions): CompiledRules {
  const parsed = parseRuleSet(ruleSet, options.sets)
  const stateless: Check[] = []
  const stateful: Check[] = []
  for (const rule of parsed.rules)
    (rule.type === 'duplicate' ? stateful : stateless).push(...checksFor(rule, parsed.sets, options))
  const n = stateless.length
  const m = stateful.length

  const evaluate = (record: unknown): readonly Violation[] => {
    let out: Violation[] | undefined
    for (let i = 0; i < n; i++) {
      const v = stateless[i]!(record)
      if (v === undefined) continue
      if (out === undefined) out = [v]
      else out.push(v)
    }
    if (m > 0 && (out === undefined || !out.some((v) => v.severity === 'error'))) {
      for (let i = 0; i < m; i++) {
        const v = stateful[i]!(record)
        if (v === undefined) continue
        if (out === undefined) out = [v]
        else out.push(v)
      }
    }
    return out ?? NO_VIOLATIONS
  }
  return Object.assign(evaluate, { rules: parsed.rules })
}

/**
 * Adapts compiled rules to the `{ ok, value } | { ok, violations }` shape the DSL's `.validate()` takes.
 * Warnings alone leave a record valid (and are dropped: count them with the rules function directly).
 */
export function rulesValidator<T>(rules: CompiledRules): (value: T) => ValidationResult<T> {
  return (value) => {
    const violations = rules(value)
    if (violations.length === 0) return { ok: true, value }
    for (const v of violations) if (v.severity === 'error') return { ok: false, violations }
    return { ok: true, value }
  }
}

/**
 * Declarative data-quality rules: a rule set is plain JSON-able data (a file, an env var), validated
 * once and compiled into `(record) => Violation[]`. Pure: no Kafka, no I/O.
 *
 * @example
 * const check = compileRules(trafficRules, { now: () => Date.now() })
 * const violations = check(record) // [] when valid
 */
export {
  type CompiledRules,
  type CompileOptions,
  compileRules,
  DEFAULT_MAX_KEYS,
  rulesValidator,
} from './compile.ts'
export { type CheckExpr, type Comparison, type Expr, parseCheck } from './expr.ts'
export {
  CLOCK_SKEW_MS,
  flatTrafficRules,
  LA_BOUNDS,
  METR_LA_SENSOR_COUNT,
  METR_LA_SENSOR_IDS,
  metrLaSensorId,
  trafficRules,
} from './presets.ts'
export {
  type NamedSets,
  parseRuleSet,
  RULE_TYPES,
  type Rule,
  type RuleInput,
  type RuleOf,
  type RuleProblem,
  type RuleSet,
  type RuleSetInput,
  type RuleType,
  ruleSetFromJson,
  VALUE_TYPES,
  type ValueType,
} from './schema.ts'
export { boundedSeenSet, type SeenFn, type SeenSet, type SeenSetOptions } from './seen.ts'
export { toEpochMs } from './time.ts'
export { hasErrors, NO_VIOLATIONS, type Severity, type ValidationResult, type Violation } from './types.ts'
export { type ValidateWithOptions, validateWith, zodViolations } from './zod.ts'

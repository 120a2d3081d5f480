/** How bad a failed rule is. `warning` violations are reported but do not make a record invalid. */
export type Severity = 'error' | 'warning'

/**
 * One reason a record breaks a rule. `rule` is the rule's stable id (count per id), `type` the kind of
 * check (`range`, `required`, …), `field` the dotted path it looked at. `value` is the offending value
 * when there was one. Structurally a DSL `Violation`, so it can be handed to `.validate()` as is.
 */
export interface Violation {
  readonly rule: string
  readonly type: string
  readonly field: string
  readonly message: string
  readonly severity: Severity
  readonly value?: unknown
}

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly violations: readonly Violation[] }

/** Shared by every evaluation that finds nothing wrong: no allocation for valid records. */
export const NO_VIOLATIONS: readonly Violation[] = Object.freeze([])

/** Whether any violation has severity `error`. */
export function hasErrors(violations: readonly Violation[]): boolean {
  for (const v of violations) if (v.severity === 'error') return true
  return false
}

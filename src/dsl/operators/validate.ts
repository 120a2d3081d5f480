import { z } from 'zod'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { WeirRecord } from '../../core/record.ts'
import type { Emit, Outputs, Processor, RecordContext } from '../../runtime/processor.ts'

/** One reason a value is invalid. `rule` names the rule or schema check that failed. */
export interface Violation {
  readonly rule: string
  readonly field: string
  readonly message: string
  readonly type?: string
  readonly value?: unknown
}

export type ValidationResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly violations: readonly Violation[] }

/** A zod-like schema (anything with `safeParse`) or a function returning a result. */
export type Validator<V, T> =
  | { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string }> } } }
  | ((value: V, record: WeirRecord<unknown, V>) => ValidationResult<T>)

/** What the invalid branch of `validate` carries: the value as it was and every violation. */
export interface Invalid<V> {
  readonly value: V
  readonly violations: readonly Violation[]
}

export function runValidator<V, T>(validator: Validator<V, T>, value: V, record: WeirRecord<unknown, V>): ValidationResult<T> {
  if (typeof validator === 'function') return validator(value, record)
  const r = validator.safeParse(value)
  if (r.success) return { ok: true, value: r.data }
  return {
    ok: false,
    violations: r.error.issues.map((i) => ({
      rule: i.code ?? 'schema',
      field: i.path.map(String).join('.'),
      message: i.message,
    })),
  }
}

/**
 * Valid values go on, typed as the validator's output; invalid ones go to the `invalid` output with
 * every violation, or, when nothing consumes that output, to the error policy (the dead-letter topic
 * by default) as VALIDATION_FAILED with the violations as details.
 */
export function validate<V, T>(name: string, given: Validator<V, T>): Processor {
  const validator = compiledIfZod(given)
  return {
    name,
    process(record: WeirRecord<unknown, V>, ctx: RecordContext, emit: Emit, outputs: Outputs) {
      const result = runValidator(validator, record.value, record)
      if (result.ok) {
        return emit({ ...record, value: result.value }, ctx)
      }
      const invalid = outputs.port('invalid')
      if (invalid) {
        const value: Invalid<V> = { value: record.value, violations: result.violations }
        return invalid({ ...record, value }, ctx)
      }
      const summary = result.violations.map((v) => (v.field ? `${v.field}: ${v.message}` : v.message)).join('; ')
      throw new WeirError(ErrorCode.VALIDATION_FAILED, `invalid: ${summary}`, { details: result.violations })
    },
  }
}

/**
 * A zod schema as zod's compiled form (`z.compile`): valid values skip zod's runtime parser, invalid ones
 * fall back to it (same issues; a refinement runs twice for them). Anything else is used as given.
 */
function compiledIfZod<V, T>(validator: Validator<V, T>): Validator<V, T> {
  if (typeof validator === 'function' || !('_zod' in validator)) return validator
  return z.compile(validator as unknown as z.ZodType) as unknown as Validator<V, T>
}

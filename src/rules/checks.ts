/**
 * One small check per rule type. A check reads the record through pre-compiled getters and returns a
 * Violation only when something is wrong, so a valid record costs no allocation. Every check but
 * `required` skips an absent value: absence is `required`'s job.
 */
import { compare, compileArithmetic, type CheckExpr } from './expr.ts'
import { compilePath, isAbsent } from './path.ts'
import type { NamedSets, Rule, RuleOf, ValueType } from './schema.ts'
import { formatMs, toEpochMs } from './time.ts'
import type { Violation } from './types.ts'

export type Check = (record: unknown) => Violation | undefined

/** Short text of a value for messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function render(template: string, rule: Rule, field: string, value: unknown): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (name === 'field') return field
    if (name === 'value') return show(value)
    if (name === 'rule') return rule.id
    const param = (rule as unknown as Record<string, unknown>)[name]
    return param === undefined ? whole : Array.isArray(param) ? param.join(', ') : String(param)
  })
}

/** Builds the violation; only runs on the failure path. */
function fail(rule: Rule, field: string, message: string, value: unknown): Violation {
  const text = rule.message === undefined ? message : render(rule.message, rule, field, value)
  return value === undefined
    ? { rule: rule.id, type: rule.type, field, message: text, severity: rule.severity }
    : { rule: rule.id, type: rule.type, field, message: text, severity: rule.severity, value }
}

export function fieldsOf(rule: { field?: string; fields?: string[] }): string[] {
  return rule.fields ?? (rule.field === undefined ? [] : [rule.field])
}

export function requiredCheck(rule: RuleOf<'required'>, field: string): Check {
  const get = compilePath(field)
  return (r) => (isAbsent(get(r)) ? fail(rule, field, `${field} is required`, undefined) : undefined)
}

const TYPE_TESTS: Record<ValueType, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  array: (v) => Array.isArray(v),
  timestamp: (v) => !Number.isNaN(toEpochMs(v)),
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
  return typeof v
}

export function typeCheck(rule: RuleOf<'type'>, field: string): Check {
  const get = compilePath(field)
  const test = TYPE_TESTS[rule.expected]
  const article =
    rule.expected === 'integer' || rule.expected === 'object' || rule.expected === 'array' ? 'an' : 'a'
  return (r) => {
    const v = get(r)
    if (isAbsent(v) || test(v)) return undefined
    return fail(rule, field, `${field} must be ${article} ${rule.expected}, got ${typeName(v)} ${show(v)}`, v)
  }
}

export function rangeCheck(rule: RuleOf<'range'>, field: string): Check {
  const get = compilePath(field)
  const min = rule.min ?? Number.NEGATIVE_INFINITY
  const max = rule.max ?? Number.POSITIVE_INFINITY
  const minIn = rule.minInclusive ?? true
  const maxIn = rule.maxInclusive ?? true
  return (r) => {
    const v = get(r)
    if (typeof v === 'number') {
      if (minIn ? v >= min : v > min) {
        if (maxIn ? v <= max : v < max) return undefined
        return fail(rule, field, `${field} ${v} is above the maximum ${max}${maxIn ? '' : ' (exclusive)'}`, v)
      }
      if (Number.isNaN(v)) return fail(rule, field, `${field} is NaN, not a number in range`, v)
      return fail(rule, field, `${field} ${v} is below the minimum ${min}${minIn ? '' : ' (exclusive)'}`, v)
    }
    if (isAbsent(v)) return undefined
    return fail(rule, field, `${field} must be a number, got ${typeName(v)} ${show(v)}`, v)
  }
}

export function enumCheck(rule: RuleOf<'enum'>, field: string, sets: NamedSets): Check {
  const get = compilePath(field)
  const values = rule.values ?? sets[rule.set!] ?? []
  const allowed = new Set<unknown>(values)
  const what =
    rule.set !== undefined
      ? `the set "${rule.set}"`
      : values.length <= 10
        ? `one of ${values.map(show).join(', ')}`
        : `the ${values.length} allowed values`
  return (r) => {
    const v = get(r)
    if (isAbsent(v) || allowed.has(v)) return undefined
    return fail(rule, field, `${field} ${show(v)} is not ${rule.set !== undefined ? 'in ' : ''}${what}`, v)
  }
}

export function geoChecks(rule: RuleOf<'geo'>): Check[] {
  const axis = (field: string, name: string, lo: number, hi: number): Check => {
    const get = compilePath(field)
    return (r) => {
      const v = get(r)
      if (typeof v === 'number')
        return v >= lo && v <= hi
          ? undefined
          : fail(rule, field, `${name} ${v} is outside the bounds ${lo}..${hi}`, v)
      if (isAbsent(v)) return undefined
      return fail(rule, field, `${name} must be a number, got ${typeName(v)} ${show(v)}`, v)
    }
  }
  return [
    axis(rule.latField, 'latitude', rule.minLat, rule.maxLat),
    axis(rule.lonField, 'longitude', rule.minLon, rule.maxLon),
  ]
}

function notATimestamp(rule: Rule, field: string, v: unknown): Violation {
  return fail(rule, field, `${field} ${show(v)} is not a timestamp (epoch ms or ISO-8601)`, v)
}

export function notInFutureCheck(rule: RuleOf<'notInFuture'>, field: string, now: () => number): Check {
  const get = compilePath(field)
  const skew = rule.skewMs ?? 0
  return (r) => {
    const v = get(r)
    if (isAbsent(v)) return undefined
    const ts = toEpochMs(v)
    if (Number.isNaN(ts)) return notATimestamp(rule, field, v)
    const ahead = ts - now()
    return ahead > skew
      ? fail(rule, field, `${field} ${show(v)} is ${formatMs(ahead)} in the future`, v)
      : undefined
  }
}

export function maxAgeCheck(rule: RuleOf<'maxAge'>, field: string, now: () => number): Check {
  const get = compilePath(field)
  const max = rule.maxAgeMs
  return (r) => {
    const v = get(r)
    if (isAbsent(v)) return undefined
    const ts = toEpochMs(v)
    if (Number.isNaN(ts)) return notATimestamp(rule, field, v)
    const age = now() - ts
    return age > max
      ? fail(rule, field, `${field} ${show(v)} is ${formatMs(age)} old, older than ${formatMs(max)}`, v)
      : undefined
  }
}

export function crossFieldCheck(rule: RuleOf<'crossField'>, expr: CheckExpr): Check {
  const left = compileArithmetic(expr.left)
  const right = compileArithmetic(expr.right)
  const getters = expr.fields.map((f) => [f, compilePath(f)] as const)
  const field = rule.field ?? expr.fields[0]!
  const tol = rule.tolerance ?? 1e-9
  const rel = rule.relativeTolerance ?? 0
  return (r) => {
    const l = left(r)
    const rv = right(r)
    if (Number.isFinite(l) && Number.isFinite(rv)) {
      return compare(l, expr.op, rv, tol, rel)
        ? undefined
        : fail(
            rule,
            field,
            `${rule.expr} does not hold: ${l} ${expr.op === '=' ? '≠' : `not ${expr.op}`} ${rv}`,
            l,
          )
    }
    // Slow path, failures only: an absent field skips, a non-number field fails, otherwise the arithmetic did (÷0).
    for (const [, get] of getters) if (isAbsent(get(r))) return undefined
    for (const [f, get] of getters) {
      const v = get(r)
      if (typeof v !== 'number' || !Number.isFinite(v))
        return fail(rule, f, `${f} must be a number for ${rule.expr}, got ${typeName(v)} ${show(v)}`, v)
    }
    return fail(rule, field, `${rule.expr} cannot be evaluated (division by zero?)`, undefined)
  }
}

export function patternCheck(rule: RuleOf<'pattern'>, field: string): Check {
  const get = compilePath(field)
  const re = new RegExp(rule.pattern, rule.flags) // no g/y flags: test() stays stateless
  return (r) => {
    const v = get(r)
    if (typeof v === 'string')
      return re.test(v)
        ? undefined
        : fail(rule, field, `${field} ${show(v)} does not match /${rule.pattern}/${rule.flags ?? ''}`, v)
    if (isAbsent(v)) return undefined
    return fail(rule, field, `${field} must be a string to match a pattern, got ${typeName(v)} ${show(v)}`, v)
  }
}

export function lengthCheck(rule: RuleOf<'length'>, field: string): Check {
  const get = compilePath(field)
  const min = rule.min ?? 0
  const max = rule.max ?? Number.POSITIVE_INFINITY
  return (r) => {
    const v = get(r)
    if (typeof v === 'string' || Array.isArray(v)) {
      const n = v.length
      if (n < min) return fail(rule, field, `${field} has length ${n}, below the minimum ${min}`, v)
      if (n > max) return fail(rule, field, `${field} has length ${n}, above the maximum ${max}`, v)
      return undefined
    }
    if (isAbsent(v)) return undefined
    return fail(rule, field, `${field} must be a string or an array, got ${typeName(v)} ${show(v)}`, v)
  }
}

/** `seen` comes from the caller (or the default bounded set); see seen.ts. */
export function duplicateCheck(
  rule: RuleOf<'duplicate'>,
  seen: (key: string, ts: number) => boolean,
  now: () => number,
): Check {
  const getters = rule.keys.map(compilePath)
  const getTs = rule.timestampField === undefined ? undefined : compilePath(rule.timestampField)
  const field = rule.keys.join(',')
  const span = formatMs(rule.withinMs)
  return (r) => {
    let key = ''
    for (let i = 0; i < getters.length; i++) {
      const v = getters[i]!(r)
      if (isAbsent(v)) return undefined
      key = i === 0 ? String(v) : `${key}\u0000${String(v)}`
    }
    let ts = getTs === undefined ? now() : toEpochMs(getTs(r))
    if (Number.isNaN(ts)) ts = now()
    if (!seen(key, ts)) return undefined
    return fail(
      rule,
      field,
      `duplicate: a record with the same ${field} was seen within ${span}`,
      key.replaceAll('\u0000', '|'),
    )
  }
}

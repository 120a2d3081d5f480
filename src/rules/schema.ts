/**
 * The rule-set format: plain JSON-able data, validated by zod once, with errors that name the rule
 * (index and id) and what is wrong with it.
 *
 * @example
 * const ruleSet = parseRuleSet({
 *   rules: [
 *     { type: 'required', fields: ['sensor_id', 'timestamp'] },
 *     { id: 'speed', type: 'range', field: 'speed_mph', min: 0, max: 120 },
 *   ],
 * })
 */
import { z } from 'zod'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { parseCheck } from './expr.ts'
import { pathProblem } from './path.ts'

const path = z.string().superRefine((p, ctx) => {
  const problem = pathProblem(p)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})
const finite = z.number().refine(Number.isFinite, 'expected a finite number')
const nonNegative = finite.refine((n) => n >= 0, 'expected a number >= 0')
const scalar = z.union([z.string(), finite, z.boolean()])

const common = {
  /** Stable id for counters and dead-letter reasons; defaults to `<type>:<field(s)>`. */
  id: z.string().min(1).max(200).optional(),
  severity: z.enum(['error', 'warning']).optional(),
  /** Replaces the default message. Placeholders: {field} {value} {rule} and the rule's own params ({min}, …). */
  message: z.string().min(1).optional(),
  description: z.string().optional(),
}
/** Rules that look at one field at a time take `field` or `fields` (each checked on its own). */
const fieldOrFields = { field: path.optional(), fields: z.array(path).min(1).optional() }

function oneField(r: { field?: string; fields?: string[] }, ctx: z.RefinementCtx): void {
  if ((r.field === undefined) === (r.fields === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['field'], message: 'give exactly one of "field" or "fields"' })
  }
}

function minMax(r: { min?: number; max?: number }, ctx: z.RefinementCtx): void {
  if (r.min === undefined && r.max === undefined)
    ctx.addIssue({ code: 'custom', path: ['min'], message: 'give "min", "max" or both' })
  if (r.min !== undefined && r.max !== undefined && r.min > r.max) {
    ctx.addIssue({ code: 'custom', path: ['max'], message: `max (${r.max}) is below min (${r.min})` })
  }
}

export const VALUE_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'timestamp'] as const
export type ValueType = (typeof VALUE_TYPES)[number]

const ruleSchemas = {
  required: z
    .strictObject({ type: z.literal('required'), ...common, ...fieldOrFields })
    .superRefine(oneField),
  type: z
    .strictObject({ type: z.literal('type'), ...common, ...fieldOrFields, expected: z.enum(VALUE_TYPES) })
    .superRefine(oneField),
  range: z
    .strictObject({
      type: z.literal('range'),
      ...common,
      ...fieldOrFields,
      min: finite.optional(),
      max: finite.optional(),
      minInclusive: z.boolean().optional(),
      maxInclusive: z.boolean().optional(),
    })
    .superRefine((r, ctx) => {
      oneField(r, ctx)
      minMax(r, ctx)
    }),
  enum: z
    .strictObject({
      type: z.literal('enum'),
      ...common,
      ...fieldOrFields,
      values: z.array(scalar).min(1).optional(),
      set: z.string().min(1).optional(),
    })
    .superRefine((r, ctx) => {
      oneField(r, ctx)
      if ((r.values === undefined) === (r.set === undefined))
        ctx.addIssue({
          code: 'custom',
          path: ['values'],
          message: 'give exactly one of "values" (a list) or "set" (a named set)',
        })
    }),
  geo: z
    .strictObject({
      type: z.literal('geo'),
      ...common,
      latField: path,
      lonField: path,
      minLat: finite.refine((n) => n >= -90 && n <= 90, 'latitude must be within -90..90'),
      maxLat: finite.refine((n) => n >= -90 && n <= 90, 'latitude must be within -90..90'),
      minLon: finite.refine((n) => n >= -180 && n <= 180, 'longitude must be within -180..180'),
      maxLon: finite.refine((n) => n >= -180 && n <= 180, 'longitude must be within -180..180'),
    })
    .superRefine((r, ctx) => {
      if (r.minLat > r.maxLat)
        ctx.addIssue({
          code: 'custom',
          path: ['maxLat'],
          message: `maxLat (${r.maxLat}) is below minLat (${r.minLat})`,
        })
      if (r.minLon > r.maxLon)
        ctx.addIssue({
          code: 'custom',
          path: ['maxLon'],
          message: `maxLon (${r.maxLon}) is below minLon (${r.minLon})`,
        })
    }),
  notInFuture: z
    .strictObject({
      type: z.literal('notInFuture'),
      ...common,
      ...fieldOrFields,
      skewMs: nonNegative.optional(),
    })
    .superRefine(oneField),
  maxAge: z
    .strictObject({
      type: z.literal('maxAge'),
      ...common,
      ...fieldOrFields,
      maxAgeMs: finite.refine((n) => n > 0, 'expected a number > 0'),
    })
    .superRefine(oneField),
  crossField: z
    .strictObject({
      type: z.literal('crossField'),
      ...common,
      expr: z.string(),
      /** Which field a violation names; defaults to the first field of the expression. */
      field: path.optional(),
      tolerance: nonNegative.optional(),
      relativeTolerance: nonNegative.optional(),
    })
    .superRefine((r, ctx) => {
      const parsed = parseCheck(r.expr)
      if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['expr'], message: parsed.error })
    }),
  pattern: z
    .strictObject({
      type: z.literal('pattern'),
      ...common,
      ...fieldOrFields,
      pattern: z.string().min(1),
      flags: z
        .string()
        .regex(/^(?!.*(.).*\1)[imsu]*$/, 'flags may only be i, m, s, u (each once)')
        .optional(),
    })
    .superRefine((r, ctx) => {
      oneField(r, ctx)
      try {
        new RegExp(r.pattern, r.flags)
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['pattern'],
          message: `not a valid regular expression: ${(err as Error).message}`,
        })
      }
    }),
  length: z
    .strictObject({
      type: z.literal('length'),
      ...common,
      ...fieldOrFields,
      min: z.int().min(0).optional(),
      max: z.int().min(0).optional(),
    })
    .superRefine((r, ctx) => {
      oneField(r, ctx)
      minMax(r, ctx)
    }),
  duplicate: z.strictObject({
    type: z.literal('duplicate'),
    ...common,
    /** Fields that together identify a record, e.g. `["sensor_id", "timestamp"]`. */
    keys: z.array(path).min(1),
    /** Event time of the record (epoch ms or ISO text); the compile-time clock when absent. */
    timestampField: path.optional(),
    /** Same key seen again within this span = duplicate. Also how long a key is remembered. */
    withinMs: nonNegative,
    /** Memory bound of the default in-process set: keys remembered in all (an app may split it by partition). */
    maxKeys: z.int().min(1).max(10_000_000).optional(),
  }),
} as const

export type RuleType = keyof typeof ruleSchemas
export const RULE_TYPES = Object.keys(ruleSchemas) as RuleType[]

/** A rule as written in a rule set (before defaults). */
export type RuleInput = { [T in RuleType]: z.input<(typeof ruleSchemas)[T]> }[RuleType]
export type RuleOf<T extends RuleType> = z.output<(typeof ruleSchemas)[T]> & {
  readonly id: string
  readonly severity: 'error' | 'warning'
}
/** A validated rule, with its id and severity filled in. */
export type Rule = { [T in RuleType]: RuleOf<T> }[RuleType]

export type NamedSets = Readonly<Record<string, ReadonlyArray<string | number | boolean>>>

export interface RuleSetInput {
  readonly name?: string
  readonly description?: string
  /** Named value sets that `enum` rules refer to with `set`. */
  readonly sets?: NamedSets
  readonly rules: readonly RuleInput[]
}

export interface RuleSet {
  readonly name?: string
  readonly sets: NamedSets
  readonly rules: readonly Rule[]
}

const ruleSetShape = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  sets: z.record(z.string().min(1), z.array(scalar)).optional(),
  rules: z.array(z.unknown()).min(1, 'a rule set needs at least one rule'),
})

export interface RuleProblem {
  /** Index in `rules`, or undefined for a problem with the rule set as a whole. */
  readonly index?: number
  readonly id?: string
  /** JSON-pointer-ish path inside the rule (`max`, `fields.1`). */
  readonly path: string
  readonly message: string
}

function defaultId(r: z.output<(typeof ruleSchemas)[RuleType]>): string {
  switch (r.type) {
    case 'geo':
      return `geo:${r.latField},${r.lonField}`
    case 'crossField':
      return `crossField:${r.expr.replace(/\s+/g, '')}`
    case 'duplicate':
      return `duplicate:${r.keys.join(',')}`
    default:
      return `${r.type}:${r.field ?? r.fields?.join(',')}`
  }
}

function where(p: RuleProblem): string {
  const rule = p.index === undefined ? 'rule set' : `rules[${p.index}]${p.id ? ` ("${p.id}")` : ''}`
  return p.path ? `${rule} ${p.path}: ${p.message}` : `${rule}: ${p.message}`
}

function issuesToProblems(issues: readonly z.core.$ZodIssue[], index?: number, id?: string): RuleProblem[] {
  return issues.map((i) => ({ index, id, path: i.path.map(String).join('.'), message: i.message }))
}

/**
 * Validates a rule set and fills in defaults (ids, severity). Throws WeirError(CONFIG_INVALID) listing
 * every problem, each naming the rule by index and id; `details` holds them as `RuleProblem[]`.
 * `extraSets` are named sets given in code (they win over sets of the same name in the data).
 */
export function parseRuleSet(input: unknown, extraSets: NamedSets = {}): RuleSet {
  const top = ruleSetShape.safeParse(input)
  if (!top.success) throw invalid(issuesToProblems(top.error.issues))
  const sets: NamedSets = { ...top.data.sets, ...extraSets }
  const problems: RuleProblem[] = []
  const rules: Rule[] = []
  const ids = new Map<string, number>()
  top.data.rules.forEach((raw, index) => {
    const declaredId = raw !== null && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined
    const id = typeof declaredId === 'string' ? declaredId : undefined
    const type = raw !== null && typeof raw === 'object' ? (raw as { type?: unknown }).type : undefined
    if (typeof type !== 'string' || !Object.hasOwn(ruleSchemas, type)) {
      const got = type === undefined ? 'no "type"' : `"type": ${JSON.stringify(type)}`
      problems.push({ index, id, path: 'type', message: `${got}; expected one of ${RULE_TYPES.join(', ')}` })
      return
    }
    const parsed = ruleSchemas[type as RuleType].safeParse(raw)
    if (!parsed.success) {
      problems.push(...issuesToProblems(parsed.error.issues, index, id))
      return
    }
    const rule = {
      ...parsed.data,
      id: parsed.data.id ?? defaultId(parsed.data),
      severity: parsed.data.severity ?? 'error',
    } as Rule
    const clash = ids.get(rule.id)
    if (clash !== undefined) {
      problems.push({ index, id: rule.id, path: 'id', message: `the id is already used by rules[${clash}]` })
      return
    }
    ids.set(rule.id, index)
    if (rule.type === 'enum' && rule.set !== undefined && !Object.hasOwn(sets, rule.set)) {
      const known = Object.keys(sets)
      problems.push({
        index,
        id: rule.id,
        path: 'set',
        message: `unknown set "${rule.set}"; ${known.length ? `known sets: ${known.join(', ')}` : 'no sets are defined'}`,
      })
      return
    }
    rules.push(rule)
  })
  if (problems.length > 0) throw invalid(problems)
  return { name: top.data.name, sets, rules }
}

function invalid(problems: RuleProblem[]): WeirError {
  const shown = problems.slice(0, 10).map(where)
  const more = problems.length > 10 ? `; and ${problems.length - 10} more` : ''
  return new WeirError(ErrorCode.CONFIG_INVALID, `invalid rule set: ${shown.join('; ')}${more}`, {
    details: problems,
  })
}

/** Reads a rule set from JSON text (a file, an env var). Bad JSON is a CONFIG_INVALID error too. */
export function ruleSetFromJson(text: string, extraSets?: NamedSets): RuleSet {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new WeirError(ErrorCode.CONFIG_INVALID, `invalid rule set: not JSON (${(err as Error).message})`, {
      cause: err,
    })
  }
  return parseRuleSet(data, extraSets)
}

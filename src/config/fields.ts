/**
 * Field builders for `loadConfig`: each is a zod schema from the raw environment string (or undefined)
 * to a typed value, with a default or `optional: true`, and a message that says exactly what it expected.
 * Values are trimmed and an empty value counts as unset (compose files often pass `FOO=${FOO}`).
 *
 * @example
 * const schema = z.object({
 *   KAFKA_BROKERS: envList({ default: ['localhost:9092'] }),
 *   PROCESSOR_WINDOW_SIZE_MS: envInt({ default: 100, min: 50, max: 5000 }),
 *   PRIVACY_SALT: envSecret({ default: 'CHANGE_THIS_IN_PRODUCTION' }),
 * })
 */
import { z } from 'zod'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { Secret } from './secret.ts'

/** A config field: parses the variable's raw text (undefined when unset) into T. */
export type EnvField<T> = z.ZodType<T, string | undefined>

export interface FieldOptions<T> {
  /** Used when the variable is unset or empty. */
  default?: T
  /** Unset gives `undefined` instead of an error (ignored when there is a default). */
  optional?: boolean
}

type Out<T, O> = O extends { default: unknown } ? T : O extends { optional: true } ? T | undefined : T

type Parsed<T> = { ok: true; value: T } | { ok: false }

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })
const fail: Parsed<never> = { ok: false }

function builderError(message: string): WeirError {
  return new WeirError(ErrorCode.CONFIG_INVALID, message)
}

/** The shared shape of every builder: unset → default / undefined / error; set → parse or error. */
function field<T>(
  expected: string,
  parse: (text: string) => Parsed<T>,
  options: FieldOptions<T>,
  trim = true,
): EnvField<T> {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const text = raw === undefined ? '' : trim ? raw.trim() : raw
      if (text === '') {
        const fallback = options.default
        if (fallback !== undefined) return (Array.isArray(fallback) ? [...fallback] : fallback) as T
        if (options.optional) return undefined as T
        ctx.issues.push({ code: 'custom', message: `expected ${expected}`, input: raw })
        return z.NEVER
      }
      const parsed = parse(text)
      if (parsed.ok) return parsed.value
      ctx.issues.push({ code: 'custom', message: `expected ${expected}`, input: raw })
      return z.NEVER
    })
}

interface RangeOptions {
  min?: number
  max?: number
}

function rangeText({ min, max }: RangeOptions, show: (n: number) => string = String): string {
  if (min !== undefined && max !== undefined) return ` between ${show(min)} and ${show(max)}`
  if (min !== undefined) return ` of at least ${show(min)}`
  if (max !== undefined) return ` of at most ${show(max)}`
  return ''
}

function inRange(n: number, { min, max }: RangeOptions): boolean {
  return (min === undefined || n >= min) && (max === undefined || n <= max)
}

function checkDefault<T>(name: string, options: FieldOptions<T>, parse: (text: string) => Parsed<T>): void {
  if (options.default !== undefined && !parse(String(options.default)).ok) {
    throw builderError(`${name}: the default ${JSON.stringify(options.default)} fails its own rule`)
  }
}

export interface IntOptions extends FieldOptions<number>, RangeOptions {}

/** An integer, e.g. `envInt({ default: 100, min: 50, max: 5000 })`. */
export function envInt<const O extends IntOptions>(options: O = {} as O): EnvField<Out<number, O>> {
  const parse = (text: string): Parsed<number> => {
    if (!/^[+-]?\d+$/.test(text)) return fail
    const n = Number(text)
    return Number.isSafeInteger(n) && inRange(n, options) ? ok(n) : fail
  }
  checkDefault('envInt', options, parse)
  return field(`an integer${rangeText(options)}`, parse, options) as EnvField<Out<number, O>>
}

export interface NumberOptions extends FieldOptions<number>, RangeOptions {}

/** A finite decimal number, e.g. `envNumber({ default: 0.1, min: 0, max: 1 })`. */
export function envNumber<const O extends NumberOptions>(options: O = {} as O): EnvField<Out<number, O>> {
  const parse = (text: string): Parsed<number> => {
    const n = Number(text)
    return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) && Number.isFinite(n) && inRange(n, options)
      ? ok(n)
      : fail
  }
  checkDefault('envNumber', options, parse)
  return field(`a number${rangeText(options)}`, parse, options) as EnvField<Out<number, O>>
}

const TRUE = new Set(['true', '1', 'yes', 'on', 'y'])
const FALSE = new Set(['false', '0', 'no', 'off', 'n'])

/** true/false, 1/0, yes/no, on/off (any case). */
export function envBool<const O extends FieldOptions<boolean>>(
  options: O = {} as O,
): EnvField<Out<boolean, O>> {
  const parse = (text: string): Parsed<boolean> => {
    const t = text.toLowerCase()
    return TRUE.has(t) ? ok(true) : FALSE.has(t) ? ok(false) : fail
  }
  return field('a boolean (true/false, 1/0, yes/no, on/off)', parse, options) as EnvField<Out<boolean, O>>
}

export interface EnumOptions<V extends string> extends FieldOptions<V> {
  /** Accept `LATEST` for `latest` and return the listed spelling (default true). */
  ignoreCase?: boolean
}

/** One of a fixed list: `envEnum(['latest', 'sample'], { default: 'latest' })`. */
export function envEnum<const V extends string, const O extends EnumOptions<V> = EnumOptions<V>>(
  values: readonly [V, ...V[]],
  options: O = {} as O,
): EnvField<Out<V, O>> {
  const { ignoreCase = true } = options
  const parse = (text: string): Parsed<V> => {
    const found = values.find((v) => (ignoreCase ? v.toLowerCase() === text.toLowerCase() : v === text))
    return found === undefined ? fail : ok(found)
  }
  checkDefault('envEnum', options, parse)
  return field(`one of ${values.join(', ')}`, parse, options) as EnvField<Out<V, O>>
}

export interface ListOptions extends FieldOptions<readonly string[]> {
  /** Default `,`. */
  separator?: string
  /** Fewest items accepted (default 1). */
  minItems?: number
}

/** A separated list, items trimmed, empty items dropped: `a, b,,c` → `['a', 'b', 'c']`. */
export function envList<const O extends ListOptions>(options: O = {} as O): EnvField<Out<string[], O>> {
  const { separator = ',', minItems = 1 } = options
  const parse = (text: string): Parsed<string[]> => {
    const items = text
      .split(separator)
      .map((s) => s.trim())
      .filter((s) => s !== '')
    return items.length >= minItems ? ok(items) : fail
  }
  const what = separator === ',' ? 'a comma-separated list' : `a list separated by "${separator}"`
  const expected =
    minItems > 1 ? `${what} of at least ${minItems} items` : `${what} of at least ${minItems} item`
  return field(expected, parse, options as FieldOptions<string[]>) as EnvField<Out<string[], O>>
}

export interface StringOptions extends FieldOptions<string> {
  /** Whole-value pattern the string must match. */
  pattern?: RegExp
  /** Describes the pattern in errors (default: the pattern's source). */
  patternDescription?: string
}

/** A non-empty string (trimmed). */
export function envString<const O extends StringOptions>(options: O = {} as O): EnvField<Out<string, O>> {
  const { pattern } = options
  const parse = (text: string): Parsed<string> =>
    pattern === undefined || pattern.test(text) ? ok(text) : fail
  const expected =
    pattern === undefined
      ? 'a non-empty string'
      : (options.patternDescription ?? `a string matching /${pattern.source}/`)
  return field(expected, parse, options) as EnvField<Out<string, O>>
}

export interface UrlOptions extends FieldOptions<string> {
  /** Allowed protocols with the colon, e.g. `['http:', 'https:']`. */
  protocols?: readonly string[]
}

/**
 * An absolute URL with a host, returned as the string given. The host rule catches the classic
 * `schema-registry:8082`, which WHATWG parses as scheme `schema-registry:` with no host.
 */
export function envUrl<const O extends UrlOptions>(options: O = {} as O): EnvField<Out<string, O>> {
  const { protocols } = options
  const parse = (text: string): Parsed<string> => {
    const url = URL.parse(text)
    if (url === null || url.host === '') return fail
    return protocols === undefined || protocols.includes(url.protocol) ? ok(text) : fail
  }
  checkDefault('envUrl', options, parse)
  const expected =
    protocols === undefined
      ? 'an absolute URL with a host (scheme://host[:port])'
      : `a URL using ${protocols.join(' or ')} with a host`
  return field(expected, parse, options) as EnvField<Out<string, O>>
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `500` (ms), `500ms`, `1.5s`, `5m`, `1h` → milliseconds; undefined if it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim())
  if (m === null) return undefined
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 'ms').toLowerCase()]!)
}

function showMs(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

export interface DurationOptions extends RangeOptions {
  /** Milliseconds, or a duration string like `'5s'`. */
  default?: number | string
  optional?: boolean
}

/** A duration in milliseconds: accepts `500`, `500ms`, `5s`, `5m`, `1h`. Range bounds are in ms. */
export function envDuration<const O extends DurationOptions>(options: O = {} as O): EnvField<Out<number, O>> {
  const parse = (text: string): Parsed<number> => {
    const ms = parseDuration(text)
    return ms !== undefined && inRange(ms, options) ? ok(ms) : fail
  }
  const fallback = typeof options.default === 'string' ? parseDuration(options.default) : options.default
  const normalized = { ...options, default: fallback }
  checkDefault('envDuration', normalized, parse)
  const expected = `a duration like 500ms, 5s, 5m or 1h${rangeText(options, showMs)}`
  return field(expected, parse, normalized) as EnvField<Out<number, O>>
}

export interface SecretOptions extends FieldOptions<string> {
  /**
   * Values refused in production (NODE_ENV or WEIR_ENV = production), e.g. `['admin']`. A secret that
   * falls back to its `default` is always refused in production: a default in code is not a secret.
   */
  insecureDefaults?: readonly string[]
}

/** What loadConfig needs to know about a secret field: its `_FILE` variant and the insecure values. */
export interface SecretSpec {
  readonly hasDefault: boolean
  readonly insecure: readonly string[]
}

const secretSpecs = new WeakMap<object, SecretSpec>()

export function secretSpecOf(schema: unknown): SecretSpec | undefined {
  return typeof schema === 'object' && schema !== null ? secretSpecs.get(schema) : undefined
}

/**
 * A secret from `<VAR>` or from the file `<VAR>_FILE` names (Docker/Kubernetes secrets), wrapped in
 * Secret so it never prints. Not trimmed: only a file's trailing newline is removed.
 */
export function envSecret<const O extends SecretOptions>(options: O = {} as O): EnvField<Out<Secret, O>> {
  const wrapped = {
    ...options,
    default: options.default === undefined ? undefined : new Secret(options.default),
  }
  const schema = field(
    'a secret value (or a file path in <VAR>_FILE)',
    (text) => ok(new Secret(text)),
    wrapped,
    false,
  )
  secretSpecs.set(schema, {
    hasDefault: options.default !== undefined,
    insecure: [
      ...(options.insecureDefaults ?? []),
      ...(options.default === undefined ? [] : [options.default]),
    ],
  })
  return schema as EnvField<Out<Secret, O>>
}

const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

/** `1048576`, `512k`, `64MB`, `64MiB`, `1g` → bytes (binary units); undefined if it is not a size. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([kmg])(?:i?b)?|b)?$/i.exec(text.trim())
  if (m === null) return undefined
  return Math.round(Number(m[1]) * UNIT_BYTES[(m[2] ?? 'b').toLowerCase()]!)
}

export interface BytesOptions extends RangeOptions {
  /** Bytes, or a size string like `'64MB'`. */
  default?: number | string
  optional?: boolean
}

/** A size in bytes: accepts `1048576`, `512k`, `64MB`, `1GiB` (binary units). Range bounds are in bytes. */
export function envBytes<const O extends BytesOptions>(options: O = {} as O): EnvField<Out<number, O>> {
  const parse = (text: string): Parsed<number> => {
    const n = parseBytes(text)
    return n !== undefined && inRange(n, options) ? ok(n) : fail
  }
  const fallback = typeof options.default === 'string' ? parseBytes(options.default) : options.default
  const normalized = { ...options, default: fallback }
  checkDefault('envBytes', normalized, parse)
  return field(`a size like 1048576, 512k, 64MB or 1GB${rangeText(options)}`, parse, normalized) as EnvField<Out<number, O>>
}

/**
 * The one config boundary: a zod object whose keys are environment variable names goes in, a typed
 * value comes out, or one CONFIG_INVALID error lists every bad variable with what was expected and what
 * was given. Secret values are never echoed. In production (NODE_ENV or WEIR_ENV = production) a secret
 * left at an insecure default is refused.
 *
 * @example
 * const config = loadConfig(z.object({ API_PORT: envInt({ default: 8080, min: 1, max: 65535 }) }))
 * logger.info('config', describeConfig(config))
 */
import { readFileSync } from 'node:fs'
import type { z } from 'zod'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { secretSpecOf } from './fields.ts'
import { REDACTED, redactUrlPassword, SECRET_NAME, Secret } from './secret.ts'

export type Env = Readonly<Record<string, string | undefined>>

export interface ConfigProblem {
  /** The environment variable (or `<VAR>_FILE`) at fault. */
  variable: string
  message: string
}

const PRODUCTION_MARKERS = ['WEIR_ENV', 'NODE_ENV'] as const

/** Which variable marks this environment as production, if any. */
export function productionMarker(env: Env = process.env): string | undefined {
  return PRODUCTION_MARKERS.find((name) => env[name]?.trim().toLowerCase() === 'production')
}

export function isProduction(env: Env = process.env): boolean {
  return productionMarker(env) !== undefined
}

function given(raw: string | undefined, secret: boolean): string {
  if (raw === undefined) return 'not set'
  if (secret) return `got ${REDACTED}`
  const shown = redactUrlPassword(raw)
  return `got ${JSON.stringify(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown)}`
}

function readSecretFile(variable: string, path: string, problems: ConfigProblem[]): string | undefined {
  try {
    const text = readFileSync(path, 'utf8').replace(/\r?\n$/, '')
    if (text === '') problems.push({ variable, message: `the secret file "${path}" is empty` })
    return text
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err))
    problems.push({ variable, message: `cannot read the secret file "${path}" (${code})` })
    return undefined
  }
}

/**
 * Parses the environment through the schema. Throws WeirError(CONFIG_INVALID) listing every problem.
 * Secret fields (envSecret) also read `<VAR>_FILE`.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Env = process.env): z.output<S> {
  const shape = schema.shape as Record<string, z.ZodType>
  const problems: ConfigProblem[] = []
  const input: Record<string, string | undefined> = {}
  const isSecret: Record<string, boolean> = {}
  const production = productionMarker(env)

  for (const [key, field] of Object.entries(shape)) {
    const spec = secretSpecOf(field)
    isSecret[key] = spec !== undefined || SECRET_NAME.test(key)
    let raw = env[key]
    const filePath = spec === undefined ? undefined : env[`${key}_FILE`]?.trim()
    if (filePath) {
      if (raw !== undefined && raw !== '') {
        problems.push({ variable: key, message: `set either ${key} or ${key}_FILE, not both` })
        continue
      }
      raw = readSecretFile(`${key}_FILE`, filePath, problems)
      if (raw === undefined || raw === '') continue
    }
    input[key] = raw
    const parsed = field.safeParse(raw)
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({ variable: key, message: `${issue.message}, ${given(raw, isSecret[key])}` })
      }
      continue
    }
    if (production !== undefined && spec !== undefined && parsed.data instanceof Secret) {
      const usedDefault = raw === undefined || raw === ''
      if ((usedDefault && spec.hasDefault) || spec.insecure.includes(parsed.data.reveal())) {
        problems.push({
          variable: key,
          message: `refusing a known insecure default secret in production (${production}=production); set ${key} or ${key}_FILE`,
        })
      }
    }
  }

  if (problems.length === 0) {
    // Every field parsed; the whole object may still carry cross-field rules (refine/superRefine).
    const whole = schema.safeParse(input)
    if (whole.success) return whole.data
    for (const issue of whole.error.issues) {
      problems.push({ variable: issue.path.map(String).join('.') || '(config)', message: issue.message })
    }
  }

  const lines = problems.map((p) => `  ${p.variable}: ${p.message}`)
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
  throw new WeirError(ErrorCode.CONFIG_INVALID, `Invalid configuration (${count}):\n${lines.join('\n')}`, {
    details: { problems },
  })
}

/**
 * A copy that is safe to log: Secret values, values under secret-looking names (PASSWORD, TOKEN, SALT, …)
 * and passwords inside URLs are replaced by '[redacted]'.
 */
export function describeConfig(config: object): Record<string, unknown> {
  return describe(config, '') as Record<string, unknown>
}

function describe(value: unknown, name: string): unknown {
  if (value instanceof Secret) return REDACTED
  if (typeof value === 'string') return SECRET_NAME.test(name) ? REDACTED : redactUrlPassword(value)
  if (Array.isArray(value)) return value.map((v) => describe(v, name))
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = describe(v, k)
    return out
  }
  return value
}

import { ErrorCode, WeirError } from '../core/errors.ts'

/** Flags of a CLI command: `--rate 100`, `--rate=100`, `--quiet`. */
export type Flags = Readonly<Record<string, string | true>>

export interface ParsedArgs {
  readonly positional: string[]
  readonly flags: Flags
}

/**
 * What a command accepts, checked before it runs: `--help` prints `usage`, an unknown flag or a
 * flag missing its value is an error that names it. A `value` flag takes the next word (or
 * `--flag=v`); a `boolean` flag never does, so `--json topic` keeps `topic` positional.
 */
export interface CommandSpec {
  readonly usage: string
  readonly flags: Readonly<Record<string, 'value' | 'boolean'>>
  /** Accept other `--name value` flags too (`weir produce`'s generator options); each still needs a value. */
  readonly passThroughValues?: boolean
}

/** `--help` or `-h` anywhere before a `--`. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false
    if (a === '--help' || a === '-h') return true
  }
  return false
}

/** A word that is a value rather than a flag: anything but `--x`/`-x` (a negative number is a value). */
const isValue = (word: string | undefined): word is string =>
  word !== undefined && (!word.startsWith('-') || /^-\d/.test(word))

export function parseArgs(argv: readonly string[], spec?: CommandSpec, command = 'weir'): ParsedArgs {
  const positional: string[] = []
  const flags: Record<string, string | true> = {}
  const fail = (message: string): never => {
    throw new WeirError(ErrorCode.CONFIG_INVALID, `${message} (see ${command} --help)`)
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      positional.push(...argv.slice(i + 1))
      break
    }
    if (!a.startsWith('-') || /^-\d/.test(a)) {
      positional.push(a)
      continue
    }
    if (!a.startsWith('--')) fail(`unknown flag ${a} for ${command}`)
    const eq = a.indexOf('=')
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2)
    const kind = spec === undefined ? 'loose' : (spec.flags[name] ?? (spec.passThroughValues ? 'value' : undefined))
    if (kind === undefined) fail(`unknown flag --${name} for ${command}`)
    if (eq > 0) {
      flags[name] = a.slice(eq + 1)
    } else if (kind === 'boolean') {
      flags[name] = true
    } else if (isValue(argv[i + 1])) {
      flags[name] = argv[++i]!
    } else if (kind === 'value') {
      fail(`--${name}: expected a value`)
    } else {
      flags[name] = true
    }
  }
  return { positional, flags }
}

export function numberFlag(flags: Flags, name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
  const v = flags[name]
  if (v === undefined) return fallback
  const n = Number(v)
  const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY } = range
  if (v === true || !Number.isFinite(n) || n < min || n > max) {
    const bounds = [Number.isFinite(min) ? `≥ ${min}` : '', Number.isFinite(max) ? `≤ ${max}` : ''].filter(Boolean).join(' and ')
    throw new WeirError(ErrorCode.CONFIG_INVALID, `--${name}: expected a number${bounds ? ` ${bounds}` : ''}, got ${v === true ? 'nothing' : `"${v}"`}`)
  }
  return n
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const v = flags[name]
  if (v === true) throw new WeirError(ErrorCode.CONFIG_INVALID, `--${name}: expected a value`)
  return v
}

/** A boolean flag: present, `--x=true` or `--x=false`. */
export function booleanFlag(flags: Flags, name: string): boolean {
  const v = flags[name]
  if (v === undefined || v === 'false') return false
  if (v === true || v === 'true') return true
  throw new WeirError(ErrorCode.CONFIG_INVALID, `--${name}: expected true or false, got "${v}"`)
}

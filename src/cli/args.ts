import { ErrorCode, WeirError } from '../core/errors.ts'

/** Flags of a CLI command: `--rate 100`, `--rate=100`, `--quiet`. */
export type Flags = Readonly<Record<string, string | true>>

export function parseArgs(argv: readonly string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = []
  const flags: Record<string, string | true> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      positional.push(...argv.slice(i + 1))
      break
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1)
      else {
        const next = argv[i + 1]
        if (next !== undefined && !next.startsWith('--')) {
          flags[a.slice(2)] = next
          i++
        } else flags[a.slice(2)] = true
      }
    } else positional.push(a)
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

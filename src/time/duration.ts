import { ErrorCode, WeirError } from '../core/errors.ts'

/** Milliseconds, or text with a unit: `'250ms'`, `'30s'`, `'5m'`, `'1h'`, `'1d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`

const UNIT: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * A duration in whole milliseconds, checked: `what` names the option in the error.
 *
 * @example
 * toMillis('5m', 'tumbling size') // 300000
 */
export function toMillis(d: Duration, what: string, options: { allowZero?: boolean } = {}): number {
  let ms: number
  if (typeof d === 'number') ms = d
  else {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(typeof d === 'string' ? d.trim() : '')
    if (m === null)
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `${what}: expected milliseconds or a duration like '30s' or '5m', got ${JSON.stringify(d)}`,
      )
    ms = Number(m[1]) * UNIT[m[2]!]!
  }
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !options.allowZero) || !Number.isInteger(ms)) {
    const expected = options.allowZero
      ? 'a whole number of milliseconds ≥ 0'
      : 'a whole number of milliseconds > 0'
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `${what}: expected ${expected}, got ${JSON.stringify(d)}`)
  }
  return ms
}

import { ErrorCode, WeirError } from '../../core/errors.ts'

/**
 * What a failed PostgreSQL call means for the rows:
 * - `row`: SQLSTATE class 22 (data exception), 23 (integrity constraint) or 21 (cardinality): some
 *   row is bad; find it and reject only it,
 * - `statement`: class 42 (syntax, undefined table or column, privilege) or 0A: the sink's own SQL
 *   is wrong for this database; every row would fail, so keep them all and say so,
 * - `connection`: anything else (refused, reset, timeout, 08/53/57/40 classes…): an outage; keep the rows.
 */
export type PgFailure = 'row' | 'statement' | 'connection'

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

export function classify(err: unknown): PgFailure {
  const state = sqlState(err)
  if (state === undefined) return 'connection'
  const cls = state.slice(0, 2)
  if (cls === '22' || cls === '23' || cls === '21') return 'row'
  if (cls === '42' || cls === '0A') return 'statement'
  return 'connection'
}

/** A readable reason, also for Node's AggregateError (connecting to every address of a name) whose message is empty. */
export function describe(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    const inner = err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e)))
    return [...new Set(inner)].join('; ') || String((err as { code?: unknown }).code ?? 'AggregateError')
  }
  if (err instanceof Error) {
    const state = sqlState(err)
    return state === undefined
      ? err.message || String((err as { code?: unknown }).code ?? err.name)
      : `${err.message} (SQLSTATE ${state})`
  }
  return String(err)
}

/** The details dead-letter headers carry for a rejected row. */
export function rowErrorDetails(err: unknown, table: string): Record<string, unknown> {
  const e = (err ?? {}) as Record<string, unknown>
  const out: Record<string, unknown> = { table, sqlstate: sqlState(err) }
  for (const k of ['constraint', 'column', 'detail'] as const) if (typeof e[k] === 'string') out[k] = e[k]
  return out
}

export function pgUnavailable(where: string, cause: unknown, kept: number): WeirError {
  return new WeirError(
    ErrorCode.SINK_UNAVAILABLE,
    `postgres ${where} unavailable: ${describe(cause)} (${kept} rows kept for the next flush)`,
    { cause },
  )
}

const TLS_REFUSALS = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
])

/** Errors of a server that answered and said no: authentication, database, TLS verification. */
export function refusesUs(err: unknown): boolean {
  const state = sqlState(err)
  if (state !== undefined) return state.startsWith('28') || state === '3D000'
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && TLS_REFUSALS.has(code)) return true
  return err instanceof Error && /does not support SSL/.test(err.message)
}

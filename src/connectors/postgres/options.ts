/** The PostgreSQL sink's options and statistics (the sink itself: ./sink.ts). */
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type pg from 'pg'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { MetricsRegistry } from '../../core/metrics.ts'
import type { Logger } from '../../log/logger.ts'
import type { ConflictSpec, TableName } from './sql.ts'

export type Row = Readonly<Record<string, unknown>>
export type SecretText = string | { reveal(): string }

export interface PostgresSinkOptions {
  /** `postgres://user:password@host:5432/db`; or the separate fields below. */
  readonly connectionString?: SecretText
  readonly host?: string
  readonly port?: number
  readonly database?: string
  readonly user?: string
  readonly password?: SecretText
  readonly ssl?: boolean | TlsOptions
  /** A pool to share between sinks; the sink then leaves it open on close. */
  readonly pool?: pg.Pool
  /** Connections in the sink's own pool. Default 2. */
  readonly maxConnections?: number
  readonly table: TableName
  /** The columns written, in order; a row's value for each is taken by name (`undefined` → DEFAULT). */
  readonly columns: readonly string[]
  /** Makes a replayed row an upsert instead of a duplicate (see ConflictUpdate). */
  readonly conflict?: ConflictSpec
  /** DDL run by `open()` before anything else, e.g. `CREATE TABLE IF NOT EXISTS …` (trusted config, not escaped). */
  readonly createTable?: string
  /** Rows per INSERT statement (also capped so a statement stays under 65,535 parameters). Default 1,000. */
  readonly batchSize?: number
  /** Default 5,000 ms: connecting, and so how fast a flush fails while PostgreSQL is down. */
  readonly connectTimeoutMs?: number
  /** Default 30,000 ms: one statement, after which the connection is dropped and the flush fails. */
  readonly queryTimeoutMs?: number
  /**
   * Rows PostgreSQL refuses for good (SQLSTATE class 22/23: a NOT NULL, CHECK, foreign key or type
   * violation). The runtime wires this to the dead-letter path. Without it a bad row stays buffered and
   * every flush rejects with SINK_REJECTED (nothing is lost, and nothing after it is committed).
   */
  readonly onRejected?: (row: Row, err: WeirError) => void | Promise<void>
  /**
   * Statements run in the flush's transaction after its rows are written (only the rows PostgreSQL
   * accepted), e.g. totals recomputed from partial rows; their results go to `onCommitted`.
   */
  readonly followUp?: (
    rows: readonly Row[],
  ) => Iterable<{ readonly text: string; readonly values: unknown[] }>
  /** After a flush's transaction committed: its rows and the results of `followUp`'s statements. */
  readonly onCommitted?: (rows: readonly Row[], results: readonly pg.QueryResult[]) => void
  /**
   * PostgreSQL unreachable at `open`: start anyway (status not connected) and run `createTable` and the
   * insert check on the first flush that reaches it. Default false: `open` fails.
   */
  readonly startUnreachable?: boolean
  /** Sink id, application_name and the `sink` metrics label. Default: the table name. */
  readonly name?: string
  readonly metrics?: MetricsRegistry
  readonly logger?: Logger
}

export interface PostgresSinkStats {
  readonly written: number
  readonly rejected: number
  /** Failed flushes. */
  readonly errors: number
  readonly backlog: number
  readonly connected: boolean
  readonly lastError?: string
}

export function reveal(s: SecretText | undefined): string | undefined {
  return typeof s === 'object' ? s.reveal() : s
}

export function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback
  if (!Number.isFinite(v) || v <= 0)
    throw new WeirError(ErrorCode.CONFIG_INVALID, `postgres sink option ${name} must be positive, got ${v}`)
  return v
}

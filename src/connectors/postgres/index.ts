/**
 * PostgreSQL sink (subpath export `weir/postgres`, so pg stays an optional dependency of the core).
 * Follows the connector contract (src/connectors/contract.ts) and runs its contract test.
 */
import type { PostgresSinkOptions } from './options.ts'
import { PostgresSink } from './sink.ts'

export type { PostgresSinkOptions, PostgresSinkStats, Row } from './options.ts'
export { PostgresSink } from './sink.ts'
export type { ConflictSpec, ConflictUpdate, TableName } from './sql.ts'
export { quoteIdent } from './sql.ts'

/**
 * Writes rows to a table at each checkpoint: one transaction of multi-row INSERTs, with ON CONFLICT so a
 * replayed window result is an idempotent upsert. Bad rows (SQLSTATE 22/23) go to `onRejected`;
 * an outage rejects the flush with SINK_UNAVAILABLE and keeps the rows.
 *
 * @example
 * const stats = postgresSink({
 *   connectionString: cfg.DATABASE_URL,
 *   table: 'content_stats',
 *   columns: ['window_start', 'content_id', 'downloads', 'failed'],
 *   conflict: { key: ['window_start', 'content_id'], update: 'replace' },
 *   onRejected: (row, err) => deadLetters.add(row, err),
 * })
 * windows.toSink(stats, { map: (r) => ({ window_start: new Date(r.key.start), content_id: r.key.key, ...r.value }) })
 */
export function postgresSink(options: PostgresSinkOptions): PostgresSink {
  return new PostgresSink(options)
}

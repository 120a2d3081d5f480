/**
 * Parquet archive sink (subpath export `weir/parquet`, so hyparquet-writer stays an optional
 * dependency of the core). Follows the connector contract (src/connectors/contract.ts).
 */
import { ParquetSink, type ParquetSinkOptions } from './sink.ts'

export type { ColumnType, ParquetCodec, ParquetColumn } from './columns.ts'
export { type ArchiveFileSystem, localFileSystem } from './filesystem.ts'
export { dayPartition, partFileName } from './layout.ts'
export { type ParquetItem, ParquetSink, type ParquetSinkOptions, type RollPolicy, type Row } from './sink.ts'

/**
 * Archives a stream as Parquet files partitioned by event date, exactly once per row across crashes.
 *
 * @example
 * const raw = parquetSink({
 *   name: 'raw', fileSystem: localFileSystem('/data/archive'), directory: 'traffic-data/raw',
 *   columns: [{ name: 'sensor_id', type: 'string' }, { name: 'timestamp', type: 'timestamp' }, { name: 'speed_mph', type: 'double' }],
 *   eventTime: (row) => Date.parse(String(row.timestamp)),
 * })
 * events.toSink(raw, { map: (r) => ({ origin: r, row: r.value }) })
 */
export function parquetSink(options: ParquetSinkOptions): ParquetSink {
  return new ParquetSink(options)
}

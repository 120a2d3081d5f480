/**
 * Seed 002 §2.6: the traffic apps' Parquet archive for the ML pipeline downstream, laid out as the seed
 * asks: `<ARCHIVE_DIR>/traffic-data/raw/year=YYYY/month=MM/day=DD/` for validated readings (traffic)
 * and `<ARCHIVE_DIR>/traffic-data/processed/aggregates/year=…/month=…/day=…/` for window results
 * (traffic-windows), partitioned by event time (UTC). Off unless ARCHIVE_DIR is set.
 */
import { envBytes, envDuration, envEnum, envInt, envString } from '../../config/index.ts'
import {
  localFileSystem,
  type ParquetColumn,
  type ParquetItem,
  type ParquetSink,
  parquetSink,
} from '../../connectors/parquet/index.ts'
import type { MetricsRegistry } from '../../core/metrics.ts'
import type { WeirRecord } from '../../core/record.ts'
import type { Logger } from '../../log/logger.ts'
import type { TrafficWindowAggregate } from './domain/index.ts'
import type { ProcessedTrafficEvent } from './formats.ts'

export const RAW_ARCHIVE_DIR = 'traffic-data/raw'
export const AGGREGATES_ARCHIVE_DIR = 'traffic-data/processed/aggregates'

/** The archive's variables, the same in both traffic apps. */
export const archiveEnv = {
  ARCHIVE_DIR: envString({ optional: true }),
  ARCHIVE_CODEC: envEnum(['zstd', 'snappy'], { default: 'zstd' }),
  ARCHIVE_ROLL_ROWS: envInt({ default: 1_000_000, min: 1 }),
  ARCHIVE_ROLL_BYTES: envBytes({ default: '64MB', min: 1024 }),
  ARCHIVE_ROLL_INTERVAL: envDuration({ default: '60s', min: 100 }),
}

export interface ArchiveSettings {
  readonly ARCHIVE_DIR: string | undefined
  readonly ARCHIVE_CODEC: 'snappy' | 'zstd'
  readonly ARCHIVE_ROLL_ROWS: number
  readonly ARCHIVE_ROLL_BYTES: number
  readonly ARCHIVE_ROLL_INTERVAL: number
}

export const archiveEnvDocs = [
  {
    name: 'ARCHIVE_DIR',
    description: 'Parquet archive root (a local or mounted HDFS/NFS path); unset: no archive',
  },
  {
    name: 'ARCHIVE_CODEC',
    default: 'zstd',
    description: 'Parquet compression: zstd (native, faster and ~3x smaller here) or snappy',
  },
  {
    name: 'ARCHIVE_ROLL_ROWS',
    default: '1000000',
    description: 'Rows per source partition before a file is closed',
  },
  {
    name: 'ARCHIVE_ROLL_BYTES',
    default: '64MB',
    description: 'Compressed bytes per source partition before a file is closed',
  },
  {
    name: 'ARCHIVE_ROLL_INTERVAL',
    default: '60s',
    description:
      'Oldest row age before files are closed; offsets are committed once their rows are in closed files',
  },
] as const

/** The seed's HDFSWriter schema (sensor_id, timestamp, speed_mph, volume_vph, occupancy_percent, latitude, longitude), then the rest of the event and its source. */
export const RAW_COLUMNS: readonly ParquetColumn[] = [
  { name: 'sensor_id', type: 'string', nullable: false },
  { name: 'timestamp', type: 'timestamp', nullable: false },
  { name: 'speed_mph', type: 'double' },
  { name: 'volume_vph', type: 'int' },
  { name: 'occupancy_percent', type: 'double' },
  { name: 'latitude', type: 'double' },
  { name: 'longitude', type: 'double' },
  { name: 'highway', type: 'string' },
  { name: 'direction', type: 'string' },
  { name: 'lane_count', type: 'int' },
  { name: 'weather_conditions', type: 'string' },
  { name: 'temperature_f', type: 'double' },
  { name: 'processed_at', type: 'timestamp' },
  { name: 'kafka_partition', type: 'int', nullable: false },
  { name: 'kafka_offset', type: 'long', nullable: false },
]

export const AGGREGATE_COLUMNS: readonly ParquetColumn[] = [
  { name: 'sensor_id', type: 'string', nullable: false },
  { name: 'window_start', type: 'timestamp', nullable: false },
  { name: 'window_end', type: 'timestamp', nullable: false },
  { name: 'avg_speed', type: 'double' },
  { name: 'avg_volume', type: 'double' },
  { name: 'avg_occupancy', type: 'double' },
  { name: 'speed_variance', type: 'double' },
  { name: 'message_count', type: 'int' },
  { name: 'kafka_partition', type: 'int', nullable: false },
  { name: 'kafka_offset', type: 'long', nullable: false },
]

interface SinkContext {
  readonly metrics?: MetricsRegistry
  readonly logger?: Logger
  /** Exactly-once runs close files at every checkpoint (their offsets are committed in a transaction). */
  readonly rollOnCheckpoint: boolean
}

function archiveSink(
  settings: ArchiveSettings,
  name: string,
  directory: string,
  columns: readonly ParquetColumn[],
  eventTime: (row: Readonly<Record<string, unknown>>) => number,
  ctx: SinkContext,
): ParquetSink | undefined {
  if (settings.ARCHIVE_DIR === undefined) return undefined
  return parquetSink({
    name,
    fileSystem: localFileSystem(settings.ARCHIVE_DIR),
    directory,
    columns,
    eventTime,
    codec: settings.ARCHIVE_CODEC,
    roll: {
      rows: settings.ARCHIVE_ROLL_ROWS,
      bytes: settings.ARCHIVE_ROLL_BYTES,
      intervalMs: settings.ARCHIVE_ROLL_INTERVAL,
    },
    rollOnCheckpoint: ctx.rollOnCheckpoint,
    metrics: ctx.metrics,
    logger: ctx.logger,
  })
}

export function rawArchive(settings: ArchiveSettings, ctx: SinkContext): ParquetSink | undefined {
  return archiveSink(
    settings,
    'raw',
    RAW_ARCHIVE_DIR,
    RAW_COLUMNS,
    (row) => Date.parse(String(row.timestamp)),
    ctx,
  )
}

export function aggregatesArchive(settings: ArchiveSettings, ctx: SinkContext): ParquetSink | undefined {
  return archiveSink(
    settings,
    'aggregates',
    AGGREGATES_ARCHIVE_DIR,
    AGGREGATE_COLUMNS,
    (row) => Number(row.window_start),
    ctx,
  )
}

export function rawArchiveItem(r: WeirRecord<unknown, ProcessedTrafficEvent>): ParquetItem {
  const e = r.value
  return {
    origin: r,
    row: {
      sensor_id: e.sensor_id,
      timestamp: e.timestamp,
      speed_mph: e.speed,
      volume_vph: e.volume,
      occupancy_percent: e.occupancy,
      latitude: e.latitude,
      longitude: e.longitude,
      highway: e.highway,
      direction: e.direction,
      lane_count: e.lane_count,
      weather_conditions: e.weather_conditions,
      temperature_f: e.temperature_f,
      processed_at: e.processed_at,
      kafka_partition: r.partition,
      kafka_offset: r.offset,
    },
  }
}

export function aggregateArchiveItem(r: WeirRecord<unknown, TrafficWindowAggregate>): ParquetItem {
  return { origin: r, row: { ...r.value, kafka_partition: r.partition, kafka_offset: r.offset } }
}

/** Whether a run commits offsets inside Kafka transactions (PROCESSING_GUARANTEE, read by the service). */
export function exactlyOnce(env: Readonly<Record<string, string | undefined>>): boolean {
  const g = env.PROCESSING_GUARANTEE?.trim()
  return g === 'exactly_once' || g === 'exactly_once_v2'
}

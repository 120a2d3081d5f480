import { z } from 'zod'
import {
  envBool,
  envDuration,
  envEnum,
  envInt,
  envList,
  envSecret,
  envString,
  envUrl,
  loadConfig,
} from '../../config/index.ts'
import type { ParquetSink } from '../../connectors/parquet/index.ts'
import type { Serde } from '../../core/serde.ts'
import { reducer } from '../../dsl/aggregations.ts'
import { pipeline } from '../../dsl/stream.ts'
import { trafficGenerator } from '../../generators/index.ts'
import { METRICS_COMPAT_PROFILES } from '../../ops/seed-metrics.ts'
import { waitForRegistry } from '../../serdes/registry/wait.ts'
import { watchRegistry } from '../../serdes/registry/watch.ts'
import { SUBJECT_NAME_STRATEGIES } from '../../serdes/wire.ts'
import { tumbling } from '../../time/windows.ts'
import type { AppContext, AppInstance, WeirApp } from '../app.ts'
import { windowsView } from './view.ts'
import {
  aggregateArchiveItem,
  aggregatesArchive,
  archiveEnv,
  archiveEnvDocs,
  exactlyOnce,
} from '../traffic/archive.ts'
import {
  addTrafficEvent,
  emptyTrafficWindow,
  flattenMetrLa,
  type MetrLaRecord,
  mergeTrafficWindows,
  TRAFFIC_WINDOW_MS,
  type TrafficEvent,
  type TrafficWindowAggregate,
  type TrafficWindowState,
  trafficWindowResult,
} from '../traffic/domain/index.ts'
import { type ProcessedTrafficEvent, requireRegistryForAvro } from '../traffic/formats.ts'
import { windowsFormats } from './formats.ts'

/** Seed 001's connection variables plus the window settings of seed 002 (subtask 2.2). */
export const trafficWindowsEnv = z
  .object({
    KAFKA_BROKERS: envList({ default: ['localhost:9092'] }),
    GROUP_ID: envString({ default: 'traffic-windows-group' }),
    CLIENT_ID: envString({ default: 'traffic-windows-client' }),
    INPUT_TOPIC: envString({ default: 'traffic-events' }),
    OUTPUT_TOPIC: envString({ default: 'traffic-aggregates' }),
    DLQ_TOPIC: envString({ default: 'traffic-aggregates-dlq' }),
    INPUT_PARTITIONS: envInt({ default: 5, min: 1, max: 1000 }),
    WINDOW_SIZE: envDuration({ default: TRAFFIC_WINDOW_MS, min: 1000 }),
    WINDOW_GRACE: envDuration({ default: 60_000, min: 0 }),
    HEALTH_HOST: envString({ default: '0.0.0.0' }),
    HEALTH_PORT: envInt({ default: 3002, min: 0, max: 65535 }),
    AUTO_OFFSET_RESET: envEnum(['earliest', 'latest'], { default: 'earliest' }),
    // Avro through the registry, as in the traffic app.
    VALUE_FORMAT: envEnum(['json', 'avro'], { default: 'json' }),
    OUTPUT_VALUE_FORMAT: envEnum(['json', 'avro'], { optional: true }),
    SCHEMA_REGISTRY_URL: envUrl({ optional: true, protocols: ['http:', 'https:'] }),
    SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: envSecret({ optional: true }),
    AUTO_REGISTER_SCHEMAS: envBool({ default: true }),
    VALUE_SUBJECT_NAME_STRATEGY: envEnum(SUBJECT_NAME_STRATEGIES, { default: 'TopicNameStrategy' }),
    METRICS_COMPAT: envEnum(METRICS_COMPAT_PROFILES, { optional: true }),
    ...archiveEnv,
  })
  .superRefine((c, ctx) => {
    requireRegistryForAvro(c, ctx)
    if (c.INPUT_TOPIC === c.OUTPUT_TOPIC && (c.VALUE_FORMAT === 'avro' || c.OUTPUT_VALUE_FORMAT === 'avro')) {
      ctx.addIssue({
        code: 'custom',
        path: ['OUTPUT_TOPIC'],
        message: `is INPUT_TOPIC (${c.INPUT_TOPIC}): readings and window results on one topic work with JSON only; with Avro give them their own topics`,
      })
    }
  })

export type TrafficWindowsConfig = z.output<typeof trafficWindowsEnv>

/** Welford state per sensor per window; `merge` lets the same logic serve session windows. */
const trafficAggregate = reducer<TrafficEvent, TrafficWindowState, TrafficWindowState>({
  init: emptyTrafficWindow,
  add: (acc, e) => addTrafficEvent(acc, e),
  merge: mergeTrafficWindows,
  result: (acc) => acc,
})

function eventTime(e: TrafficEvent): number {
  const t = Date.parse(e.timestamp)
  if (Number.isNaN(t)) throw new TypeError(`timestamp "${e.timestamp}" is not a date`)
  return t
}

/** A window result (the seed's plan puts them on traffic-events, next to the readings). */
export function isWindowAggregate(v: unknown): v is TrafficWindowAggregate {
  return v !== null && typeof v === 'object' && 'window_start' in v && 'message_count' in v
}

/**
 * Seed 002, subtask 2.2: 5-minute tumbling windows per sensor on event time over the validated events
 * (keyed by sensor_id, so grouping stays within partitions) → `traffic-aggregates` with avg_speed,
 * avg_volume, avg_occupancy, speed_variance, message_count, window_start, window_end. Window state is
 * durable (changelog `<GROUP_ID>-traffic-5m-changelog`); windows close on the wall clock too; records
 * later than the grace period go to the dead-letter topic as LATE_RECORD. With an archive, the window
 * results are read back from the output topic and written to Parquet (their offsets, not the
 * readings', decide what is committed). Window results found on the input (OUTPUT_TOPIC = INPUT_TOPIC,
 * the seed's layout) are not readings and are passed over.
 */
export function trafficWindowsPipeline(
  config: Pick<
    TrafficWindowsConfig,
    'GROUP_ID' | 'INPUT_TOPIC' | 'OUTPUT_TOPIC' | 'INPUT_PARTITIONS' | 'WINDOW_SIZE' | 'WINDOW_GRACE'
  >,
  serdes: {
    readonly input?: Serde<ProcessedTrafficEvent>
    readonly output?: Serde<TrafficWindowAggregate>
  } = {},
  extras: {
    readonly archive?: ParquetSink
    /** Sees each window result on its way out (the dashboard's table). */
    readonly onResult?: (w: TrafficWindowAggregate) => void
  } = {},
) {
  // The pipeline name is the application id, as in Kafka Streams: the group and the prefix of its
  // changelog topic. Two deployments with different groups must never share window state.
  const p = pipeline(config.GROUP_ID)
  const shared = config.INPUT_TOPIC === config.OUTPUT_TOPIC
  const input = p.stream<TrafficEvent | TrafficWindowAggregate>(config.INPUT_TOPIC, {
    partitions: config.INPUT_PARTITIONS,
    value: serdes.input as Serde<TrafficEvent | TrafficWindowAggregate> | undefined,
  })
  input
    .filter((v): v is TrafficEvent => !isWindowAggregate(v), { name: 'readings-only' })
    // Readings are keyed by sensor_id on the input topic already: group in place, no repartition topic.
    .groupBy((e) => e.sensor_id, { name: 'by-sensor', repartition: false })
    .window(tumbling({ size: config.WINDOW_SIZE, grace: config.WINDOW_GRACE }), { timestamp: eventTime })
    .aggregate(trafficAggregate, { name: 'traffic-5m', emit: 'final', late: 'dlq' })
    .map(
      (w): TrafficWindowAggregate =>
        trafficWindowResult(w.value, { sensor_id: w.key, window_start: w.start, window_end: w.end }),
      { name: 'to-aggregate' },
    )
    .peek((w) => extras.onResult?.(w), { name: 'dashboard' })
    .to(config.OUTPUT_TOPIC, { partitions: config.INPUT_PARTITIONS, value: serdes.output })
  const archive = extras.archive
  if (archive) {
    const results = shared
      ? input
      : p.stream<TrafficWindowAggregate>(config.OUTPUT_TOPIC, {
          partitions: config.INPUT_PARTITIONS,
          value: serdes.output,
        })
    results
      .filter((v): v is TrafficWindowAggregate => isWindowAggregate(v), { name: 'aggregates-only' })
      .toSink(archive, { map: aggregateArchiveItem, name: 'archive-aggregates' })
  }
  return p
}

async function create(ctx: AppContext): Promise<AppInstance> {
  const config = loadConfig(trafficWindowsEnv, ctx.env)
  const windows = windowsView()
  const formats = await windowsFormats(config)
  if (config.METRICS_COMPAT !== undefined) ctx.metrics.compat?.(config.METRICS_COMPAT)
  const archive = aggregatesArchive(config, {
    metrics: ctx.metrics,
    logger: ctx.logger,
    rollOnCheckpoint: exactlyOnce(ctx.env),
  })
  const registry = formats.registry
  const watch = registry && watchRegistry(registry)
  return {
    pipeline: trafficWindowsPipeline(config, formats, {
      ...(archive ? { archive } : {}),
      onResult: (w) => windows.update(w),
    }),
    views: [windows.view],
    kafka: { brokers: config.KAFKA_BROKERS, clientId: config.CLIENT_ID },
    http: { host: config.HEALTH_HOST, port: config.HEALTH_PORT, portVariable: 'HEALTH_PORT' },
    run: {
      groupId: config.GROUP_ID,
      clientId: config.CLIENT_ID,
      fromBeginning: config.AUTO_OFFSET_RESET === 'earliest',
      deadLetterTopic: config.DLQ_TOPIC,
      topics: { partitions: config.INPUT_PARTITIONS },
      ...(registry ? waitForRegistry() : {}),
    },
    ...(watch || archive
      ? {
          components: () => ({
            ...(watch ? { registry: watch.status() } : {}),
            ...(archive ? { archive: archive.status() } : {}),
          }),
        }
      : {}),
    ...(watch ? { close: async () => watch.stop() } : {}),
  }
}

export const trafficWindowsApp: WeirApp = {
  name: 'traffic-windows',
  description:
    'METR-LA 5-minute windows per sensor (seed 002 §2.2): traffic-events → traffic-aggregates, durable state, Avro and Parquet archive optional',
  env: [
    {
      name: 'KAFKA_BROKERS',
      default: 'localhost:9092',
      description: 'Kafka bootstrap servers, comma-separated',
    },
    { name: 'GROUP_ID', default: 'traffic-windows-group', description: 'Consumer group' },
    { name: 'CLIENT_ID', default: 'traffic-windows-client', description: 'Client id' },
    {
      name: 'INPUT_TOPIC',
      default: 'traffic-events',
      description: 'Validated, flattened events (the traffic app output)',
    },
    { name: 'OUTPUT_TOPIC', default: 'traffic-aggregates', description: 'One record per sensor per window' },
    { name: 'DLQ_TOPIC', default: 'traffic-aggregates-dlq', description: 'Late and unreadable records' },
    { name: 'INPUT_PARTITIONS', default: '5', description: 'Partitions for topics created at start' },
    {
      name: 'WINDOW_SIZE',
      default: '5m',
      description: 'Tumbling window size (ms or 30s/5m/1h)',
      seedName: 'windowDuration (fixed 5 min)',
    },
    { name: 'WINDOW_GRACE', default: '1m', description: 'How late a record may be and still count' },
    { name: 'HEALTH_PORT', default: '3002', description: 'Port of /health, /metrics and the dashboard' },
    { name: 'HEALTH_HOST', default: '0.0.0.0', description: 'Bind address of the ops server' },
    {
      name: 'AUTO_OFFSET_RESET',
      default: 'earliest',
      description: 'Where a new group starts: earliest or latest',
    },
    {
      name: 'VALUE_FORMAT',
      default: 'json',
      description: 'Input format: json, or avro (Confluent wire format, TrafficEvent schema)',
    },
    {
      name: 'OUTPUT_VALUE_FORMAT',
      default: 'same as VALUE_FORMAT',
      description: 'Output format: json or avro (TrafficWindowAggregate schema)',
    },
    {
      name: 'SCHEMA_REGISTRY_URL',
      description: 'Confluent-compatible schema registry API; required when a format is avro',
    },
    {
      name: 'SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO',
      description: 'user:password for the registry (or a file path in _FILE)',
    },
    {
      name: 'AUTO_REGISTER_SCHEMAS',
      default: 'true',
      description: 'Register the output schema on first use',
    },
    {
      name: 'VALUE_SUBJECT_NAME_STRATEGY',
      default: 'TopicNameStrategy',
      description: 'Subject of a value schema',
    },
    {
      name: 'METRICS_COMPAT',
      description: 'seed-002: also expose stream_processor_* metrics (seed 002 names and labels)',
    },
    ...archiveEnvDocs,
  ],
  create,
  // Test data: valid events as the traffic app writes them, with event time advancing `eventStepMs`
  // (default 50 ms) per record from `start` (default: a day ago), so windows fill and close.
  generator: (options) => {
    const step = typeof options.eventStepMs === 'number' ? options.eventStepMs : 50
    const start = typeof options.start === 'number' ? options.start : Date.now() - 86_400_000
    let i = 0
    const g = trafficGenerator({ seed: options.seed ?? 1, invalidShare: 0, now: () => start + i * step })
    return {
      next() {
        const r = g.next()
        i++
        const e = flattenMetrLa(r.value as MetrLaRecord)
        return {
          topic: 'traffic-events',
          key: e.sensor_id,
          value: {
            ...e,
            processed_at: new Date().toISOString(),
            processor_id: 'generator',
            validation_status: 'valid',
          },
          timestamp: r.timestamp,
        }
      },
    }
  },
  inputTopics: [{ name: 'traffic-events', partitions: 5 }],
}

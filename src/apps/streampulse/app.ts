/**
 * `weir run streampulse`: seed 003's Flink job (Avro download events → 1-minute windows → PostgreSQL
 * tables and alerts) as a drop-in: the seed's env vars, topic, tables and console lines, with exactly
 * once in effect (every row an upsert written by the checkpoint before offsets are committed).
 * `weir produce streampulse` writes realistic events; `weir query streampulse …` reads the tables.
 */

import { postgresSink } from '../../connectors/postgres/index.ts'
import { streamPulseGenerator } from '../../generators/streampulse.ts'
import { waitForRegistry } from '../../serdes/registry/wait.ts'
import { watchRegistry } from '../../serdes/registry/watch.ts'
import type { AppContext, AppInstance, GeneratorOptions, WeirApp } from '../app.ts'
import { eventFormat } from './avro.ts'
import { loadStreamPulseConfig, STREAMPULSE_ENV_DOCS, type StreamPulseConfig } from './config.ts'
import type { DownloadEvent, PartRow } from './domain.ts'
import { StreamPulseMetrics } from './metrics.ts'
import { streamPulsePipeline } from './pipeline.ts'
import { CREATE_TABLES, mergeStatements, PART_COLUMNS, PARTS_TABLE } from './sql.ts'
import { streamPulseView } from './views.ts'
import { WindowBoard } from './window-board.ts'

/**
 * Backpressure: a window's rows are a few thousand at most, and waiting rows are what an outage of
 * PostgreSQL piles up; 20,000 keeps memory small and pauses input during a long outage.
 */
export const STREAMPULSE_RUN_LIMITS = { maxBacklog: 20_000 } as const

/** The PostgreSQL sink of partial rows, with the seed's tables recomputed in each flush's transaction. */
export function streamPulseSink(
  config: StreamPulseConfig,
  ctx: Pick<AppContext, 'logger' | 'metrics'>,
  metrics: StreamPulseMetrics,
  board?: WindowBoard,
) {
  return postgresSink({
    name: 'streampulse',
    host: config.PG_HOST,
    port: config.PG_PORT,
    database: config.PG_DATABASE,
    user: config.PG_USER,
    ...(config.PG_PASSWORD === undefined ? {} : { password: config.PG_PASSWORD }),
    ssl: config.pgSsl,
    table: PARTS_TABLE,
    columns: PART_COLUMNS,
    conflict: {
      key: ['kind', 'window_start', 'group_key', 'sub_key', 'source_partition'],
      update: 'replace',
    },
    createTable: CREATE_TABLES,
    // PostgreSQL down at start: run degraded (/health says so, nothing is committed) until it answers.
    startUnreachable: true,
    batchSize: 2000,
    followUp: (rows) => mergeStatements(rows as readonly PartRow[]),
    onCommitted: (rows, results) => {
      metrics.committed(rows as readonly PartRow[], mergeStatements(rows as readonly PartRow[]), results)
      board?.committed(rows as readonly PartRow[])
    },
    metrics: ctx.metrics,
    logger: ctx.logger,
  })
}

async function create(ctx: AppContext): Promise<AppInstance> {
  const config = loadStreamPulseConfig(ctx.env)
  const format = eventFormat({
    schemaPath: config.AVRO_SCHEMA_PATH,
    registryUrl: config.SCHEMA_REGISTRY_URL,
    registryUserInfo: config.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO?.reveal(),
  })
  const metrics = new StreamPulseMetrics(ctx.metrics, ctx.logger, ctx.clock, config.LOG_EVERY_EVENTS)
  // The dashboard's recent windows, from the rows each flush committed.
  const board = new WindowBoard()
  const sink = streamPulseSink(config, ctx, metrics, board)
  const pipeline = streamPulsePipeline(config, {
    value: format.serde,
    sink,
    counted: () => metrics.event(),
    emitted: (row) => metrics.emitted(row),
  })
  const watch = format.registry && watchRegistry(format.registry)
  ctx.logger.info('Configuration validated', {
    kafka: config.KAFKA_BOOTSTRAP_SERVERS.join(','),
    topic: config.KAFKA_TOPIC,
    database: `${config.PG_HOST}/${config.PG_DATABASE}`,
    parallelism: config.PARALLELISM,
    windowSeconds: config.WINDOW_SIZE / 1000,
    allowedLatenessSeconds: config.ALLOWED_LATENESS / 1000,
    avro: format.registry
      ? `Confluent wire format via ${config.SCHEMA_REGISTRY_URL}`
      : `plain Avro with ${config.AVRO_SCHEMA_PATH}`,
    pgSslmode: config.PG_SSLMODE,
  })
  return {
    pipeline,
    kafka: config.kafka,
    http: { host: config.HEALTH_HOST, port: config.HEALTH_PORT, portVariable: 'HEALTH_PORT' },
    run: {
      groupId: config.KAFKA_GROUP_ID,
      clientId: config.KAFKA_CLIENT_ID,
      fromBeginning: config.KAFKA_AUTO_OFFSET_RESET === 'earliest',
      deadLetterTopic: config.DLQ_TOPIC,
      topics: { partitions: config.PARALLELISM },
      ...STREAMPULSE_RUN_LIMITS,
      ...(format.registry ? waitForRegistry() : {}),
    },
    metricsJson: () => ({ ...metrics.json(), postgres: sink.stats() }),
    // /health: postgres_connected (and registry_connected with a registry) next to kafka_connected.
    components: () => ({ postgres: sink.status(), ...(watch ? { registry: watch.status() } : {}) }),
    generator: (options) =>
      streamPulseInput(
        options,
        config,
        eventFormat({
          schemaPath: config.AVRO_SCHEMA_PATH,
          registryUrl: config.SCHEMA_REGISTRY_URL,
          registryUserInfo: config.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO?.reveal(),
          autoRegister: true,
        }),
      ),
    sinks: [sink],
    views: [
      streamPulseView(metrics, board, {
        windowMs: config.WINDOW_SIZE,
        allowedLatenessMs: config.ALLOWED_LATENESS,
        now: () => ctx.clock.now(),
      }),
    ],
    close: async () => watch?.stop(),
  }
}

/**
 * `weir produce streampulse [--contents N] [--late-share x] [--straggler-share x] [--invalid-share x]
 * [--degraded-region r]`: Avro events to KAFKA_TOPIC in the app's format (registry or plain).
 * `--invalid-share` is the malformed share (bytes that are not Avro).
 */
function streamPulseInput(
  options: GeneratorOptions,
  config: StreamPulseConfig,
  format: ReturnType<typeof eventFormat>,
) {
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined)
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const g = streamPulseGenerator({
    seed: options.seed ?? 1,
    topic: config.KAFKA_TOPIC,
    contents: num(options.contents),
    lateShare: num(options.lateShare),
    stragglerShare: num(options.stragglerShare),
    malformedShare: num(options.malformedShare) ?? options.invalidShare ?? 0,
    lateMs: config.ALLOWED_LATENESS,
    degradedRegion: str(options.degradedRegion),
  })
  const ctx = { topic: config.KAFKA_TOPIC, isKey: false }
  return {
    next: () => g.next(),
    encode: (r: { value: unknown }) =>
      Buffer.isBuffer(r.value) ? r.value : format.serde.serialize(r.value as DownloadEvent, ctx),
  }
}

export const streamPulseApp: WeirApp = {
  name: 'streampulse',
  description:
    'StreamPulse Flink job (seed 003): Avro content-downloads → 1-minute windows → PostgreSQL content_stats, region_health, device_stats, alerts',
  env: STREAMPULSE_ENV_DOCS,
  create,
  inputTopics: [{ name: 'content-downloads', partitions: 1 }],
}

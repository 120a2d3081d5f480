/**
 * MillionX stage 4, the embedding service (seed 004, port 6068):
 *
 *   enriched.social.contextualized ─┐                      ┌→ sink.snowflake.social  (the record, byte for byte)
 *   enriched.market.contextualized ─┴→ embeddable? ──┬─────┴→ sink.snowflake.market
 *                                       ↓ no id/text └→ all-MiniLM-L6-v2 (384 dims, batches of
 *                        embedding-service-errors       EMBEDDING_BATCH_SIZE) → pgvector "SocialPost" /
 *                                                       "MarketOrder" (upsert by post/order id)
 *
 * Offsets are committed only once the record's vector is upserted (the vector store is a sink in the
 * checkpoint) and its copy is on the sink topic. `GET /search?q=…&limit=5` on the same port, and
 * `weir search millionx "…"`, return the nearest posts and orders with their cosine scores.
 */
import { availableParallelism } from 'node:os'
import { z } from 'zod'
import {
  envDuration,
  envEnum,
  envInt,
  envList,
  envSecret,
  envString,
  loadConfig,
} from '../../../config/index.ts'
import type { ConnectorStatus } from '../../../connectors/contract.ts'
import { EmbeddingSink } from '../../../connectors/vector/embedding-sink.ts'
import { PgVectorStore } from '../../../connectors/vector/pgvector.ts'
import { bytes } from '../../../core/serde.ts'
import { type Pipeline, pipeline } from '../../../dsl/stream.ts'
import { DEFAULT_EMBEDDING_MODEL, SentenceEmbedder } from '../../../embeddings/index.ts'
import type { Logger } from '../../../log/logger.ts'
import { opsAccessFromEnv } from '../../../ops/auth.ts'
import { latencyMs, rateOf } from '../../../ops/index.ts'
import type { RunningPipeline } from '../../../runtime/runner.ts'
import type { AppContext, AppInstance, WeirApp } from '../../app.ts'
import { STAGE_TOPICS } from '../domain/topics.ts'
import { joinChain, stageCounts } from './chain.ts'
import { COLLECTIONS, EMBEDDING_ERRORS_TOPIC, embeddable, embeddingTopics, KINDS } from './embedding-input.ts'
import { type MillionxSearch, searchRoute, searchWith } from './embedding-search.ts'
import { embeddingPanel, embeddingView } from './views.ts'

export {
  COLLECTIONS,
  EMBEDDING_ERRORS_TOPIC,
  embeddable,
  embeddingText,
  embeddingTopics,
} from './embedding-input.ts'
export type { MillionxSearch } from './embedding-search.ts'

export const embeddingServiceEnv = z.object({
  KAFKA_BOOTSTRAP_SERVERS: envList({ default: ['localhost:9092'] }),
  KAFKA_GROUP_ID: envString({ default: 'millionx-embedding-service' }),
  KAFKA_CLIENT_ID: envString({ default: 'millionx-embedding-service' }),
  TOPIC_PREFIX: envString({ default: '' }),
  DLQ_TOPIC: envString({ default: EMBEDDING_ERRORS_TOPIC }),
  TOPIC_PARTITIONS: envInt({ default: 3, min: 1, max: 1000 }),
  WEB_HOST: envString({ default: '0.0.0.0' }),
  WEB_PORT: envInt({ default: 6068, min: 0, max: 65535 }),
  AUTO_OFFSET_RESET: envEnum(['earliest', 'latest'], { default: 'earliest' }),
  EMBEDDING_MODEL: envString({ default: DEFAULT_EMBEDDING_MODEL }),
  EMBEDDING_BATCH_SIZE: envInt({ default: 100, min: 1, max: 10_000 }),
  EMBEDDING_MAX_LENGTH: envInt({ default: 512, min: 2, max: 512 }),
  EMBEDDING_DEVICE: envEnum(['cpu', 'cuda'], { default: 'cpu' }),
  EMBEDDING_THREADS: envInt({ default: availableParallelism(), min: 1, max: 64 }),
  EMBEDDING_RUN_BATCH_SIZE: envInt({ default: 8, min: 1, max: 10_000 }),
  EMBEDDING_FLUSH_INTERVAL: envDuration({ default: '30s', min: 50, max: 3_600_000 }),
  VECTOR_STORE: envEnum(['pgvector'], { default: 'pgvector' }),
  PGVECTOR_URL: envSecret({ default: 'postgres://postgres@127.0.0.1:5432/postgres' }),
  PGVECTOR_SCHEMA: envString({ default: 'public' }),
  WEAVIATE_URL: envString({ optional: true }),
})
export type EmbeddingServiceConfig = z.output<typeof embeddingServiceEnv>

export interface EmbeddingPipelineOptions {
  readonly topics: ReturnType<typeof embeddingTopics>
  readonly partitions: number
  readonly sink: EmbeddingSink
}

/** The stage as a pipeline of its own; the multi-stage runner can build the same graph. */
export function embeddingServicePipeline(options: EmbeddingPipelineOptions): Pipeline {
  const p = pipeline('millionx-embedding-service')
  for (const kind of KINDS) {
    const { valid } = p
      .stream<Buffer | null, Buffer | null>(options.topics.input[kind], {
        key: bytes(),
        value: bytes(),
        partitions: options.partitions,
      })
      .validate((v) => embeddable(kind, v), { name: `embeddable-${kind}` })
    valid.toSink(options.sink, { map: (r) => r.value.item, name: `vectors-${COLLECTIONS[kind]}` })
    valid
      .map((e): Buffer | null => e.raw, { name: `original-${kind}` })
      .to(options.topics.output[kind], {
        key: bytes(),
        value: bytes(),
        partitions: options.partitions,
        name: `to-${STAGE_TOPICS.sink[kind]}`,
      })
  }
  return p
}

/** Loads the model and opens the store as the service would (for `weir search millionx`). */
export async function openMillionxSearch(env: AppContext['env'], logger?: Logger): Promise<MillionxSearch> {
  const config = loadConfig(embeddingServiceEnv, env)
  const embedder = await loadEmbedder(config)
  const store = openStore(config, embedder.dimensions, logger)
  try {
    await store.open()
  } catch (err) {
    await embedder.close()
    await store.close()
    throw err
  }
  return {
    embedder,
    store,
    search: (q, o) => searchWith(embedder, store, q, o),
    async close() {
      await store.close()
      await embedder.close()
    },
  }
}

function loadEmbedder(config: EmbeddingServiceConfig): Promise<SentenceEmbedder> {
  return SentenceEmbedder.load({
    model: config.EMBEDDING_MODEL,
    maxLength: config.EMBEDDING_MAX_LENGTH,
    threads: config.EMBEDDING_THREADS,
    runBatchSize: config.EMBEDDING_RUN_BATCH_SIZE,
  })
}

function openStore(
  config: EmbeddingServiceConfig,
  dimensions: number,
  logger?: Logger,
  ctx?: AppContext,
): PgVectorStore {
  return new PgVectorStore({
    connectionString: config.PGVECTOR_URL,
    schema: config.PGVECTOR_SCHEMA,
    collections: Object.values(COLLECTIONS),
    dimensions,
    metrics: ctx?.metrics,
    logger,
  })
}

async function create(ctx: AppContext): Promise<AppInstance> {
  const config = loadConfig(embeddingServiceEnv, ctx.env)
  const log = ctx.logger.child({ stage: 'embedding-service' })
  if (config.EMBEDDING_DEVICE === 'cuda')
    log.warn(
      'EMBEDDING_DEVICE=cuda: this build runs the model on the CPU (onnxruntime-node without GPU files)',
    )
  if (config.WEAVIATE_URL !== undefined) {
    log.warn(
      'WEAVIATE_URL is set but vectors go to PostgreSQL with pgvector (VECTOR_STORE=pgvector, PGVECTOR_URL)',
      {
        weaviate: config.WEAVIATE_URL,
      },
    )
  }
  const started = performance.now()
  const embedder = await loadEmbedder(config)
  log.info('embedding model loaded', {
    model: embedder.files.name,
    onnx: embedder.files.onnx,
    dimensions: embedder.dimensions,
    maxLength: embedder.maxLength,
    ms: Math.round(performance.now() - started),
  })
  const store = openStore(config, embedder.dimensions, ctx.logger, ctx)
  const sink = new EmbeddingSink({
    embedder,
    store,
    batchSize: config.EMBEDDING_BATCH_SIZE,
    metrics: ctx.metrics,
    logger: ctx.logger,
  })
  const topics = embeddingTopics(config.TOPIC_PREFIX, config.DLQ_TOPIC)
  const rates = new WeakMap<RunningPipeline, { perSecond(): number }>()
  const leaveChain = joinChain('embedding-service', stageCounts(ctx.metrics))
  const search: MillionxSearch['search'] = (q, o) => searchWith(embedder, store, q, o)
  return {
    pipeline: embeddingServicePipeline({ topics, partitions: config.TOPIC_PARTITIONS, sink }),
    kafka: { brokers: config.KAFKA_BOOTSTRAP_SERVERS, clientId: config.KAFKA_CLIENT_ID },
    http: { host: config.WEB_HOST, port: config.WEB_PORT, portVariable: 'WEB_PORT' },
    run: {
      groupId: config.KAFKA_GROUP_ID,
      clientId: config.KAFKA_CLIENT_ID,
      fromBeginning: config.AUTO_OFFSET_RESET === 'earliest',
      deadLetterTopic: topics.deadLetters,
      topics: { partitions: config.TOPIC_PARTITIONS },
      // A partial batch is embedded and stored at the checkpoint: the seed's 30 s flush.
      checkpointIntervalMs: config.EMBEDDING_FLUSH_INTERVAL,
    },
    routes: [searchRoute(search)],
    components: (): Record<string, ConnectorStatus> => ({ vector_store: sink.status() }),
    metricsJson(running) {
      const m = running.task.metrics
      let rate = rates.get(running)
      if (rate === undefined) {
        rate = rateOf(m.consumed, { clock: ctx.clock })
        rates.set(running, rate)
      }
      const s = sink.stats()
      const status = running.status()
      const successRate = Math.round(sink.writeSuccessRate() * 10_000) / 100
      const model = sink.modelLatency()
      return {
        // The seed's three metrics first.
        batch_size: s.lastBatchSize,
        embedding_latency_ms: model && latencyMs(model.batch),
        weaviate_write_success_rate: successRate,
        vector_store: {
          kind: config.VECTOR_STORE,
          schema: config.PGVECTOR_SCHEMA,
          collections: Object.values(COLLECTIONS),
        },
        vector_store_write_success_rate: successRate,
        embedding_latency_per_record_ms: model && latencyMs(model.record),
        model: { name: embedder.files.name, dimensions: embedder.dimensions, max_length: embedder.maxLength },
        records_embedded: s.embedded,
        records_stored: s.stored,
        embedding_backlog: s.backlog,
        model_failures: s.modelFailures,
        vector_store_write_failures: s.storeWriteFailures,
        messages_consumed: m.consumed.total(),
        messages_produced: m.produced.total(),
        dead_lettered: m.deadLettered.total(),
        messages_per_sec: Math.round(rate.perSecond() * 10) / 10,
        record_latency_ms: latencyMs(m.recordLatency.summary()),
        consumer_lag: Object.fromEntries(running.lag()),
        state: status.state,
        checkpoint_error: status.checkpointError ?? null,
        topics: {
          inputs: Object.values(topics.input),
          outputs: Object.values(topics.output),
          dead_letters: topics.deadLetters,
        },
        uptime_seconds: Math.round(process.uptime() * 10) / 10,
      }
    },
    views: [
      embeddingView(
        () => {
          const s = sink.stats()
          const model = sink.modelLatency()
          return embeddingPanel(
            {
              ...s,
              batchSize: config.EMBEDDING_BATCH_SIZE,
              writeSuccessRate: sink.writeSuccessRate(),
              modelBatch: model?.batch,
              modelRecord: model?.record,
            },
            ctx.clock.now(),
          )
        },
        search,
        // Search results are records: shown only when the operator allows values (personal data).
        opsAccessFromEnv(ctx.env, embeddingServiceStage).showValues,
      ),
    ],
    // The runtime closes the sink (and the store with it); the model is ours.
    close: () => {
      leaveChain()
      return embedder.close()
    },
  }
}

export const embeddingServiceStage: WeirApp = {
  name: 'millionx-embedding-service',
  description:
    'MillionX embedding service (seed 004): enriched.{social,market}.contextualized → all-MiniLM-L6-v2 vectors in pgvector (SocialPost, MarketOrder) + sink.snowflake.*; GET /search',
  env: [
    {
      name: 'KAFKA_BOOTSTRAP_SERVERS',
      default: 'localhost:9092',
      description: 'Kafka bootstrap servers, comma-separated',
    },
    { name: 'KAFKA_GROUP_ID', default: 'millionx-embedding-service', description: 'Consumer group' },
    { name: 'KAFKA_CLIENT_ID', default: 'millionx-embedding-service', description: 'Client id' },
    { name: 'TOPIC_PREFIX', default: '', description: 'Prefix for every topic name' },
    {
      name: 'DLQ_TOPIC',
      default: EMBEDDING_ERRORS_TOPIC,
      description: 'Dead letters: records with no id or nothing to embed',
    },
    { name: 'TOPIC_PARTITIONS', default: '3', description: 'Partitions of the topics created at start' },
    {
      name: 'WEB_PORT',
      default: '6068',
      description: 'Port of /health, /metrics, /search and the dashboard',
    },
    { name: 'WEB_HOST', default: '0.0.0.0', description: 'Bind address of the web server' },
    {
      name: 'AUTO_OFFSET_RESET',
      default: 'earliest',
      description: 'Where a new group starts: earliest or latest',
    },
    {
      name: 'EMBEDDING_MODEL',
      default: DEFAULT_EMBEDDING_MODEL,
      description:
        'A local ONNX sentence model directory (model.onnx + tokenizer.json); the default is the bundled all-MiniLM-L6-v2 (scripts/models.sh)',
    },
    {
      name: 'EMBEDDING_BATCH_SIZE',
      default: '100',
      description: 'Records embedded together; a full batch is embedded and stored at once',
    },
    {
      name: 'EMBEDDING_MAX_LENGTH',
      default: '512',
      description: 'Tokens per text, [CLS]/[SEP] included (at most 512)',
    },
    { name: 'EMBEDDING_DEVICE', default: 'cpu', description: 'cpu (cuda is accepted and runs on the CPU)' },
    {
      name: 'EMBEDDING_THREADS',
      default: 'the number of cores',
      description: 'Model runs at once (one worker thread and one ONNX session each)',
    },
    {
      name: 'EMBEDDING_RUN_BATCH_SIZE',
      default: '8',
      description:
        'Texts per model run within a batch, sorted by length (small runs cost less CPU per text; 1 makes each vector independent of its batch)',
    },
    {
      name: 'EMBEDDING_FLUSH_INTERVAL',
      default: '30s',
      description:
        'A partial batch is embedded, stored and committed at the latest after this long (the checkpoint interval)',
    },
    { name: 'VECTOR_STORE', default: 'pgvector', description: 'Where vectors go: pgvector (PostgreSQL)' },
    {
      name: 'PGVECTOR_URL',
      default: 'postgres://postgres@127.0.0.1:5432/postgres',
      description:
        'PostgreSQL with pgvector (or PGVECTOR_URL_FILE); tables "SocialPost" and "MarketOrder" are created',
    },
    {
      name: 'PGVECTOR_SCHEMA',
      default: 'public',
      description: 'Schema of the vector tables (created if missing)',
    },
    { name: 'LOG_LEVEL', default: 'INFO', description: 'DEBUG, INFO, WARN or ERROR' },
  ],
  create,
  inputTopics: KINDS.map((k) => ({ name: STAGE_TOPICS.contextualized[k], partitions: 3 })),
  // Posts and orders name people (before the privacy shield, and in what it may miss): no dead-letter
  // values on the dashboard unless OPS_SHOW_VALUES=true.
  personalData: true,
}

/**
 * `weir run rideshare`: the Kafka → Redis bridge of seed 000, a drop-in replacement for its Python
 * stream processor (same variables and defaults, same channels, same /health and /metrics fields).
 * `weir produce rideshare --drivers N --rate R` writes a simulated São Paulo fleet to the six topics.
 */
import type { Sink } from '../../connectors/contract.ts'
import { type RedisMessage, type RedisPipelinedSink, redisPublishSink } from '../../connectors/redis/index.ts'
import { rideshareGenerator } from '../../generators/index.ts'
import type { Logger } from '../../log/logger.ts'
import type { AppContext, AppInstance, KafkaSettings, WeirApp } from '../app.ts'
import { loadRideshareConfig, RIDESHARE_ENV_DOCS, type RideshareConfig } from './config.ts'
import { RIDESHARE_TOPICS } from './domain/index.ts'
import { LiveMap, mapTilesFromEnv } from './live-map.ts'
import { BridgeMetrics } from './metrics.ts'
import { ridesharePipeline } from './pipeline.ts'

export function kafkaSettingsOf(config: RideshareConfig): KafkaSettings {
  const { sasl } = config
  return {
    brokers: config.KAFKA_BOOTSTRAP_SERVERS,
    clientId: config.KAFKA_CLIENT_ID,
    tls: config.tls,
    ...(sasl && {
      sasl: { mechanism: sasl.mechanism, username: sasl.username.reveal(), password: sasl.password.reveal() },
    }),
  }
}

/**
 * The bridge's backpressure limits, for anything that runs `ridesharePipeline` itself (the benchmark):
 * - maxBacklog: a window emits up to one message per driver at once (20,000 per 100 ms at 200,000
 *   pings/s); the Redis sink sends them in pipelines of 1,000, up to 8 at a time, so 20,000 waiting
 *   is plenty and keeps memory down.
 * - maxInFlight: a GPS window holds the offsets of everything read while it is open (one window =
 *   100 ms of input, 20,000 records at 200,000/s); the runtime's 10,000 would pause reading every window.
 */
export const RIDESHARE_RUN_LIMITS = { maxBacklog: 20_000, maxInFlight: 100_000 } as const

function create(ctx: AppContext): AppInstance {
  const config = loadRideshareConfig(ctx.env)
  // Connects lazily: the runtime opens it with the pipeline (and `weir produce` never does).
  const redis = redisPublishSink({
    host: config.REDIS_HOST,
    port: config.REDIS_PORT,
    password: config.REDIS_PASSWORD,
    name: 'rideshare-bridge',
    metrics: ctx.metrics,
    logger: ctx.logger,
  })
  const metrics = new BridgeMetrics(ctx.metrics, redis, ctx.clock)
  // The dashboard's live map reads what is published, on its way to Redis.
  const map = new LiveMap({ tiles: mapTilesFromEnv(ctx.env) })
  const pipeline = ridesharePipeline({
    topics: config.PROCESSOR_TOPICS,
    prefix: config.TOPIC_PREFIX,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    windowSizeMs: config.PROCESSOR_WINDOW_SIZE_MS,
    strategy: config.PROCESSOR_AGGREGATION_STRATEGY,
    sampleRate: config.PROCESSOR_SAMPLE_RATE,
    dedupeWithinMs: config.PROCESSOR_DEDUP_WINDOW_MS,
    payload: config.REDIS_PAYLOAD,
    driverPosition: config.PROCESSOR_DRIVER_POSITION,
    sink: map.tap(startsWithoutRedis(redis, ctx.logger)),
    counters: metrics,
  })
  return {
    pipeline,
    kafka: kafkaSettingsOf(config),
    http: { host: config.API_HOST, port: config.API_PORT, portVariable: 'API_PORT' },
    run: {
      groupId: config.KAFKA_GROUP_ID,
      clientId: config.KAFKA_CLIENT_ID,
      fromBeginning: config.KAFKA_AUTO_OFFSET_RESET === 'earliest',
      deadLetterTopic: config.TOPIC_PREFIX + config.DLQ_TOPIC,
      checkpointIntervalMs: config.PROCESSOR_CHECKPOINT_INTERVAL_MS,
      ...RIDESHARE_RUN_LIMITS,
      topics: {
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: config.KAFKA_TOPIC_REPLICATION_FACTOR,
      },
    },
    metricsJson: (running) => metrics.json(running),
    // /health: { status, kafka_connected, redis_connected, uptime_seconds, message }.
    components: () => ({ redis: redis.status() }),
    sinks: [redis],
    close: () => redis.close(),
    views: [map.view()],
  }
}

/**
 * The Redis sink as the pipeline sees it, except that Redis being unreachable at start does not stop
 * the start: the bridge runs degraded (/health says so, messages wait, nothing is committed) and
 * catches up when Redis answers, as it does after an outage later on. A refused AUTH still fails.
 */
export function startsWithoutRedis(
  sink: RedisPipelinedSink<RedisMessage>,
  logger: Logger,
): Sink<RedisMessage> {
  return {
    id: sink.id,
    async open() {
      try {
        await sink.open()
      } catch (err) {
        const cause = err instanceof Error ? err.cause : undefined
        if (cause instanceof Error && cause.name === 'ReplyError') throw err
        logger.warn(
          'redis unreachable at start; running degraded until it answers (nothing is committed meanwhile)',
          {
            error: err,
          },
        )
      }
    },
    add: (item) => sink.add(item),
    flush: () => sink.flush(),
    backlog: () => sink.backlog(),
    close: () => sink.close(),
    status: () => sink.status(),
  }
}

export const rideshareApp: WeirApp = {
  name: 'rideshare',
  description:
    'Rideshare Kafka → Redis bridge (seed 000): six topics → pub/sub channels, GPS windowed per driver, dedupe by offset',
  env: RIDESHARE_ENV_DOCS,
  create,
  /**
   * Options: seed, drivers (1–100,000), riders, pingSeconds, topicPrefix
   * (`weir produce rideshare --drivers 100000 --rate 50000`).
   */
  generator: (options) => {
    const prefix = typeof options.topicPrefix === 'string' ? options.topicPrefix : ''
    const num = (v: unknown) => (typeof v === 'number' ? v : undefined)
    const drivers = num(options.drivers)
    const g = rideshareGenerator({
      seed: options.seed ?? 1,
      drivers,
      // Four riders per driver unless told (the generator's default of 200 starves a large fleet).
      riders: num(options.riders) ?? (drivers === undefined ? undefined : Math.max(200, 4 * drivers)),
      pingSeconds: num(options.pingSeconds),
    })
    return {
      next() {
        const r = g.next()
        return { topic: prefix + r.topic, key: r.key, value: r.value, timestamp: r.timestamp }
      },
    }
  },
  inputTopics: RIDESHARE_TOPICS.map((name) => ({ name, partitions: 1 })),
  // driver_profiles and rider_profiles carry names, emails and phone numbers.
  personalData: true,
}

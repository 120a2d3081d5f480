import { z } from 'zod'
import { envEnum, envInt, envList, envString, loadConfig } from '../../config/index.ts'
import { millionxGenerator } from '../../generators/index.ts'
import { latencyMs, rateOf } from '../../ops/index.ts'
import type { RunningPipeline } from '../../runtime/runner.ts'
import type { AppContext, AppInstance, WeirApp } from '../app.ts'
import { SCHEMA_VALIDATION_ERRORS_TOPIC, SOURCE_TOPICS } from './domain/index.ts'
import { ValidatorMetrics } from './metrics.ts'
import { millionxPipeline, millionxTopics } from './pipeline.ts'

/** Seed 004's variables (KAFKA_BOOTSTRAP_SERVERS, the Schema Validator's web port 6069), with its defaults. */
export const millionxEnv = z.object({
  KAFKA_BOOTSTRAP_SERVERS: envList({ default: ['localhost:9092'] }),
  KAFKA_GROUP_ID: envString({ default: 'millionx-schema-validator' }),
  KAFKA_CLIENT_ID: envString({ default: 'millionx-schema-validator' }),
  /** Put in front of every topic name (sources, validated, dead letters): one cluster, several tenants. */
  TOPIC_PREFIX: envString({ default: '' }),
  DLQ_TOPIC: envString({ default: SCHEMA_VALIDATION_ERRORS_TOPIC }),
  TOPIC_PARTITIONS: envInt({ default: 3, min: 1, max: 1000 }),
  WEB_HOST: envString({ default: '0.0.0.0' }),
  WEB_PORT: envInt({ default: 6069, min: 0, max: 65535 }),
  AUTO_OFFSET_RESET: envEnum(['earliest', 'latest'], { default: 'earliest' }),
})

export type MillionxConfig = z.output<typeof millionxEnv>

function create(ctx: AppContext): AppInstance {
  const config = loadConfig(millionxEnv, ctx.env)
  const topics = millionxTopics(config.TOPIC_PREFIX, config.DLQ_TOPIC)
  const validator = new ValidatorMetrics(ctx.metrics)
  const rates = new WeakMap<RunningPipeline, { perSecond(): number }>()
  return {
    pipeline: millionxPipeline({ topics, partitions: config.TOPIC_PARTITIONS, metrics: validator }),
    kafka: { brokers: config.KAFKA_BOOTSTRAP_SERVERS, clientId: config.KAFKA_CLIENT_ID },
    http: { host: config.WEB_HOST, port: config.WEB_PORT, portVariable: 'WEB_PORT' },
    run: {
      groupId: config.KAFKA_GROUP_ID,
      clientId: config.KAFKA_CLIENT_ID,
      fromBeginning: config.AUTO_OFFSET_RESET === 'earliest',
      deadLetterTopic: topics.deadLetters,
      topics: { partitions: config.TOPIC_PARTITIONS },
    },
    // The seed's validator metrics first, then Weir's runtime numbers.
    metricsJson(running) {
      const m = running.task.metrics
      let rate = rates.get(running)
      if (rate === undefined) {
        rate = rateOf(m.consumed, { clock: ctx.clock })
        rates.set(running, rate)
      }
      const status = running.status()
      const consumed = m.consumed.total()
      return {
        ...validator.json({ consumed, deadLettered: m.deadLettered.total() }),
        messages_consumed: consumed,
        messages_produced: m.produced.total(),
        messages_per_sec: Math.round(rate.perSecond() * 10) / 10,
        record_latency_ms: latencyMs(m.recordLatency.summary()),
        consumer_lag: Object.fromEntries(running.lag()),
        state: status.state,
        checkpoint_error: status.checkpointError ?? null,
        topics: {
          sources: Object.values(topics.sources),
          validated: Object.values(topics.validated),
          dead_letters: topics.deadLetters,
        },
        uptime_seconds: Math.round(process.uptime() * 10) / 10,
      }
    },
  }
}

export const millionxApp: WeirApp = {
  name: 'millionx',
  description:
    'MillionX schema validator (seed 004): source.{social,market}.* → validated.*, failures → schema-validation-errors',
  env: [
    {
      name: 'KAFKA_BOOTSTRAP_SERVERS',
      default: 'localhost:9092',
      description: 'Kafka bootstrap servers, comma-separated',
    },
    { name: 'KAFKA_GROUP_ID', default: 'millionx-schema-validator', description: 'Consumer group' },
    { name: 'KAFKA_CLIENT_ID', default: 'millionx-schema-validator', description: 'Client id' },
    {
      name: 'TOPIC_PREFIX',
      default: '',
      description: 'Prefix for every topic name (sources, validated, dead letters)',
    },
    {
      name: 'DLQ_TOPIC',
      default: SCHEMA_VALIDATION_ERRORS_TOPIC,
      description: 'Dead letters: original bytes, reasons and every violation in headers',
    },
    { name: 'TOPIC_PARTITIONS', default: '3', description: 'Partitions of the topics created at start' },
    {
      name: 'WEB_PORT',
      default: '6069',
      description: 'Port of /health, /metrics and the dashboard (the seed’s Schema Validator port)',
    },
    { name: 'WEB_HOST', default: '0.0.0.0', description: 'Bind address of the web server' },
    {
      name: 'AUTO_OFFSET_RESET',
      default: 'earliest',
      description: 'Where a new group starts: earliest or latest',
    },
    { name: 'LOG_LEVEL', default: 'INFO', description: 'DEBUG, INFO, WARN or ERROR' },
  ],
  create,
  /** Options: seed, invalidShare, topicPrefix (`weir produce millionx --topic-prefix dev.`). */
  generator: (options) => {
    const prefix = typeof options.topicPrefix === 'string' ? options.topicPrefix : ''
    const g = millionxGenerator({ seed: options.seed ?? 1, invalidShare: options.invalidShare ?? 0.05 })
    return {
      next() {
        const r = g.next()
        return { topic: prefix + r.topic, key: r.key, value: r.value, timestamp: r.timestamp }
      },
    }
  },
  inputTopics: SOURCE_TOPICS.map((name) => ({ name, partitions: 3 })),
}

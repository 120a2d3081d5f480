/**
 * Stage: the schema validator (seed 004, port 6069). `source.{social,market}.*` → SocialPost / MarketOrder
 * models → `validated.<source>`; failures → `schema-validation-errors` with the seed's JSON error body
 * (dead-letter-body.ts) and Weir's headers.
 */
import { z } from 'zod'
import { envInt, envString, loadConfig } from '../../../config/index.ts'
import { millionxGenerator } from '../../../generators/index.ts'
import { latencyMs, rateOf } from '../../../ops/index.ts'
import type { RunningPipeline } from '../../../runtime/runner.ts'
import type { AppContext, AppInstance, WeirApp } from '../../app.ts'
import { SCHEMA_VALIDATION_ERRORS_TOPIC, SOURCE_TOPICS } from '../domain/index.ts'
import { ValidatorMetrics } from '../metrics.ts'
import { millionxPipeline, millionxTopics } from '../pipeline.ts'
import { joinChain, stageCounts } from './chain.ts'
import { sharedEnvDocs, sharedEnvFields, stageKafka, stageRun, uptimeSeconds } from './common.ts'
import { schemaErrorDeadLetter } from './dead-letter-body.ts'
import { stageView, validatorPanel } from './views.ts'

export const schemaValidatorEnv = z.object({
  ...sharedEnvFields,
  KAFKA_GROUP_ID: envString({ default: 'millionx-schema-validator' }),
  KAFKA_CLIENT_ID: envString({ default: 'millionx-schema-validator' }),
  DLQ_TOPIC: envString({ default: SCHEMA_VALIDATION_ERRORS_TOPIC }),
  WEB_PORT: envInt({ default: 6069, min: 0, max: 65535 }),
})

export type SchemaValidatorConfig = z.output<typeof schemaValidatorEnv>

function create(ctx: AppContext): AppInstance {
  const config = loadConfig(schemaValidatorEnv, ctx.env)
  const topics = millionxTopics(config.TOPIC_PREFIX, config.DLQ_TOPIC)
  const validator = new ValidatorMetrics(ctx.metrics)
  const rates = new WeakMap<RunningPipeline, { perSecond(): number }>()
  // The pipeline's counters start at 0 now: the first /metrics read gives the rate since then, not 0.
  const createdAt = ctx.clock.now()
  const counts = stageCounts(ctx.metrics)
  const leaveChain = joinChain('schema-validator', counts)
  return {
    pipeline: millionxPipeline({ topics, partitions: config.TOPIC_PARTITIONS, metrics: validator }),
    kafka: stageKafka(config, config.KAFKA_CLIENT_ID),
    http: { host: config.WEB_HOST, port: config.WEB_PORT, portVariable: 'WEB_PORT' },
    run: {
      ...stageRun(config, {
        groupId: config.KAFKA_GROUP_ID,
        clientId: config.KAFKA_CLIENT_ID,
        deadLetterTopic: topics.deadLetters,
      }),
      deadLetterValue: schemaErrorDeadLetter,
    },
    // The seed's validator metrics first, then Weir's runtime numbers.
    metricsJson(running) {
      const m = running.task.metrics
      let rate = rates.get(running)
      if (rate === undefined) {
        rate = rateOf(m.consumed, { clock: ctx.clock, since: createdAt })
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
        uptime_seconds: uptimeSeconds(),
      }
    },
    views: [
      stageView('schema-validator', () => {
        const c = counts()
        return validatorPanel(
          validator.json({ consumed: c.consumed, deadLettered: c.deadLettered }),
          ctx.clock.now(),
        )
      }),
    ],
    close: async () => leaveChain(),
  }
}

export const schemaValidatorStage: WeirApp = {
  name: 'schema-validator',
  description:
    'MillionX schema validator (seed 004): source.{social,market}.* → validated.*, failures → schema-validation-errors',
  env: [
    ...sharedEnvDocs,
    {
      name: 'KAFKA_GROUP_ID',
      default: 'millionx-schema-validator',
      description: 'Consumer group',
      seedName: 'Faust app id',
    },
    { name: 'KAFKA_CLIENT_ID', default: 'millionx-schema-validator', description: 'Client id' },
    {
      name: 'DLQ_TOPIC',
      default: SCHEMA_VALIDATION_ERRORS_TOPIC,
      description:
        'Dead letters: a JSON error body (type, message, timestamp, retry count, original) and headers',
    },
    {
      name: 'WEB_PORT',
      default: '6069',
      description: 'Port of /health, /metrics and the dashboard (the seed’s Schema Validator port)',
      seedName: 'Faust web_port',
    },
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
  // Posts and orders name people (before the privacy shield, and in what it may miss): no dead-letter
  // values on the dashboard unless OPS_SHOW_VALUES=true.
  personalData: true,
}

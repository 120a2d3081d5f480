/**
 * Stage: the privacy shield (seed 004, port 6066). Reads the validator's `validated.*` topics (or the
 * scrapers' `source.*`, PRIVACY_SHIELD_INPUT=source, as the seed's standalone processor did) and writes
 * each record with every PII value replaced by `<TYPE>_<salted SHA-256, PII_HASH_LENGTH hex>` to
 * `enriched.social.anonymized` / `enriched.market.anonymized`, with `_anonymized`, `_anonymization_version`
 * and `_pii_counts`. A value that is not a JSON object is a dead letter with its reason.
 *
 * PRIVACY_SALT is required in production: its seed default is refused there (NODE_ENV/WEIR_ENV=production).
 */
import { z } from 'zod'
import { envEnum, envInt, envList, envSecret, envString, loadConfig } from '../../../config/index.ts'
import { ErrorCode, WeirError } from '../../../core/errors.ts'
import type { MetricsRegistry } from '../../../core/metrics.ts'
import { bytes, json } from '../../../core/serde.ts'
import { pipeline } from '../../../dsl/stream.ts'
import { latencyMs } from '../../../ops/index.ts'
import {
  createAnonymizer,
  DEFAULT_SKIP_FIELDS,
  emptyCounts,
  PII_TYPES,
  type PiiCounts,
} from '../../../privacy/index.ts'
import type { AppContext, AppInstance, WeirApp } from '../../app.ts'
import { kindOf, SOURCE_TOPICS, type SourceKind, STAGE_TOPICS, VALIDATED_TOPICS } from '../domain/index.ts'
import { joinChain, stageCounts } from './chain.ts'
import { sharedEnvDocs, sharedEnvFields, stageKafka, stageRun, uptimeSeconds } from './common.ts'
import { shieldPanel, stageView } from './views.ts'

export const ANONYMIZATION_VERSION = '1.0'
/** The seed's placeholders: refused in production. */
const INSECURE_SALTS = [
  'CHANGE_THIS_IN_PRODUCTION',
  'USE_SECRETS_MANAGER_IN_PROD',
  'your_secret_salt_keep_this_secret',
]

export const privacyShieldEnv = z.object({
  ...sharedEnvFields,
  PRIVACY_SALT: envSecret({ default: 'CHANGE_THIS_IN_PRODUCTION', insecureDefaults: INSECURE_SALTS }),
  PII_HASH_LENGTH: envInt({ default: 16, min: 8, max: 64 }),
  PII_SKIP_FIELDS: envList({ default: [...DEFAULT_SKIP_FIELDS] }),
  PRIVACY_SHIELD_INPUT: envEnum(['validated', 'source'], { default: 'validated' }),
  KAFKA_GROUP_ID: envString({ default: 'millionx-privacy-shield' }),
  KAFKA_CLIENT_ID: envString({ default: 'millionx-privacy-shield' }),
  DLQ_TOPIC: envString({ default: 'privacy-shield-errors' }),
  WEB_PORT: envInt({ default: 6066, min: 0, max: 65535 }),
})

/** Per record: what the shield adds. */
export interface AnonymizedFields {
  readonly _anonymized: true
  readonly _anonymization_version: string
  readonly _pii_counts: PiiCounts
  readonly _anonymized_at: string
}

class ShieldMetrics {
  readonly latency
  readonly #pii
  readonly counts: PiiCounts = emptyCounts()
  processed = 0
  withPii = 0

  constructor(registry: MetricsRegistry) {
    this.latency = registry.histogram('privacy_shield_latency_seconds', 'Time to anonymise one record')
    this.#pii = registry.counter('pii_detected_total', 'PII values replaced, by type')
  }

  record(counts: PiiCounts, seconds: number): void {
    this.processed++
    this.latency.observe(seconds)
    let any = false
    for (const t of PII_TYPES) {
      if (counts[t] === 0) continue
      any = true
      this.counts[t] += counts[t]
      this.#pii.inc({ type: t }, counts[t])
    }
    if (any) this.withPii++
  }
}

function create(ctx: AppContext): AppInstance {
  const config = loadConfig(privacyShieldEnv, ctx.env)
  const prefix = config.TOPIC_PREFIX
  const anonymizer = createAnonymizer({
    salt: config.PRIVACY_SALT.reveal(),
    hashLength: config.PII_HASH_LENGTH,
    skipFields: new Set(config.PII_SKIP_FIELDS),
  })
  const metrics = new ShieldMetrics(ctx.metrics)
  const leaveChain = joinChain('privacy-shield', stageCounts(ctx.metrics))
  const p = pipeline('millionx-privacy-shield')
  const out: Record<SourceKind, string> = {
    social: prefix + STAGE_TOPICS.anonymized.social,
    market: prefix + STAGE_TOPICS.anonymized.market,
  }
  const inputs = SOURCE_TOPICS.map((s) => ({
    topic: prefix + (config.PRIVACY_SHIELD_INPUT === 'validated' ? VALIDATED_TOPICS[s] : s),
    kind: kindOf(s),
  }))
  for (const { topic, kind } of inputs) {
    p.stream<unknown, Buffer | null>(topic, {
      key: bytes(),
      value: json<unknown>(),
      partitions: config.TOPIC_PARTITIONS,
    })
      .map(
        (value) => {
          if (value === null || typeof value !== 'object' || Array.isArray(value))
            throw new WeirError(
              ErrorCode.VALIDATION_FAILED,
              `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
            )
          const started = performance.now()
          const r = anonymizer.anonymize(value as Record<string, unknown>)
          metrics.record(r.counts, (performance.now() - started) / 1000)
          // The anonymizer built a new object: add the fields to it rather than copy it once more.
          const fields: AnonymizedFields = {
            _anonymized: true,
            _anonymization_version: ANONYMIZATION_VERSION,
            _pii_counts: r.counts,
            _anonymized_at: new Date(ctx.clock.now()).toISOString(),
          }
          return Object.assign(r.value, fields)
        },
        { name: `anonymize-${topic.slice(topic.lastIndexOf('.') + 1)}`, onError: () => 'dlq' },
      )
      .to(out[kind], {
        key: bytes(),
        partitions: config.TOPIC_PARTITIONS,
        name: `to-${kind}-anonymized-from-${topic}`,
      })
  }
  return {
    pipeline: p,
    kafka: stageKafka(config, config.KAFKA_CLIENT_ID),
    http: { host: config.WEB_HOST, port: config.WEB_PORT, portVariable: 'WEB_PORT' },
    run: stageRun(config, {
      groupId: config.KAFKA_GROUP_ID,
      clientId: config.KAFKA_CLIENT_ID,
      deadLetterTopic: prefix + config.DLQ_TOPIC,
    }),
    metricsJson(running) {
      const m = running.task.metrics
      return {
        messages_processed: metrics.processed,
        messages_with_pii: metrics.withPii,
        pii_detected: { ...metrics.counts },
        processing_latency_ms: latencyMs(metrics.latency.summary()),
        dlq_sent: m.deadLettered.total(),
        messages_consumed: m.consumed.total(),
        messages_produced: m.produced.total(),
        consumer_lag: Object.fromEntries(running.lag()),
        state: running.status().state,
        input: config.PRIVACY_SHIELD_INPUT,
        topics: {
          inputs: inputs.map((i) => i.topic),
          outputs: Object.values(out),
          dead_letters: prefix + config.DLQ_TOPIC,
        },
        uptime_seconds: uptimeSeconds(),
      }
    },
    views: [
      stageView('privacy-shield', () =>
        shieldPanel(
          {
            processed: metrics.processed,
            withPii: metrics.withPii,
            counts: metrics.counts,
            latency: metrics.latency.summary(),
          },
          ctx.clock.now(),
        ),
      ),
    ],
    close: async () => leaveChain(),
  }
}

export const privacyShieldStage: WeirApp = {
  name: 'privacy-shield',
  description:
    'MillionX privacy shield (seed 004): validated.* (or source.*) → PII hashed → enriched.{social,market}.anonymized',
  env: [
    ...sharedEnvDocs,
    {
      name: 'PRIVACY_SALT',
      default: 'CHANGE_THIS_IN_PRODUCTION',
      description:
        'Secret salt of the PII hashes (or PRIVACY_SALT_FILE); the default is refused in production',
    },
    { name: 'PII_HASH_LENGTH', default: '16', description: 'Hex characters kept of each SHA-256 (8–64)' },
    {
      name: 'PII_SKIP_FIELDS',
      default: [...DEFAULT_SKIP_FIELDS].join(','),
      description: 'Fields never scanned (ids, enums, timestamps), comma-separated',
    },
    {
      name: 'PRIVACY_SHIELD_INPUT',
      default: 'validated',
      description:
        'validated (the validator’s validated.* topics) or source (the scrapers’ source.*, as the seed)',
    },
    { name: 'KAFKA_GROUP_ID', default: 'millionx-privacy-shield', description: 'Consumer group' },
    { name: 'KAFKA_CLIENT_ID', default: 'millionx-privacy-shield', description: 'Client id' },
    { name: 'DLQ_TOPIC', default: 'privacy-shield-errors', description: 'Records that are not JSON objects' },
    { name: 'WEB_PORT', default: '6066', description: 'Port of /health, /metrics and the dashboard' },
  ],
  create,
  // Posts and orders name people (before the privacy shield, and in what it may miss): no dead-letter
  // values on the dashboard unless OPS_SHOW_VALUES=true.
  personalData: true,
}

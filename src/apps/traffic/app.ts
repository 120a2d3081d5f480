import { z } from 'zod'
import {
  envBool,
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
import { pipeline } from '../../dsl/stream.ts'
import { TRAFFIC_DEFECTS, trafficGenerator } from '../../generators/index.ts'
import { rateOf } from '../../ops/index.ts'
import { METRICS_COMPAT_PROFILES } from '../../ops/seed-metrics.ts'
import { hasErrors, parseRuleSet } from '../../rules/index.ts'
import type { RunningPipeline } from '../../runtime/runner.ts'
import { waitForRegistry } from '../../serdes/registry/wait.ts'
import { watchRegistry } from '../../serdes/registry/watch.ts'
import { SUBJECT_NAME_STRATEGIES } from '../../serdes/wire.ts'
import type { AppContext, AppGenerator, AppInstance, GeneratorOptions, WeirApp } from '../app.ts'
import { sensorsView } from './view.ts'
import { archiveEnv, archiveEnvDocs, exactlyOnce, rawArchive, rawArchiveItem } from './archive.ts'
import { flattenMetrLa, type MetrLaRecord } from './domain/index.ts'
import { AVRO_WIRE_FORMATS, type ProcessedTrafficEvent, requireRegistryForAvro, trafficFormats } from './formats.ts'
import {
  DQ_PRESET_NAMES,
  DQ_PRESETS,
  loadTrafficRules,
  pathValue,
  type TrafficQuality,
  trafficQuality,
} from './rules.ts'

export type { ProcessedTrafficEvent } from './formats.ts'

/** Seed 001's variables, with its defaults. */
export const trafficEnv = z
  .object({
    KAFKA_BROKERS: envList({ default: ['localhost:9092'] }),
    GROUP_ID: envString({ default: 'stream-processor-group' }),
    CLIENT_ID: envString({ default: 'stream-processor-client' }),
    INPUT_TOPIC: envString({ default: 'traffic-raw' }),
    OUTPUT_TOPIC: envString({ default: 'traffic-events' }),
    DLQ_TOPIC: envString({ default: 'traffic-raw-dlq' }),
    INPUT_PARTITIONS: envInt({ default: 5, min: 1, max: 1000 }),
    HEALTH_HOST: envString({ default: '0.0.0.0' }),
    HEALTH_PORT: envInt({ default: 3001, min: 0, max: 65535 }),
    AUTO_OFFSET_RESET: envEnum(['earliest', 'latest'], { default: 'earliest' }),
    // Data contracts: Avro in the Confluent wire format, with a schema registry.
    VALUE_FORMAT: envEnum(['json', 'avro'], { default: 'json' }),
    OUTPUT_VALUE_FORMAT: envEnum(['json', 'avro'], { optional: true }),
    SCHEMA_REGISTRY_URL: envUrl({ optional: true, protocols: ['http:', 'https:'] }),
    SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: envSecret({ optional: true }),
    AUTO_REGISTER_SCHEMAS: envBool({ default: true }),
    VALUE_SUBJECT_NAME_STRATEGY: envEnum(SUBJECT_NAME_STRATEGIES, { default: 'TopicNameStrategy' }),
    AVRO_WIRE_FORMAT: envEnum(AVRO_WIRE_FORMATS, { default: 'confluent' }),
    // Seed 002 §2.4: the data-quality rule set (a preset, or a JSON/YAML file that wins over it).
    // Seed 001's checks by default: seed 002's require coordinates, which seed 001's readings do not
    // carry, so that default would dead-letter every record of a seed 001 deployment.
    DQ_RULES: envEnum(DQ_PRESET_NAMES, { default: 'seed-001' }),
    DQ_RULES_FILE: envString({ optional: true }),
    // Seed 002 §2.5: also expose the seed's stream_processor_* metric names.
    METRICS_COMPAT: envEnum(METRICS_COMPAT_PROFILES, { optional: true }),
    ...archiveEnv,
  })
  .superRefine((c, ctx) => {
    requireRegistryForAvro(c, ctx)
    const userInfo = c.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO?.reveal()
    if (userInfo !== undefined && !userInfo.includes(':')) {
      ctx.addIssue({
        code: 'custom',
        path: ['SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO'],
        message: 'expected user:password',
      })
    }
  })

export type TrafficConfig = z.output<typeof trafficEnv>

/**
 * METR-LA traffic (seed 001 + seed 002 §2.4/2.6): `traffic-raw` → data-quality rules on the raw
 * reading (seed 002's by default: required fields, ranges, LA bounds, known sensors, freshness) →
 * repeats of sensor_id + timestamp (durable, bounded dedupe per `duplicate` rule) → flatten → add
 * processed_at, processor_id, validation_status → `traffic-events` (and the Parquet archive when
 * given). Invalid, repeated or unreadable records go to the dead-letter topic with every reason.
 */
export function trafficPipeline(
  config: Pick<TrafficConfig, 'INPUT_TOPIC' | 'OUTPUT_TOPIC' | 'CLIENT_ID' | 'INPUT_PARTITIONS'> & {
    readonly GROUP_ID?: string
  },
  now: () => number,
  serdes: { readonly input?: Serde<MetrLaRecord>; readonly output?: Serde<ProcessedTrafficEvent> } = {},
  extras: {
    readonly quality?: TrafficQuality
    readonly archive?: ParquetSink
    /** Sees each valid event on its way out (the dashboard's sensor table); no stage when unset. */
    readonly onEvent?: (event: ProcessedTrafficEvent) => void
  } = {},
) {
  const quality = extras.quality ?? trafficQuality(parseRuleSet(DQ_PRESETS['seed-002']), { now })
  // Named by the group, as traffic-windows is: the dedupe changelog is per deployment.
  const p = pipeline(config.GROUP_ID ?? 'traffic')
  let valid = p
    .stream<MetrLaRecord>(config.INPUT_TOPIC, { partitions: config.INPUT_PARTITIONS, value: serdes.input })
    .validate(
      (raw) => {
        const violations = quality.check(raw)
        return hasErrors(violations) ? { ok: false, violations } : { ok: true, value: raw }
      },
      { name: 'validate' },
    ).valid
  for (const rule of quality.duplicates) {
    valid = valid.dedupe({
      name: `dq-${rule.id}`,
      key: (raw) => {
        quality.countDuplicateCheck(rule.id)
        return rule.keys.map((k) => String(pathValue(raw, k))).join('|')
      },
      within: rule.withinMs,
      // A rule's bound is over the whole input, as the seed's one set was: each partition keeps its share.
      maxKeys: Math.ceil((rule.maxKeys ?? 100_000) / config.INPUT_PARTITIONS),
      durable: true,
      repeats: { deadLetter: { rule: rule.id, field: rule.keys.join(','), type: 'duplicate' } },
    })
  }
  const events = valid
    .map((raw) => flattenMetrLa(raw), { name: 'flatten' })
    .map(
      (event): ProcessedTrafficEvent => ({
        ...event,
        processed_at: new Date(now()).toISOString(),
        processor_id: config.CLIENT_ID,
        validation_status: 'valid',
      }),
      { name: 'enrich' },
    )
  const seen = extras.onEvent ? events.peek(extras.onEvent, { name: 'dashboard' }) : events
  seen
    .selectKey((event) => event.sensor_id, { name: 'key-by-sensor' })
    .to(config.OUTPUT_TOPIC, { partitions: config.INPUT_PARTITIONS, value: serdes.output })
  if (extras.archive) events.toSink(extras.archive, { map: rawArchiveItem, name: 'archive-raw' })
  return p
}

async function create(ctx: AppContext): Promise<AppInstance> {
  const config = loadConfig(trafficEnv, ctx.env)
  const formats = await trafficFormats(config)
  const sensors = sensorsView()
  const now = () => ctx.clock.now()
  const quality = trafficQuality(loadTrafficRules(config), { now, metrics: ctx.metrics })
  if (config.METRICS_COMPAT !== undefined) ctx.metrics.compat?.(config.METRICS_COMPAT)
  const archive = rawArchive(config, {
    metrics: ctx.metrics,
    logger: ctx.logger,
    rollOnCheckpoint: exactlyOnce(ctx.env),
  })
  const p = trafficPipeline(config, now, formats, {
    quality,
    ...(archive ? { archive } : {}),
    onEvent: (e) => sensors.update(e),
  })
  // With a registry: /health reports it (probed, so an outage shows even when every schema is cached),
  // and a record that needs it while it is away waits instead of becoming a dead letter.
  const registry = formats.registry
  const watch = registry && watchRegistry(registry)
  let lastMessageTime: number | undefined
  // The pipeline's counters start at 0 now: the first /metrics read gives the rate since then, not 0.
  const createdAt = ctx.clock.now()
  let lastSeenCount = 0
  const rates = new WeakMap<RunningPipeline, { perSecond(): number }>()
  // Seen at read time: the moment the count last moved is when the latest message arrived (±1 poll).
  const processed = (running: RunningPipeline) => {
    const consumed = running.task.metrics.consumed.total()
    if (consumed > lastSeenCount) {
      lastSeenCount = consumed
      lastMessageTime = ctx.clock.now()
    }
    return { messagesProcessed: consumed, lastMessageTime: lastMessageTime ? new Date(lastMessageTime).toISOString() : null }
  }
  return {
    pipeline: p,
    views: [sensors.view],
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
    generator: (options) =>
      trafficInput(options, config.INPUT_TOPIC, formats.input, config.VALUE_FORMAT === 'avro'),
    // Seed 001's /health: {"status":"healthy","messagesProcessed":100,...}.
    healthJson: processed,
    // Seed 001's /metrics fields (messagesProcessed, lastMessageTime) next to Weir's.
    metricsJson(running) {
      const m = running.task.metrics
      let rate = rates.get(running)
      if (rate === undefined) {
        rate = rateOf(m.consumed, { clock: ctx.clock, since: createdAt })
        rates.set(running, rate)
      }
      const { messagesProcessed, lastMessageTime } = processed(running)
      const status = running.status()
      return {
        messagesProcessed,
        messagesValid: m.produced.total(),
        messagesInvalid: m.deadLettered.total(),
        lastMessageTime,
        messages_per_sec: Math.round(rate.perSecond() * 10) / 10,
        record_latency_ms: summaryMs(m.recordLatency.summary()),
        consumer_lag: Object.fromEntries(running.lag()),
        checkpoint_error: status.checkpointError ?? null,
        data_quality: { rules: quality.summary() },
        memory_rss_bytes: process.memoryUsage().rss,
        uptime_seconds: Math.round(process.uptime() * 10) / 10,
      }
    },
  }
}

/**
 * Generated readings for `weir produce traffic`, to INPUT_TOPIC, written in VALUE_FORMAT. Avro readings
 * only carry the defects the schema can hold (out-of-range values, bad timestamps): a missing field or
 * a string speed cannot be written as a MetrLaReading at all.
 */
function trafficInput(
  options: GeneratorOptions,
  topic: string,
  serde: Serde<MetrLaRecord>,
  avro: boolean,
): AppGenerator {
  const g = trafficGenerator({
    seed: options.seed ?? 1,
    invalidShare: options.invalidShare ?? 0.05,
    topic,
    ...(avro ? { defects: AVRO_DEFECTS } : {}),
  })
  return {
    next() {
      const r = g.next()
      return { topic: r.topic, key: r.key, value: r.value, timestamp: r.timestamp }
    },
    encode: (r) => serde.serialize(r.value as MetrLaRecord, { topic: r.topic, isKey: false }),
  }
}

/** The generator's defects a MetrLaReading can carry. */
export const AVRO_DEFECTS = TRAFFIC_DEFECTS.filter((d) => d !== 'missing_field' && d !== 'wrong_type')

function summaryMs(s: { count: number; p50: number; p95: number; p99: number }) {
  const ms = (x: number) => Math.round(x * 1e5) / 100
  return { count: s.count, p50: ms(s.p50), p95: ms(s.p95), p99: ms(s.p99) }
}

export const trafficApp: WeirApp = {
  name: 'traffic',
  description:
    'METR-LA traffic flattener/validator (seed 001) with seed 002 data quality and Parquet archive: traffic-raw → traffic-events, invalid → dead letters',
  env: [
    {
      name: 'KAFKA_BROKERS',
      default: 'localhost:9092',
      description: 'Kafka bootstrap servers, comma-separated',
    },
    { name: 'GROUP_ID', default: 'stream-processor-group', description: 'Consumer group' },
    {
      name: 'CLIENT_ID',
      default: 'stream-processor-client',
      description: 'Client id; also the processor_id stamped on outputs',
    },
    {
      name: 'INPUT_TOPIC',
      default: 'traffic-raw',
      description: 'Raw METR-LA readings (nested JSON, or Avro with VALUE_FORMAT=avro)',
    },
    { name: 'OUTPUT_TOPIC', default: 'traffic-events', description: 'Flattened, validated records' },
    {
      name: 'DLQ_TOPIC',
      default: 'traffic-raw-dlq',
      description: 'Dead letters (original bytes + reasons in headers)',
    },
    {
      name: 'INPUT_PARTITIONS',
      default: '5',
      description: 'Partitions for topics created at start',
      seedName: 'traffic-raw (5 partitions, created outside the app)',
    },
    { name: 'HEALTH_PORT', default: '3001', description: 'Port of /health, /metrics and the dashboard' },
    { name: 'HEALTH_HOST', default: '0.0.0.0', description: 'Bind address of the ops server' },
    {
      name: 'AUTO_OFFSET_RESET',
      default: 'earliest',
      description: 'Where a new group starts: earliest or latest',
    },
    {
      name: 'VALUE_FORMAT',
      default: 'json',
      description: 'json, or avro: Confluent wire format, read by the schema id each record carries',
    },
    {
      name: 'OUTPUT_VALUE_FORMAT',
      default: 'same as VALUE_FORMAT',
      description: 'Format of OUTPUT_TOPIC when it differs from the input: json or avro',
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
      description: 'Register the output schema on first use; false: it must be registered already',
    },
    {
      name: 'VALUE_SUBJECT_NAME_STRATEGY',
      default: 'TopicNameStrategy',
      description:
        'Subject of a value schema: TopicNameStrategy (<topic>-value), RecordNameStrategy, TopicRecordNameStrategy',
    },
    {
      name: 'AVRO_WIRE_FORMAT',
      default: 'confluent',
      description:
        'Avro input framing: confluent (magic byte + schema id) or plain (body only, read with the latest schema of <INPUT_TOPIC>-value, as seed 002 does)',
    },
    {
      name: 'DQ_RULES',
      default: 'seed-001',
      description: 'Data-quality preset: seed-001 (seed 001’s checks) or seed-002 (seed 002 §2.4 plus seed 001 fields)',
    },
    {
      name: 'DQ_RULES_FILE',
      description: 'A rule set file (JSON, or YAML by .yaml/.yml) used instead of DQ_RULES; checked at start',
    },
    {
      name: 'METRICS_COMPAT',
      description: 'seed-002: also expose stream_processor_* metrics (seed 002 names and labels)',
    },
    ...archiveEnvDocs,
  ],
  create,
  generator: (options) => {
    const g = trafficGenerator({ seed: options.seed ?? 1, invalidShare: options.invalidShare ?? 0.05 })
    return {
      next() {
        const r = g.next()
        return { topic: 'traffic-raw', key: r.key, value: r.value, timestamp: r.timestamp }
      },
    }
  },
  inputTopics: [{ name: 'traffic-raw', partitions: 5 }],
}

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
import { pipeline } from '../../dsl/stream.ts'
import { TRAFFIC_DEFECTS, trafficGenerator } from '../../generators/index.ts'
import { rateOf } from '../../ops/index.ts'
import type { RunningPipeline } from '../../runtime/runner.ts'
import type { Serde } from '../../core/serde.ts'
import { waitForRegistry } from '../../serdes/registry/wait.ts'
import { watchRegistry } from '../../serdes/registry/watch.ts'
import { SUBJECT_NAME_STRATEGIES } from '../../serdes/wire.ts'
import type { AppContext, AppGenerator, AppInstance, GeneratorOptions, WeirApp } from '../app.ts'
import { flattenMetrLa, validateTraffic, type MetrLaRecord } from './domain/index.ts'
import { type ProcessedTrafficEvent, trafficFormats } from './formats.ts'

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
  })
  .superRefine((c, ctx) => {
    const avro =
      c.VALUE_FORMAT === 'avro'
        ? 'VALUE_FORMAT'
        : c.OUTPUT_VALUE_FORMAT === 'avro'
          ? 'OUTPUT_VALUE_FORMAT'
          : undefined
    if (avro !== undefined && c.SCHEMA_REGISTRY_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['SCHEMA_REGISTRY_URL'],
        message: `required when ${avro}=avro: the schema registry's Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7, not set`,
      })
    }
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
 * METR-LA traffic (seed 001): `traffic-raw` → flatten the nested JSON → validate (required fields;
 * speed 0–120 mph; volume 0–10,000 veh/h; timestamp not in the future nor older than a year) →
 * add processed_at, processor_id, validation_status → `traffic-events`. Invalid or unreadable records
 * go to the dead-letter topic with every reason.
 */
export function trafficPipeline(
  config: Pick<TrafficConfig, 'INPUT_TOPIC' | 'OUTPUT_TOPIC' | 'CLIENT_ID' | 'INPUT_PARTITIONS'>,
  now: () => number,
  serdes: { readonly input?: Serde<MetrLaRecord>; readonly output?: Serde<ProcessedTrafficEvent> } = {},
) {
  const p = pipeline('traffic')
  p.stream<MetrLaRecord>(config.INPUT_TOPIC, { partitions: config.INPUT_PARTITIONS, value: serdes.input })
    .map((raw) => flattenMetrLa(raw), { name: 'flatten' })
    .validate(
      (event) => {
        const reasons = validateTraffic(event, now())
        return reasons.length === 0 ? { ok: true, value: event } : { ok: false, violations: reasons }
      },
      { name: 'validate' },
    )
    .valid.map(
      (event): ProcessedTrafficEvent => ({
        ...event,
        processed_at: new Date(now()).toISOString(),
        processor_id: config.CLIENT_ID,
        validation_status: 'valid',
      }),
      { name: 'enrich' },
    )
    .selectKey((event) => event.sensor_id, { name: 'key-by-sensor' })
    .to(config.OUTPUT_TOPIC, { partitions: config.INPUT_PARTITIONS, value: serdes.output })
  return p
}

async function create(ctx: AppContext): Promise<AppInstance> {
  const config = loadConfig(trafficEnv, ctx.env)
  const formats = await trafficFormats(config)
  const p = trafficPipeline(config, () => ctx.clock.now(), formats)
  // With a registry: /health reports it (probed, so an outage shows even when every schema is cached),
  // and a record that needs it while it is away waits instead of becoming a dead letter.
  const registry = formats.registry
  const watch = registry && watchRegistry(registry)
  let lastMessageTime: number | undefined
  let lastSeenCount = 0
  const rates = new WeakMap<RunningPipeline, { perSecond(): number }>()
  return {
    pipeline: p,
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
    ...(watch ? { components: () => ({ registry: watch.status() }), close: async () => watch.stop() } : {}),
    generator: (options) =>
      trafficInput(options, config.INPUT_TOPIC, formats.input, config.VALUE_FORMAT === 'avro'),
    // Seed 001's /metrics fields (messagesProcessed, lastMessageTime) next to Weir's.
    metricsJson(running) {
      const m = running.task.metrics
      let rate = rates.get(running)
      if (rate === undefined) {
        rate = rateOf(m.consumed, { clock: ctx.clock })
        rates.set(running, rate)
      }
      // Seen at read time: the moment the count last moved is when the latest message arrived (±1 poll).
      const consumed = m.consumed.total()
      if (consumed > lastSeenCount) {
        lastSeenCount = consumed
        lastMessageTime = ctx.clock.now()
      }
      const status = running.status()
      return {
        messagesProcessed: consumed,
        messagesValid: m.produced.total(),
        messagesInvalid: m.deadLettered.total(),
        lastMessageTime: lastMessageTime ? new Date(lastMessageTime).toISOString() : null,
        messages_per_sec: Math.round(rate.perSecond() * 10) / 10,
        record_latency_ms: summaryMs(m.recordLatency.summary()),
        consumer_lag: Object.fromEntries(running.lag()),
        checkpoint_error: status.checkpointError ?? null,
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
    'METR-LA traffic flattener/validator (seed 001): traffic-raw → traffic-events, invalid → dead letters',
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
    { name: 'INPUT_PARTITIONS', default: '5', description: 'Partitions for topics created at start' },
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

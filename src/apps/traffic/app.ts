import { z } from 'zod'
import { envEnum, envInt, envList, envString, loadConfig } from '../../config/index.ts'
import { pipeline } from '../../dsl/stream.ts'
import { trafficGenerator } from '../../generators/index.ts'
import { rateOf } from '../../ops/index.ts'
import type { RunningPipeline } from '../../runtime/runner.ts'
import type { AppContext, AppInstance, WeirApp } from '../app.ts'
import { flattenMetrLa, validateTraffic, type MetrLaRecord, type TrafficEvent } from './domain/index.ts'

/** Seed 001's variables, with its defaults. */
export const trafficEnv = z.object({
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
})

export type TrafficConfig = z.output<typeof trafficEnv>

/** What the pipeline adds to every flattened, validated record. */
export interface ProcessedTrafficEvent extends TrafficEvent {
  readonly processed_at: string
  readonly processor_id: string
  readonly validation_status: 'valid'
}

/**
 * METR-LA traffic (seed 001): `traffic-raw` → flatten the nested JSON → validate (required fields;
 * speed 0–120 mph; volume 0–10,000 veh/h; timestamp not in the future nor older than a year) →
 * add processed_at, processor_id, validation_status → `traffic-events`. Invalid or unreadable records
 * go to the dead-letter topic with every reason.
 */
export function trafficPipeline(config: Pick<TrafficConfig, 'INPUT_TOPIC' | 'OUTPUT_TOPIC' | 'CLIENT_ID' | 'INPUT_PARTITIONS'>, now: () => number) {
  const p = pipeline('traffic')
  p.stream<MetrLaRecord>(config.INPUT_TOPIC, { partitions: config.INPUT_PARTITIONS })
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
    .to(config.OUTPUT_TOPIC, { partitions: config.INPUT_PARTITIONS })
  return p
}

function create(ctx: AppContext): AppInstance {
  const config = loadConfig(trafficEnv, ctx.env)
  const p = trafficPipeline(config, () => ctx.clock.now())
  let lastMessageTime: number | undefined
  let lastSeenCount = 0
  const rates = new WeakMap<RunningPipeline, { perSecond(): number }>()
  return {
    pipeline: p,
    kafka: { brokers: config.KAFKA_BROKERS, clientId: config.CLIENT_ID },
    http: { host: config.HEALTH_HOST, port: config.HEALTH_PORT },
    run: {
      groupId: config.GROUP_ID,
      clientId: config.CLIENT_ID,
      fromBeginning: config.AUTO_OFFSET_RESET === 'earliest',
      deadLetterTopic: config.DLQ_TOPIC,
      topics: { partitions: config.INPUT_PARTITIONS },
    },
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

function summaryMs(s: { count: number; p50: number; p95: number; p99: number }) {
  const ms = (x: number) => Math.round(x * 1e5) / 100
  return { count: s.count, p50: ms(s.p50), p95: ms(s.p95), p99: ms(s.p99) }
}

export const trafficApp: WeirApp = {
  name: 'traffic',
  description: 'METR-LA traffic flattener/validator (seed 001): traffic-raw → traffic-events, invalid → dead letters',
  env: [
    { name: 'KAFKA_BROKERS', default: 'localhost:9092', description: 'Kafka bootstrap servers, comma-separated' },
    { name: 'GROUP_ID', default: 'stream-processor-group', description: 'Consumer group' },
    { name: 'CLIENT_ID', default: 'stream-processor-client', description: 'Client id; also the processor_id stamped on outputs' },
    { name: 'INPUT_TOPIC', default: 'traffic-raw', description: 'Raw METR-LA records (nested JSON)' },
    { name: 'OUTPUT_TOPIC', default: 'traffic-events', description: 'Flattened, validated records' },
    { name: 'DLQ_TOPIC', default: 'traffic-raw-dlq', description: 'Dead letters (original bytes + reasons in headers)' },
    { name: 'INPUT_PARTITIONS', default: '5', description: 'Partitions for topics created at start' },
    { name: 'HEALTH_PORT', default: '3001', description: 'Port of /health, /metrics and the dashboard' },
    { name: 'HEALTH_HOST', default: '0.0.0.0', description: 'Bind address of the ops server' },
    { name: 'AUTO_OFFSET_RESET', default: 'earliest', description: 'Where a new group starts: earliest or latest' },
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

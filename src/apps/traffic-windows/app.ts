import { z } from 'zod'
import { envDuration, envEnum, envInt, envList, envString, loadConfig } from '../../config/index.ts'
import { reducer } from '../../dsl/aggregations.ts'
import { pipeline } from '../../dsl/stream.ts'
import { tumbling } from '../../time/windows.ts'
import type { AppContext, AppInstance, WeirApp } from '../app.ts'
import { trafficGenerator } from '../../generators/index.ts'
import {
  flattenMetrLa,
  type MetrLaRecord,
  addTrafficEvent,
  emptyTrafficWindow,
  mergeTrafficWindows,
  TRAFFIC_WINDOW_MS,
  type TrafficEvent,
  type TrafficWindowAggregate,
  trafficWindowResult,
  type TrafficWindowState,
} from '../traffic/domain/index.ts'

/** Seed 001's connection variables plus the window settings of seed 002 (subtask 2.2). */
export const trafficWindowsEnv = z.object({
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

/**
 * Seed 002, subtask 2.2: 5-minute tumbling windows per sensor on event time over the validated events
 * (keyed by sensor_id, so grouping stays within partitions) → `traffic-aggregates` with avg_speed,
 * avg_volume, avg_occupancy, speed_variance, message_count, window_start, window_end. Window state is
 * durable (changelog `traffic-windows-traffic-5m-changelog`); windows close on the wall clock too;
 * records later than the grace period go to the dead-letter topic as LATE_RECORD.
 */
export function trafficWindowsPipeline(
  config: Pick<TrafficWindowsConfig, 'GROUP_ID' | 'INPUT_TOPIC' | 'OUTPUT_TOPIC' | 'INPUT_PARTITIONS' | 'WINDOW_SIZE' | 'WINDOW_GRACE'>,
) {
  // The pipeline name is the application id, as in Kafka Streams: the group and the prefix of its
  // changelog topic. Two deployments with different groups must never share window state.
  const p = pipeline(config.GROUP_ID)
  p.stream<TrafficEvent>(config.INPUT_TOPIC, { partitions: config.INPUT_PARTITIONS })
    .groupBy((e) => e.sensor_id, { name: 'by-sensor' })
    .window(tumbling({ size: config.WINDOW_SIZE, grace: config.WINDOW_GRACE }), { timestamp: eventTime })
    .aggregate(trafficAggregate, { name: 'traffic-5m', emit: 'final', late: 'dlq' })
    .map(
      (w): TrafficWindowAggregate =>
        trafficWindowResult(w.value, { sensor_id: w.key, window_start: w.start, window_end: w.end }),
      { name: 'to-aggregate' },
    )
    .to(config.OUTPUT_TOPIC, { partitions: config.INPUT_PARTITIONS })
  return p
}

function create(ctx: AppContext): AppInstance {
  const config = loadConfig(trafficWindowsEnv, ctx.env)
  return {
    pipeline: trafficWindowsPipeline(config),
    kafka: { brokers: config.KAFKA_BROKERS, clientId: config.CLIENT_ID },
    http: { host: config.HEALTH_HOST, port: config.HEALTH_PORT, portVariable: 'HEALTH_PORT' },
    run: {
      groupId: config.GROUP_ID,
      clientId: config.CLIENT_ID,
      fromBeginning: config.AUTO_OFFSET_RESET === 'earliest',
      deadLetterTopic: config.DLQ_TOPIC,
      topics: { partitions: config.INPUT_PARTITIONS },
    },
  }
}

export const trafficWindowsApp: WeirApp = {
  name: 'traffic-windows',
  description: 'METR-LA 5-minute windows per sensor (seed 002 §2.2): traffic-events → traffic-aggregates, durable state',
  env: [
    { name: 'KAFKA_BROKERS', default: 'localhost:9092', description: 'Kafka bootstrap servers, comma-separated' },
    { name: 'GROUP_ID', default: 'traffic-windows-group', description: 'Consumer group' },
    { name: 'CLIENT_ID', default: 'traffic-windows-client', description: 'Client id' },
    { name: 'INPUT_TOPIC', default: 'traffic-events', description: 'Validated, flattened events (the traffic app output)' },
    { name: 'OUTPUT_TOPIC', default: 'traffic-aggregates', description: 'One record per sensor per window' },
    { name: 'DLQ_TOPIC', default: 'traffic-aggregates-dlq', description: 'Late and unreadable records' },
    { name: 'INPUT_PARTITIONS', default: '5', description: 'Partitions for topics created at start' },
    { name: 'WINDOW_SIZE', default: '5m', description: 'Tumbling window size (ms or 30s/5m/1h)' },
    { name: 'WINDOW_GRACE', default: '1m', description: 'How late a record may be and still count' },
    { name: 'HEALTH_PORT', default: '3002', description: 'Port of /health, /metrics and the dashboard' },
    { name: 'HEALTH_HOST', default: '0.0.0.0', description: 'Bind address of the ops server' },
    { name: 'AUTO_OFFSET_RESET', default: 'earliest', description: 'Where a new group starts: earliest or latest' },
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
          value: { ...e, processed_at: new Date().toISOString(), processor_id: 'generator', validation_status: 'valid' },
          timestamp: r.timestamp,
        }
      },
    }
  },
  inputTopics: [{ name: 'traffic-events', partitions: 5 }],
}

/**
 * The apps the fault suite drives, each as `weir run <app>` with its seed variables, its input made
 * by a generator with a `test-id` per record, and an independent count of what it produced.
 */

import { trafficApp } from '../../src/apps/traffic/app.ts'
import {
  addTrafficEvent,
  emptyTrafficWindow,
  type TrafficEvent,
  type TrafficWindowAggregate,
  trafficWindowResult,
} from '../../src/apps/traffic/domain/index.ts'
import { trafficWindowsApp } from '../../src/apps/traffic-windows/app.ts'
import { encodeValue } from '../../src/cli/feed.ts'
import type { KafkaTransport } from '../../src/connectors/kafka/index.ts'
import { uniqueName } from '../integration/helpers/kafka.ts'
import { countIds, type FeedRecord, type Guarantee, lostAndDuplicated, readTopic } from './harness.ts'

export interface Counted {
  readonly out: number
  readonly deadLettered: number
  readonly lost: number
  readonly duplicated: number
  readonly note?: string
}

/** One app under test, on topics and a group of its own. */
export interface AppUnderTest {
  readonly app: 'traffic' | 'traffic-windows' | 'rideshare'
  readonly groupId: string
  readonly inputTopic: string
  readonly inputPartitions: number
  /** Every topic the run creates, deleted at the end. */
  readonly topics: readonly string[]
  /** The env of instance `n` (each instance gets its own CLIENT_ID, hence its own transactional id). */
  env(n: number): Record<string, string>
  record(i: number): FeedRecord
  /** Kafka outputs: duplicates there break the exactly-once rule. */
  readonly kafkaOutputs: boolean
  /** Counts outputs against the inputs read back from the input topic. */
  count(kafka: KafkaTransport, inputs: ReadonlyMap<string, number>): Promise<Counted>
  /** Extra wait before counting: true once the outputs are complete (windows closed). */
  settled?(kafka: KafkaTransport): Promise<boolean>
}

export interface AppOptions {
  readonly brokers: readonly string[]
  readonly guarantee: Guarantee
  /** Every `malformedEvery`-th record is bytes that are not JSON (traffic only). */
  readonly malformedEvery?: number
  readonly extraEnv?: Readonly<Record<string, string>>
}

const common = (o: AppOptions) => ({ PROCESSING_GUARANTEE: o.guarantee, LOG_LEVEL: 'info', ...o.extraEnv })

export function trafficUnderTest(o: AppOptions): AppUnderTest {
  const base = uniqueName('faults-traffic')
  const t = { in: `${base}-raw`, out: `${base}-events`, dlq: `${base}-dlq` }
  const gen = trafficApp.generator!({ seed: 11, invalidShare: 0 })
  return {
    app: 'traffic',
    groupId: `${base}-group`,
    inputTopic: t.in,
    inputPartitions: 5,
    topics: [t.in, t.out, t.dlq],
    kafkaOutputs: true,
    env: (n) => ({
      KAFKA_BROKERS: o.brokers.join(','),
      GROUP_ID: `${base}-group`,
      CLIENT_ID: `${base}-client-${n}`,
      INPUT_TOPIC: t.in,
      OUTPUT_TOPIC: t.out,
      DLQ_TOPIC: t.dlq,
      INPUT_PARTITIONS: '5',
      HEALTH_PORT: '0',
      HEALTH_HOST: '127.0.0.1',
      ...common(o),
    }),
    record(i) {
      const id = String(i)
      if (o.malformedEvery !== undefined && i % o.malformedEvery === o.malformedEvery - 1) {
        return { id, key: Buffer.from(`bad-${i}`), value: Buffer.from(`{"sensor_id": ${i}, not json`) }
      }
      const r = gen.next()
      return {
        id,
        key: r.key === null ? null : Buffer.from(r.key),
        value: encodeValue(r.value) ?? Buffer.alloc(0),
        ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
      }
    },
    async count(kafka, inputs) {
      const out = await readTopic(kafka, t.out)
      const dlq = await readTopic(kafka, t.dlq)
      return {
        out: out.length,
        deadLettered: dlq.length,
        ...lostAndDuplicated(inputs, countIds([...out, ...dlq])),
      }
    },
  }
}

const WINDOW_MS = 10_000

export function trafficWindowsUnderTest(o: AppOptions): AppUnderTest {
  const base = uniqueName('faults-windows')
  const t = { in: `${base}-events`, out: `${base}-aggregates`, dlq: `${base}-dlq` }
  const groupId = `${base}-group`
  // Event time advances 10 ms per record from a day ago: 1,000 records per 10-second window.
  const gen = trafficWindowsApp.generator!({ seed: 12, eventStepMs: 10 })
  const values = new Map<string, TrafficEvent>()
  /**
   * A clean run's windows over the input topic as written: an input the feeder's producer wrote twice
   * (a retry across a broker restart) is in the topic twice, and a clean run counts it twice too.
   */
  const expected = (inputs?: ReadonlyMap<string, number>) => {
    const states = new Map<
      string,
      { sensor: string; start: number; state: ReturnType<typeof emptyTrafficWindow> }
    >()
    for (const [id, e] of values) {
      const start = Math.floor(Date.parse(e.timestamp) / WINDOW_MS) * WINDOW_MS
      const key = `${e.sensor_id}@${start}`
      const s = states.get(key) ?? { sensor: e.sensor_id, start, state: emptyTrafficWindow() }
      for (let n = inputs?.get(id) ?? 1; n > 0; n--) s.state = addTrafficEvent(s.state, e)
      states.set(key, s)
    }
    return new Map(
      [...states].map(([k, s]) => [
        k,
        trafficWindowResult(s.state, {
          sensor_id: s.sensor,
          window_start: s.start,
          window_end: s.start + WINDOW_MS,
        }),
      ]),
    )
  }
  const windowsOut = async (kafka: KafkaTransport) =>
    (await readTopic(kafka, t.out)).map((r) => JSON.parse(r.value!.toString()) as TrafficWindowAggregate)
  return {
    app: 'traffic-windows',
    groupId,
    inputTopic: t.in,
    inputPartitions: 5,
    topics: [t.in, t.out, t.dlq, `${groupId}-traffic-5m-changelog`],
    kafkaOutputs: true,
    env: (n) => ({
      KAFKA_BROKERS: o.brokers.join(','),
      GROUP_ID: groupId,
      CLIENT_ID: `${base}-client-${n}`,
      INPUT_TOPIC: t.in,
      OUTPUT_TOPIC: t.out,
      DLQ_TOPIC: t.dlq,
      INPUT_PARTITIONS: '5',
      WINDOW_SIZE: String(WINDOW_MS),
      // The generator's event times run up to 2 s out of order per partition.
      WINDOW_GRACE: '5000',
      HEALTH_PORT: '0',
      HEALTH_HOST: '127.0.0.1',
      ...common(o),
    }),
    record(i) {
      const r = gen.next()
      const id = String(i)
      values.set(id, r.value as TrafficEvent)
      return {
        id,
        key: r.key === null ? null : Buffer.from(r.key),
        value: encodeValue(r.value) ?? Buffer.alloc(0),
        ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
      }
    },
    async settled(kafka) {
      // Every window of a clean run is there (a repeat emission does not count twice).
      const keys = new Set((await windowsOut(kafka)).map((w) => `${w.sensor_id}@${w.window_start}`))
      return keys.size >= expected().size
    },
    async count(kafka, inputs) {
      const want = expected(inputs)
      const got = await windowsOut(kafka)
      const dlq = await readTopic(kafka, t.dlq)
      const seen = new Map<string, TrafficWindowAggregate[]>()
      for (const w of got) {
        const key = `${w.sensor_id}@${w.window_start}`
        seen.set(key, [...(seen.get(key) ?? []), w])
      }
      let lost = 0
      let duplicated = 0
      let differs = 0
      for (const [key, w] of want) {
        const emitted = seen.get(key) ?? []
        if (emitted.length === 0) lost++
        duplicated += Math.max(0, emitted.length - 1)
        const last = emitted.at(-1)
        if (last && (last.message_count !== w.message_count || Math.abs(last.avg_speed - w.avg_speed) > 1e-9))
          differs++
      }
      const extra = [...seen.keys()].filter((k) => !want.has(k)).length
      const note =
        differs + extra > 0 ? `${differs} windows differ from a clean run, ${extra} unexpected` : undefined
      return { out: got.length, deadLettered: dlq.length, lost, duplicated, ...(note ? { note } : {}) }
    },
  }
}

/** A rideshare `trips` event with its own id; published on the `trip-updates` channel. */
export function rideshareUnderTest(
  o: AppOptions & {
    readonly redis: { host: string; port: number }
    readonly received: () => ReadonlyMap<string, number>
  },
): AppUnderTest {
  const base = uniqueName('faults-rs')
  const prefix = `${base}.`
  const dlq = `${prefix}stream-processor-dlq`
  return {
    app: 'rideshare',
    groupId: `${base}-group`,
    inputTopic: `${prefix}trips`,
    inputPartitions: 3,
    topics: [`${prefix}trips`, dlq],
    kafkaOutputs: false,
    env: (n) => ({
      KAFKA_BOOTSTRAP_SERVERS: o.brokers.join(','),
      KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      KAFKA_GROUP_ID: `${base}-group`,
      KAFKA_CLIENT_ID: `${base}-client-${n}`,
      KAFKA_AUTO_OFFSET_RESET: 'earliest',
      KAFKA_TOPIC_PARTITIONS: '3',
      TOPIC_PREFIX: prefix,
      REDIS_HOST: o.redis.host,
      REDIS_PORT: String(o.redis.port),
      PROCESSOR_TOPICS: 'trips',
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      ...common(o),
    }),
    record(i) {
      const id = `trip-event-${i}`
      const value = {
        event_id: id,
        trip_id: `trip-${i % 997}`,
        status: 'trip.requested',
        timestamp: new Date().toISOString(),
      }
      return { id, key: Buffer.from(value.trip_id), value: Buffer.from(JSON.stringify(value)) }
    },
    async count(kafka, inputs) {
      const dead = await readTopic(kafka, dlq)
      const got = o.received()
      let out = 0
      for (const n of got.values()) out += n
      const idsIn = new Map<string, number>()
      for (const [i, n] of inputs) idsIn.set(i, n)
      return { out, deadLettered: dead.length, ...lostAndDuplicated(idsIn, got) }
    },
  }
}

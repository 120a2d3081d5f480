/**
 * The rideshare bridge (seed 000): Kafka topics → Redis pub/sub channels.
 *
 *   gps_pings ──dedupe─check─┬─ latest ────────────────┬─ window per driver ─┐
 *                            └─ sample: every Nth ping ┘   (wall clock)      │
 *   trips, driver_status, surge_updates,                                     ├→ PUBLISH <channel> (Redis)
 *   driver_profiles, rider_profiles ──dedupe─check─ pass-through ────────────┘
 *
 * Every record is deduplicated by `topic:partition:offset` over 60 s (a re-delivery after a rebalance is
 * dropped), checked (a JSON object; GPS pings need a driver_id), turned into a `BridgeMessage` and
 * published as JSON on its topic's channel (TOPIC_ROUTES). GPS pings are windowed on the wall clock per
 * driver: one update per driver per window, the most recent ping (`latest`), or the most recent of the
 * pings sampled 1 in N per driver (`sample`, the seed's counter: the Nth, 2Nth, … ping of each driver).
 * Windows are memory-only: they hold their input offsets uncommitted until emitted, and the checkpoint
 * commits only after the Redis sink flushed, so nothing is committed past an unpublished record.
 * Unreadable or unusable records go to the dead-letter topic with the reason.
 */
import type { Sink } from '../../connectors/contract.ts'
import type { RedisMessage } from '../../connectors/redis/index.ts'
import { latest, reducer } from '../../dsl/aggregations.ts'
import type { ValidationResult } from '../../dsl/operators/validate.ts'
import { type Pipeline, pipeline, type Stream } from '../../dsl/stream.ts'
import { tumbling } from '../../time/windows.ts'
import {
  type BridgeMessage,
  type GpsPing,
  type RidesharePayloads,
  type RideshareTopic,
  TOPIC_ROUTES,
  toBridgeMessage,
} from './domain/index.ts'
import type { BridgeCounters } from './metrics.ts'

export interface RidesharePipelineOptions {
  /** The topics to consume (seed names; `prefix` is put in front of each). */
  readonly topics: readonly RideshareTopic[]
  readonly prefix?: string
  /** Partitions of input topics created at start. Default 1 (the seed's). */
  readonly partitions?: number
  /** GPS window, 50–5000 ms (the config checks the range). */
  readonly windowSizeMs: number
  readonly strategy: 'latest' | 'sample'
  /** `sample`: keep every Nth ping of each driver. */
  readonly sampleRate: number
  /** Where messages go: a Redis PUBLISH sink (a recording sink in operator tests). */
  readonly sink: Sink<RedisMessage>
  readonly counters?: BridgeCounters
  /** Dedupe span. Default 60 s. */
  readonly dedupeWithinMs?: number
  /** Offsets remembered per input partition for dedupe. Default 100,000. */
  readonly dedupeMaxKeys?: number
}

/** How long a driver's sample counter lives without pings (memory stays bounded as drivers log off). */
const SAMPLE_COUNTER_TTL_MS = 10 * 60_000

type Key = string | null
type Message = BridgeMessage

const noCounters: BridgeCounters = { gpsReceived() {}, gpsEmitted() {}, routed() {} }

/** The dedupe key: where the record sits in Kafka. */
export const offsetKey = (_v: unknown, r: { topic: string; partition: number; offset: number }): string =>
  `${r.topic}:${r.partition}:${r.offset}`

export function ridesharePipeline(options: RidesharePipelineOptions): Pipeline {
  const { topics, prefix = '', partitions = 1, sink } = options
  const counters = options.counters ?? noCounters
  const p = pipeline('rideshare')
  const messages: Array<Stream<Key, Message>> = []
  for (const topic of topics) {
    const checked = p
      .stream<RidesharePayloads[typeof topic], Key>(prefix + topic, { partitions, name: `source-${topic}` })
      .dedupe({
        key: offsetKey,
        within: options.dedupeWithinMs ?? 60_000,
        maxKeys: options.dedupeMaxKeys,
        name: `dedupe-${topic}`,
      })
      .validate((value) => check(topic, value), { name: `check-${topic}` })
      .valid.map((value, r) => toBridgeMessage(topic, value, { key: r.key, timestamp: r.timestamp }), {
        name: `message-${topic}`,
      })
    messages.push(TOPIC_ROUTES[topic].mode === 'windowed' ? gpsUpdates(checked, options, counters) : checked)
  }
  const [first, ...rest] = messages
  if (first === undefined) return p
  first.merge(...rest).toSink(sink, {
    name: 'redis-publish',
    map: (r) => {
      const channel = TOPIC_ROUTES[r.value.topic].channel
      counters.routed(channel)
      return { channel, message: JSON.stringify(r.value) }
    },
  })
  return p
}

/** GPS pings → at most one update per driver per window. */
function gpsUpdates(
  pings: Stream<Key, Message>,
  options: RidesharePipelineOptions,
  counters: BridgeCounters,
): Stream<Key, Message> {
  const counted = pings.peek(() => counters.gpsReceived(), { name: 'gps-received' })
  const candidates = options.strategy === 'sample' ? everyNthPerDriver(counted, options.sampleRate) : counted
  return candidates
    .groupBy((m) => driverOf(m), { name: 'by-driver' })
    .window(tumbling({ size: options.windowSizeMs }), { time: 'processing' })
    .aggregate(latest<Message>(), { name: 'gps-window', emit: 'final', durable: false })
    .flatMap((w) => (w.value === null ? [] : [w.value]), { name: 'gps-update' })
    .peek(() => counters.gpsEmitted(), { name: 'gps-emitted' })
}

/**
 * The seed's `sample` strategy: a counter per driver that runs across windows; its Nth, 2Nth, … ping
 * goes on. The counter is operator state (memory-only, forgotten after 10 minutes without pings).
 */
function everyNthPerDriver(pings: Stream<Key, Message>, n: number): Stream<Key, Message> {
  // Holds a message only between a sampled ping and the driver's next one.
  const nth = reducer<Message, { n: number; m: Message | null }, Message | null>({
    init: () => ({ n: 0, m: null }),
    add: (acc, m) => {
      acc.n = (acc.n % n) + 1
      acc.m = acc.n === n ? m : null
      return acc
    },
    result: (acc) => acc.m,
  })
  return pings
    .groupBy((m) => driverOf(m), { name: 'sample-by-driver' })
    .aggregate(nth, { name: 'gps-sample', durable: false, ttl: SAMPLE_COUNTER_TTL_MS })
    .filter((m): m is Message => m !== null, { name: 'gps-sampled' })
}

function driverOf(m: Message): string {
  return (m.data as GpsPing).driver_id
}

/** Is it something the bridge can publish? The seed's handlers dropped what their schemas refused. */
function check<T extends RideshareTopic>(topic: T, value: unknown): ValidationResult<RidesharePayloads[T]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      violations: [
        { rule: 'object', field: '', message: `a ${topic} event must be a JSON object`, type: 'type' },
      ],
    }
  }
  if (topic === 'gps_pings') {
    const id = (value as { driver_id?: unknown }).driver_id
    if (typeof id !== 'string' || id === '') {
      return {
        ok: false,
        violations: [
          {
            rule: 'required',
            field: 'driver_id',
            message: 'a GPS ping needs a driver_id string',
            type: 'required',
          },
        ],
      }
    }
  }
  return { ok: true, value: value as RidesharePayloads[T] }
}

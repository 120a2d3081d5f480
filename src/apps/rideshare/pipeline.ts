/**
 * The rideshare bridge (seed 000): Kafka topics → Redis pub/sub channels.
 *
 *   gps_pings ──dedupe─┬─ latest ────────────────┬─ window per driver (wall clock) ─┐
 *                      └─ sample: every Nth ping ┘   (gps-window, check inside)    │
 *   trips, driver_status, surge_updates,                                           ├→ PUBLISH <channel> (Redis)
 *   driver_profiles, rider_profiles ──dedupe── check + message (pass-through) ─────┘
 *   gps_pings + driver_status (deduped) ── driver-position store (GET /state/driver-position/<id>)
 *
 * Every record is deduplicated by `topic:partition:offset` over 60 s (a re-delivery after a rebalance is
 * dropped), checked (a JSON object; GPS pings need a driver_id), turned into a `BridgeMessage` and
 * published as JSON on its topic's channel (TOPIC_ROUTES), or published as it arrived with
 * `payload: 'raw'`. GPS pings are windowed on the wall clock per
 * driver: one update per driver per window, the most recent ping (`latest`), or the most recent of the
 * pings sampled 1 in N per driver (`sample`, the seed's counter: the Nth, 2Nth, … ping of each driver).
 * Windows are memory-only: they hold their input offsets uncommitted until emitted, and the checkpoint
 * commits only after the Redis sink flushed, so nothing is committed past an unpublished record.
 * Unreadable or unusable records go to the dead-letter topic with the reason. The driver-position store
 * (durable, see driver-position.ts) keeps the last position and status of each driver for the map
 * frontend to load on connect.
 *
 * Built for a fleet of 100,000 drivers at 200,000 pings/s: payloads are parsed once to be checked and
 * published as the text they arrived in (`jsonText`, `bridgeMessageJson`), dedupe remembers runs of
 * offsets instead of one key per record (`OffsetDedupe`), and a GPS ping passes three stages (source,
 * dedupe, window) with one small object per driver and window (`GpsWindow`).
 */
import type { Sink } from '../../connectors/contract.ts'
import type { RedisMessage } from '../../connectors/redis/index.ts'
import { type Pipeline, pipeline, type Stream } from '../../dsl/stream.ts'
import { changelogTopic } from '../../state/changelog.ts'
import { checked } from './check.ts'
import { type BridgePayload, publishedText, type RideshareTopic, TOPIC_ROUTES } from './domain/index.ts'
import { DRIVER_POSITION_STORE, DriverPositionStore } from './driver-position.ts'
import { GpsWindow } from './gps-window.ts'
import { type JsonText, jsonText } from './json-text.ts'
import type { BridgeCounters } from './metrics.ts'
import { OffsetDedupe } from './offset-dedupe.ts'

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
  /** REDIS_PAYLOAD: the envelope `{type, topic, key, data, timestamp}` (default) or the payload alone. */
  readonly payload?: BridgePayload
  /** Keep the `driver-position` store from gps_pings and driver_status. Default false (PROCESSOR_DRIVER_POSITION). */
  readonly driverPosition?: boolean
}

type Key = string | null

const noCounters: BridgeCounters = { gpsReceived() {}, gpsEmitted() {}, routed() {} }

export function ridesharePipeline(options: RidesharePipelineOptions): Pipeline {
  const { topics, prefix = '', partitions = 1, sink } = options
  const counters = options.counters ?? noCounters
  const p = pipeline('rideshare')
  const positionFeeds: Array<Stream<Key, JsonText>> = []
  for (const topic of topics) {
    const fresh = p
      .stream<JsonText, Key>(prefix + topic, { partitions, name: `source-${topic}`, value: jsonText() })
      .process<Key, JsonText>(
        'offset-dedupe',
        (name) =>
          new OffsetDedupe({ name, topic: prefix + topic, withinMs: options.dedupeWithinMs ?? 60_000 }),
        { name: `dedupe-${topic}` },
      )
    const messages =
      TOPIC_ROUTES[topic].mode === 'windowed'
        ? gpsUpdates(fresh, topic, options, counters)
        : passThrough(fresh, topic, counters, options.payload ?? 'envelope')
    messages.toSink(sink, { name: `redis-publish-${topic}`, map: (r) => r.value })
    if (topic === 'gps_pings' || topic === 'driver_status') positionFeeds.push(fresh)
  }
  const [first, ...rest] = positionFeeds
  if (options.driverPosition === true && first !== undefined) {
    // Prefixed like the input topics, so tenants (and tests) sharing a cluster never share state.
    const changelog = `${prefix}${changelogTopic('rideshare', DRIVER_POSITION_STORE)}`
    p.topology.declareTopic({ name: changelog, role: 'internal', config: { 'cleanup.policy': 'compact' } })
    const has = (t: RideshareTopic) => (topics.includes(t) ? prefix + t : undefined)
    ;(rest.length > 0 ? first.merge(...rest) : first).process<never, never>(
      'driver-position',
      (name) =>
        new DriverPositionStore({
          name,
          gpsTopic: has('gps_pings'),
          statusTopic: has('driver_status'),
          changelog,
        }),
      { name: DRIVER_POSITION_STORE },
    )
  }
  return p
}

/** GPS pings → at most one update per driver per window (the window counts what it routes). */
function gpsUpdates(
  pings: Stream<Key, JsonText>,
  topic: RideshareTopic,
  options: RidesharePipelineOptions,
  counters: BridgeCounters,
): Stream<Key, RedisMessage> {
  const { prefix = '' } = options
  return pings.process<Key, RedisMessage>(
    'gps-window',
    (name) =>
      new GpsWindow({
        name,
        topic: prefix + topic,
        sizeMs: options.windowSizeMs,
        strategy: options.strategy,
        sampleRate: options.sampleRate,
        counters,
        payload: options.payload,
      }),
    { name: 'gps-window' },
  )
}

/** Every event, checked, as a message on its channel at once. */
function passThrough(
  events: Stream<Key, JsonText>,
  topic: RideshareTopic,
  counters: BridgeCounters,
  payload: BridgePayload,
): Stream<Key, RedisMessage> {
  const channel = TOPIC_ROUTES[topic].channel
  return events.map(
    (event, r): RedisMessage => {
      checked(topic, event.value)
      counters.routed(channel)
      return {
        channel,
        message: publishedText(payload, topic, event.text, { key: r.key, timestamp: r.timestamp }),
      }
    },
    { name: `message-${topic}` },
  )
}

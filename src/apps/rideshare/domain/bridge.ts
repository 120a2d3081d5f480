/**
 * The Kafka → Redis bridge's routing (seed 000) and the message it publishes. Three topics share the
 * `driver-updates` channel, so every message says what it is (`type`) and where it came from (`topic`);
 * a frontend switches on `type` and reads `data`.
 *
 * @example
 * const msg = toBridgeMessage('gps_pings', ping, { key: ping.driver_id, timestamp: record.timestamp })
 * redis.publish(channelFor('gps_pings'), JSON.stringify(msg)) // channel 'driver-updates'
 */
import type { RidesharePayloads, RideshareTopic } from './types.ts'

export const REDIS_CHANNELS = ['driver-updates', 'trip-updates', 'surge_updates', 'rider-updates'] as const
export type RedisChannel = (typeof REDIS_CHANNELS)[number]

export interface TopicRoute {
  readonly channel: RedisChannel
  /** The seed's handler class. */
  readonly handler: string
  /** `windowed`: buffered and aggregated per window before publishing; `pass-through`: published at once. */
  readonly mode: 'windowed' | 'pass-through'
  /** The `type` of messages published for this topic. */
  readonly type: string
  readonly description: string
}

/** Seed 000's table, exactly: topic → Redis channel and handler. */
export const TOPIC_ROUTES = {
  gps_pings: {
    channel: 'driver-updates',
    handler: 'GPSHandler',
    mode: 'windowed',
    type: 'gps_ping',
    description: 'GPS location updates (windowed aggregation)',
  },
  trips: {
    channel: 'trip-updates',
    handler: 'TripHandler',
    mode: 'pass-through',
    type: 'trip',
    description: 'Trip state changes (pass-through)',
  },
  driver_status: {
    channel: 'driver-updates',
    handler: 'DriverStatusHandler',
    mode: 'pass-through',
    type: 'driver_status',
    description: 'Driver status changes (pass-through)',
  },
  surge_updates: {
    channel: 'surge_updates',
    handler: 'SurgeHandler',
    mode: 'pass-through',
    type: 'surge_update',
    description: 'Surge pricing updates (pass-through)',
  },
  driver_profiles: {
    channel: 'driver-updates',
    handler: 'DriverProfileHandler',
    mode: 'pass-through',
    type: 'driver_profile',
    description: 'Driver profile changes (pass-through)',
  },
  rider_profiles: {
    channel: 'rider-updates',
    handler: 'RiderProfileHandler',
    mode: 'pass-through',
    type: 'rider_profile',
    description: 'Rider profile changes (pass-through)',
  },
} as const satisfies Record<RideshareTopic, TopicRoute>

/** Seed 000's default PROCESSOR_TOPICS (profiles are opt-in). */
export const DEFAULT_PROCESSOR_TOPICS: readonly RideshareTopic[] = [
  'gps_pings',
  'trips',
  'driver_status',
  'surge_updates',
]

export type BridgeMessageType<T extends RideshareTopic = RideshareTopic> = (typeof TOPIC_ROUTES)[T]['type']

export function isRideshareTopic(topic: string): topic is RideshareTopic {
  return Object.hasOwn(TOPIC_ROUTES, topic)
}

export function channelFor(topic: RideshareTopic): RedisChannel {
  return TOPIC_ROUTES[topic].channel
}

/** What the bridge publishes (as JSON) on a Redis channel. */
export type BridgeMessage<T extends RideshareTopic = RideshareTopic> = {
  [P in T]: {
    /** `gps_ping`, `trip`, `driver_status`, `surge_update`, `driver_profile`, `rider_profile`. */
    readonly type: BridgeMessageType<P>
    readonly topic: P
    /** The Kafka record key (driver, trip, zone or rider id). */
    readonly key: string | null
    /** The Kafka payload, unchanged. */
    readonly data: RidesharePayloads[P]
    /** Kafka record timestamp, epoch ms. */
    readonly timestamp: number
  }
}[T]

export function toBridgeMessage<T extends RideshareTopic>(
  topic: T,
  data: RidesharePayloads[T],
  meta: { readonly key?: string | null; readonly timestamp: number },
): BridgeMessage<T> {
  return {
    type: TOPIC_ROUTES[topic].type,
    topic,
    key: meta.key ?? null,
    data,
    timestamp: meta.timestamp,
  } as BridgeMessage<T>
}

/** `{"type":…,"topic":…,"key":` per topic, built once. */
const MESSAGE_HEADS = Object.fromEntries(
  Object.entries(TOPIC_ROUTES).map(([topic, r]) => [
    topic,
    `{"type":${JSON.stringify(r.type)},"topic":${JSON.stringify(topic)},"key":`,
  ]),
) as Record<RideshareTopic, string>

/**
 * What goes on a channel (REDIS_PAYLOAD): `envelope`, the default, is a `BridgeMessage`
 * `{"type","topic","key","data","timestamp"}` with the Kafka payload in `data`; `raw` is the Kafka
 * payload alone, byte for byte, for a frontend written against the producers' own JSON.
 */
export const BRIDGE_PAYLOADS = ['envelope', 'raw'] as const
export type BridgePayload = (typeof BRIDGE_PAYLOADS)[number]

/** The text published for one event: the envelope around `dataJson`, or `dataJson` itself. */
export function publishedText(
  payload: BridgePayload,
  topic: RideshareTopic,
  dataJson: string,
  meta: { readonly key?: string | null; readonly timestamp: number },
): string {
  return payload === 'raw' ? dataJson : bridgeMessageJson(topic, dataJson, meta)
}

/**
 * The JSON text of `toBridgeMessage(topic, data, meta)`, with the payload given as the JSON text it
 * arrived in: it goes into `data` as it is, so a payload is never parsed and printed again just to be
 * wrapped. Same fields in the same order as `JSON.stringify(toBridgeMessage(…))`, and the same value
 * once parsed. `dataJson` must be one well-formed JSON value (the source serde checked it).
 *
 * @example
 * bridgeMessageJson('trips', '{"trip_id":"t1"}', { key: 't1', timestamp: 1 })
 * // '{"type":"trip","topic":"trips","key":"t1","data":{"trip_id":"t1"},"timestamp":1}'
 */
export function bridgeMessageJson(
  topic: RideshareTopic,
  dataJson: string,
  meta: { readonly key?: string | null; readonly timestamp: number },
): string {
  const key = meta.key == null ? 'null' : JSON.stringify(meta.key)
  return `${MESSAGE_HEADS[topic]}${key},"data":${dataJson},"timestamp":${timestampJson(meta.timestamp)}}`
}

// Consecutive records mostly share a millisecond: its text is made once.
let lastTimestamp = Number.NaN
let lastTimestampJson = 'null'

function timestampJson(t: number): string {
  if (t !== lastTimestamp) {
    lastTimestamp = t
    lastTimestampJson = JSON.stringify(t)
  }
  return lastTimestampJson
}

/** Rideshare domain (seed 000): the six topics' payloads and the Kafka → Redis routing. Pure. */
export {
  type BridgeMessage,
  type BridgeMessageType,
  bridgeMessageJson,
  channelFor,
  DEFAULT_PROCESSOR_TOPICS,
  isRideshareTopic,
  REDIS_CHANNELS,
  type RedisChannel,
  TOPIC_ROUTES,
  type TopicRoute,
  toBridgeMessage,
} from './bridge.ts'
export {
  DRIVER_STATES,
  type DriverProfile,
  type DriverState,
  type DriverStatusEvent,
  type GpsPing,
  type LatLon,
  RIDESHARE_TOPICS,
  type RiderProfile,
  type RidesharePayloads,
  type RideshareTopic,
  type SurgeUpdate,
  TRIP_STATUSES,
  type TripEvent,
  type TripStatus,
} from './types.ts'
export { SAO_PAULO, SAO_PAULO_ZONES, type Zone, zoneOf } from './zones.ts'

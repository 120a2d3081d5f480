/** METR-LA traffic domain (seeds 001 and 002): record types, flatten, validate, window aggregate. Pure. */
export { flattenMetrLa } from './flatten.ts'
export { type Highway, LA_HIGHWAYS, METR_LA_SENSORS, type SensorInfo, sensorInfo } from './sensors.ts'
export {
  type Direction,
  type MetrLaRecord,
  type TrafficEvent,
  type TrafficWindowAggregate,
  WEATHER_CONDITIONS,
  type WeatherCondition,
} from './types.ts'
export { TRAFFIC_RULE_IDS, validateTraffic } from './validate.ts'
export {
  addTrafficEvent,
  emptyTrafficWindow,
  mergeTrafficWindows,
  TRAFFIC_WINDOW_MS,
  type TrafficWindowState,
  trafficWindowResult,
  trafficWindowStart,
} from './window.ts'

/**
 * The traffic app's Avro contracts (VALUE_FORMAT=avro): seed 001's nested reading on the input topic
 * and the flat, validated event on the output topic. Field names and meanings are the JSON ones, so a
 * record reads the same in either format. Required fields are required here too: a reading without a
 * sensor_id or with a speed that is not a number cannot be written at all, which is the point of a
 * contract; ranges and timestamps are still the validator's to check.
 *
 * Kept as objects, not `.avsc` files, so the build ships them; `weir produce traffic` registers the
 * reading schema, and the app registers the event schema on its first output.
 */

const nullable = (type: unknown, doc?: string) => ({
  type: ['null', type],
  default: null,
  ...(doc ? { doc } : {}),
})

/** The reader schema of the input topic; writers may add fields (with defaults) or drop optional ones. */
export const metrLaReadingSchema = {
  type: 'record',
  name: 'MetrLaReading',
  namespace: 'weir.traffic',
  doc: 'One METR-LA loop-detector reading (seed 001 traffic-raw).',
  fields: [
    { name: 'sensor_id', type: 'string', doc: 'METR_LA_000 … METR_LA_206' },
    { name: 'timestamp', type: 'string', doc: 'ISO-8601 UTC' },
    {
      name: 'traffic_data',
      type: {
        type: 'record',
        name: 'TrafficData',
        fields: [
          { name: 'speed_mph', type: 'double' },
          { name: 'volume_vehicles_per_hour', type: 'double', doc: 'All lanes together' },
          { name: 'occupancy', ...nullable('double', 'Percent of time occupied, 0-100') },
        ],
      },
    },
    {
      name: 'location',
      type: {
        type: 'record',
        name: 'Location',
        fields: [
          { name: 'highway', type: 'string' },
          { name: 'direction', type: 'string', doc: 'N, S, E or W' },
          { name: 'lanes', type: 'int' },
          { name: 'postmile', ...nullable('double') },
          {
            name: 'coordinates',
            ...nullable({
              type: 'record',
              name: 'Coordinates',
              fields: [
                { name: 'latitude', type: 'double' },
                { name: 'longitude', type: 'double' },
              ],
            }),
          },
        ],
      },
    },
    {
      name: 'weather',
      type: {
        type: 'record',
        name: 'Weather',
        fields: [
          { name: 'condition', type: 'string', doc: 'clear, cloudy, fog, rain or windy' },
          { name: 'temperature_f', ...nullable('double') },
          { name: 'visibility_miles', ...nullable('double') },
        ],
      },
    },
    { name: 'source', ...nullable('string', 'Feed name, METR-LA') },
  ],
} as const

/** The writer schema of the output topic: TrafficEvent plus the three stamped fields. */
export const trafficEventSchema = {
  type: 'record',
  name: 'TrafficEvent',
  namespace: 'weir.traffic',
  doc: 'A flattened, validated METR-LA reading (seed 001 traffic-events).',
  fields: [
    { name: 'sensor_id', type: 'string' },
    { name: 'timestamp', type: 'string', doc: 'ISO-8601 UTC, as read' },
    { name: 'speed', type: 'double', doc: 'mph' },
    { name: 'volume', type: 'double', doc: 'vehicles per hour' },
    { name: 'occupancy', ...nullable('double') },
    { name: 'highway', type: 'string' },
    { name: 'direction', type: 'string' },
    // Not required by validation: JSON input may lack it.
    { name: 'lane_count', ...nullable('int') },
    { name: 'latitude', ...nullable('double') },
    { name: 'longitude', ...nullable('double') },
    { name: 'weather_conditions', ...nullable('string') },
    { name: 'temperature_f', ...nullable('double') },
    { name: 'processed_at', type: 'string', doc: 'ISO-8601 UTC' },
    { name: 'processor_id', type: 'string', doc: 'CLIENT_ID of the processor' },
    { name: 'validation_status', type: 'string' },
  ],
} as const

/** traffic-windows' output (seed 002 §2.2's aggregate): one sensor's window. Times are epoch ms. */
export const trafficWindowAggregateSchema = {
  type: 'record',
  name: 'TrafficWindowAggregate',
  namespace: 'weir.traffic',
  doc: "One sensor's tumbling window (seed 002 traffic aggregates).",
  fields: [
    { name: 'sensor_id', type: 'string' },
    { name: 'window_start', type: 'long', doc: 'epoch ms, inclusive' },
    { name: 'window_end', type: 'long', doc: 'epoch ms, exclusive' },
    { name: 'avg_speed', type: 'double', doc: 'mph' },
    { name: 'avg_volume', type: 'double', doc: 'vehicles per hour' },
    { name: 'avg_occupancy', ...nullable('double', 'null when no reading carried an occupancy') },
    { name: 'speed_variance', type: 'double', doc: 'population variance of the speeds, mph²' },
    { name: 'message_count', type: 'int' },
  ],
} as const

/** The full name RecordNameStrategy and TopicRecordNameStrategy put in subjects. */
export function fullName(schema: { readonly name: string; readonly namespace: string }): string {
  return `${schema.namespace}.${schema.name}`
}

/**
 * traffic-windows' value formats: JSON (default), or Avro through the registry like the traffic app,
 * so traffic (Avro) → traffic-windows (Avro) → archive is one chain. Input is read with the
 * `TrafficEvent` schema the traffic app writes; output written with `TrafficWindowAggregate`.
 */
import { json, type Serde } from '../../core/serde.ts'
import type { SchemaRegistry } from '../../serdes/registry/client.ts'
import type { TrafficWindowAggregate } from '../traffic/domain/index.ts'
import type { FormatSettings, ProcessedTrafficEvent } from '../traffic/formats.ts'

export interface WindowsFormats {
  readonly input: Serde<ProcessedTrafficEvent>
  readonly output: Serde<TrafficWindowAggregate>
  readonly registry: SchemaRegistry | undefined
}

export async function windowsFormats(
  settings: Omit<FormatSettings, 'INPUT_TOPIC' | 'AVRO_WIRE_FORMAT'>,
): Promise<WindowsFormats> {
  const outputFormat = settings.OUTPUT_VALUE_FORMAT ?? settings.VALUE_FORMAT
  if (settings.VALUE_FORMAT === 'json' && outputFormat === 'json') {
    return {
      input: json<ProcessedTrafficEvent>(),
      output: json<TrafficWindowAggregate>(),
      registry: undefined,
    }
  }
  const url = settings.SCHEMA_REGISTRY_URL
  if (url === undefined) throw new Error('SCHEMA_REGISTRY_URL is required when a value format is avro')
  const { trafficAvroSerde, trafficRegistry } = await import('../traffic/avro.ts')
  const { trafficEventSchema, trafficWindowAggregateSchema } = await import('../traffic/schemas.ts')
  const avro = {
    url,
    userInfo: settings.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO?.reveal(),
    autoRegister: settings.AUTO_REGISTER_SCHEMAS,
    strategy: settings.VALUE_SUBJECT_NAME_STRATEGY,
  }
  const registry = trafficRegistry(avro)
  return {
    input:
      settings.VALUE_FORMAT === 'avro'
        ? trafficAvroSerde<ProcessedTrafficEvent>(avro, registry, trafficEventSchema)
        : json<ProcessedTrafficEvent>(),
    output:
      outputFormat === 'avro'
        ? trafficAvroSerde<TrafficWindowAggregate>(avro, registry, trafficWindowAggregateSchema)
        : json<TrafficWindowAggregate>(),
    registry,
  }
}

/**
 * How the traffic app reads and writes values: seed 001's JSON, or Avro in the Confluent wire format
 * with a schema registry. Avro (and avsc) is loaded only when a format asks for it.
 */

import type { Secret } from '../../config/index.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import { json, type Serde } from '../../core/serde.ts'
import type { SchemaRegistry } from '../../serdes/registry/client.ts'
import type { SubjectNameStrategy } from '../../serdes/wire.ts'
import type { MetrLaRecord, TrafficEvent } from './domain/index.ts'

export type ValueFormat = 'json' | 'avro'

/** `confluent`: magic byte + schema id + body; `plain`: the body alone, read with the subject's latest schema (seed 002's AvroSchemaManager). */
export const AVRO_WIRE_FORMATS = ['confluent', 'plain'] as const
export type AvroWireFormat = (typeof AVRO_WIRE_FORMATS)[number]

/** What the pipeline adds to every flattened, validated record. */
export interface ProcessedTrafficEvent extends TrafficEvent {
  readonly processed_at: string
  readonly processor_id: string
  readonly validation_status: 'valid'
}

export interface FormatSettings {
  readonly INPUT_TOPIC: string
  readonly VALUE_FORMAT: ValueFormat
  readonly OUTPUT_VALUE_FORMAT: ValueFormat | undefined
  readonly SCHEMA_REGISTRY_URL: string | undefined
  readonly SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: Secret | undefined
  readonly AUTO_REGISTER_SCHEMAS: boolean
  readonly VALUE_SUBJECT_NAME_STRATEGY: SubjectNameStrategy
  /** How Avro input bodies are framed (confluent or plain). */
  readonly AVRO_WIRE_FORMAT?: AvroWireFormat
}

export interface TrafficFormats {
  readonly input: Serde<MetrLaRecord>
  readonly output: Serde<ProcessedTrafficEvent>
  /** The registry client, when a format is Avro: /health reports it. */
  readonly registry: SchemaRegistry | undefined
}

/** The registry-independent part: JSON both ways unless a format says avro. */
export async function trafficFormats(settings: FormatSettings): Promise<TrafficFormats> {
  const outputFormat = settings.OUTPUT_VALUE_FORMAT ?? settings.VALUE_FORMAT
  if (settings.VALUE_FORMAT === 'json' && outputFormat === 'json') {
    return { input: json<MetrLaRecord>(), output: json<ProcessedTrafficEvent>(), registry: undefined }
  }
  const url = settings.SCHEMA_REGISTRY_URL
  if (url === undefined) {
    // loadConfig's cross-field rule says so first; this keeps the function honest on its own.
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      'SCHEMA_REGISTRY_URL is required when a value format is avro',
    )
  }
  const { avroFormats } = await import('./avro.ts')
  const avro = avroFormats({
    url,
    userInfo: settings.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO?.reveal(),
    autoRegister: settings.AUTO_REGISTER_SCHEMAS,
    strategy: settings.VALUE_SUBJECT_NAME_STRATEGY,
    inputWire: settings.AVRO_WIRE_FORMAT ?? 'confluent',
  })
  return {
    input: settings.VALUE_FORMAT === 'avro' ? avro.input : json<MetrLaRecord>(),
    output: outputFormat === 'avro' ? avro.output : json<ProcessedTrafficEvent>(),
    registry: avro.registry,
  }
}

/**
 * The check both traffic apps make on their config: Avro in or out needs SCHEMA_REGISTRY_URL, and the
 * error names the variable that asked for Avro.
 */
export function requireRegistryForAvro(
  c: { readonly VALUE_FORMAT?: string; readonly OUTPUT_VALUE_FORMAT?: string; readonly SCHEMA_REGISTRY_URL?: unknown },
  ctx: { addIssue(issue: { code: 'custom'; path: string[]; message: string }): void },
): void {
  const avro =
    c.VALUE_FORMAT === 'avro' ? 'VALUE_FORMAT' : c.OUTPUT_VALUE_FORMAT === 'avro' ? 'OUTPUT_VALUE_FORMAT' : undefined
  if (avro !== undefined && c.SCHEMA_REGISTRY_URL === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['SCHEMA_REGISTRY_URL'],
      message: `required when ${avro}=avro: the schema registry's Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7, not set`,
    })
  }
}

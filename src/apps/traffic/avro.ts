/**
 * The traffic app's Avro serdes: Confluent wire format, schemas in a registry.
 *
 * - Input: read by the schema id each record carries (fetched once per id, then cached), resolved to
 *   the app's reading schema, so writers may evolve (add fields with defaults, drop optional ones). A
 *   wrong magic byte, an unknown schema id, a truncated payload or a schema the reading schema cannot
 *   resolve is DESERIALIZE_FAILED / SCHEMA_NOT_FOUND: a dead letter with the reason. A tombstone is one
 *   too, as in JSON.
 * - Output: written with the event schema, registered (or, without auto-registration, looked up) under
 *   the subject the naming strategy gives, `<topic>-value` by default. An optional field the event
 *   lacks (JSON input without `location.lanes`) is written as its default, null.
 */

import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Serde } from '../../core/serde.ts'
import { plainAvro } from '../../serdes/avro/plain.ts'
import { avro } from '../../serdes/avro/serde.ts'
import { type SchemaRegistry, schemaRegistry } from '../../serdes/registry/client.ts'
import { type SubjectNameStrategy, subjectName } from '../../serdes/wire.ts'
import type { MetrLaRecord } from './domain/index.ts'
import type { AvroWireFormat, ProcessedTrafficEvent } from './formats.ts'
import { fullName, metrLaReadingSchema, trafficEventSchema } from './schemas.ts'

export interface AvroSettings {
  readonly url: string
  /** How input bodies are framed. Default confluent. */
  readonly inputWire?: AvroWireFormat
  /** `user:password` (Confluent's basic.auth.user.info). */
  readonly userInfo: string | undefined
  readonly autoRegister: boolean
  readonly strategy: SubjectNameStrategy
}

export function avroFormats(settings: AvroSettings): {
  input: Serde<MetrLaRecord>
  output: Serde<ProcessedTrafficEvent>
  registry: SchemaRegistry
} {
  const registry = schemaRegistry({ url: settings.url, auth: authOf(settings.userInfo) })
  const subjectFor = (record: string) => (ctx: { topic: string; isKey: boolean }) =>
    subjectName(settings.strategy, ctx, record)
  const readings = avro<MetrLaRecord>({
    registry,
    schema: metrLaReadingSchema,
    autoRegister: settings.autoRegister,
    subject: subjectFor(fullName(metrLaReadingSchema)),
  })
  const events = avro<ProcessedTrafficEvent>({
    registry,
    schema: trafficEventSchema,
    autoRegister: settings.autoRegister,
    subject: subjectFor(fullName(trafficEventSchema)),
  })
  const readingSubject = subjectFor(fullName(metrLaReadingSchema))
  return {
    registry,
    input:
      settings.inputWire === 'plain'
        ? plainInput(registry, readingSubject)
        : {
            name: 'avro',
            serialize: (value, ctx) => readings.serialize(value, ctx),
            deserialize(data, ctx) {
              if (data === null) {
                throw new WeirError(
                  ErrorCode.DESERIALIZE_FAILED,
                  'null value (tombstone) where an Avro MetrLaReading was expected',
                )
              }
              try {
                return readings.deserialize(data, ctx) as MetrLaRecord | Promise<MetrLaRecord>
              } catch (err) {
                throw withPlainHint(err, readingSubject(ctx))
              }
            },
          },
    output: {
      name: 'avro',
      serialize: (event, ctx) => events.serialize(event, ctx),
      deserialize: (data, ctx) =>
        events.deserialize(data, ctx) as ProcessedTrafficEvent | Promise<ProcessedTrafficEvent>,
    },
  }
}

/** Plain bodies with the subject's latest schema; `weir produce` registers the reading schema there first. */
function plainInput(
  registry: SchemaRegistry,
  subject: (ctx: { topic: string; isKey: boolean }) => string,
): Serde<MetrLaRecord> {
  const serde = plainAvro<MetrLaRecord>({ registry, subject, schema: metrLaReadingSchema })
  const registered = new Set<string>()
  return {
    name: serde.name,
    deserialize: (data, ctx) => serde.deserialize(data, ctx),
    serialize(value, ctx) {
      const s = subject(ctx)
      if (registered.has(s)) return serde.serialize(value, ctx)
      return registry.register(s, metrLaReadingSchema).then(() => {
        registered.add(s)
        return serde.serialize(value, ctx)
      })
    },
  }
}

/** A body without the Confluent header: say which setting reads it. */
function withPlainHint(err: unknown, subject: string): unknown {
  if (!(err instanceof WeirError) || !/magic byte|too short for the Confluent wire format/.test(err.message))
    return err
  return new WeirError(
    err.code,
    `${err.message} If producers write plain Avro bodies with the latest schema of ${subject} (as seed 002's AvroSchemaManager does), set AVRO_WIRE_FORMAT=plain.`,
    { cause: err, details: err.details },
  )
}

function authOf(userInfo: string | undefined): { username: string; password: string } | undefined {
  if (userInfo === undefined) return undefined
  const colon = userInfo.indexOf(':')
  return { username: userInfo.slice(0, colon), password: userInfo.slice(colon + 1) }
}

/**
 * One Avro serde of the traffic contracts (reader and writer schema `schema`), for traffic-windows:
 * Confluent wire format, subject by the naming strategy.
 */
export function trafficAvroSerde<T>(
  settings: Omit<AvroSettings, 'inputWire'>,
  registry: SchemaRegistry,
  schema: { readonly name: string; readonly namespace: string },
): Serde<T> {
  const serde = avro<T>({
    registry,
    schema,
    autoRegister: settings.autoRegister,
    subject: (ctx) => subjectName(settings.strategy, ctx, fullName(schema)),
  })
  return {
    name: 'avro',
    serialize: (value, ctx) => serde.serialize(value, ctx),
    deserialize(data, ctx) {
      if (data === null)
        throw new WeirError(
          ErrorCode.DESERIALIZE_FAILED,
          `null value (tombstone) where an Avro ${schema.name} was expected`,
        )
      return serde.deserialize(data, ctx) as T | Promise<T>
    },
  }
}

export function trafficRegistry(settings: Pick<AvroSettings, 'url' | 'userInfo'>): SchemaRegistry {
  return schemaRegistry({ url: settings.url, auth: authOf(settings.userInfo) })
}

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
import { avro } from '../../serdes/avro/serde.ts'
import { type SchemaRegistry, schemaRegistry } from '../../serdes/registry/client.ts'
import { type SubjectNameStrategy, subjectName } from '../../serdes/wire.ts'
import type { MetrLaRecord } from './domain/index.ts'
import type { ProcessedTrafficEvent } from './formats.ts'
import { fullName, metrLaReadingSchema, trafficEventSchema } from './schemas.ts'

export interface AvroSettings {
  readonly url: string
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
  return {
    registry,
    input: {
      name: 'avro',
      serialize: (value, ctx) => readings.serialize(value, ctx),
      deserialize(data, ctx) {
        if (data === null) {
          throw new WeirError(
            ErrorCode.DESERIALIZE_FAILED,
            'null value (tombstone) where an Avro MetrLaReading was expected',
          )
        }
        return readings.deserialize(data, ctx) as MetrLaRecord | Promise<MetrLaRecord>
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

function authOf(userInfo: string | undefined): { username: string; password: string } | undefined {
  if (userInfo === undefined) return undefined
  const colon = userInfo.indexOf(':')
  return { username: userInfo.slice(0, colon), password: userInfo.slice(colon + 1) }
}

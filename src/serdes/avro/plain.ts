/**
 * Plain Avro bodies (no Confluent header) read with the latest schema of a registry subject: what
 * producers built like seed 002's AvroSchemaManager write (`schema.toBuffer(value)`, subject
 * `traffic-raw-value`). The writer schema is fetched once per `refreshMs` (the seed cached it forever),
 * and resolved to the reader schema, so the reader still gets its own shape.
 *
 * A body is only plain Avro of that schema if it decodes to exactly its length; anything else is
 * DESERIALIZE_FAILED saying so, and naming the Confluent wire format when the body looks like it.
 */
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Serde, SerdeContext } from '../../core/serde.ts'
import type { SchemaRegistry } from '../registry/client.ts'
import { MAGIC_BYTE, WIRE_HEADER_SIZE } from '../wire.ts'
import { type AvroReader, decodeBody, encodePlain, readerFor } from './codec.ts'
import { type AvroSchemaSource, parseSchema } from './schema.ts'

export interface PlainAvroOptions {
  readonly registry: SchemaRegistry
  /** The subject whose latest version the bodies were written with, or how to derive it. */
  readonly subject: (ctx: SerdeContext) => string
  /** What values are read as (and written with). */
  readonly schema: AvroSchemaSource
  /** How long a fetched latest version is used before asking again. Default 60 s. */
  readonly refreshMs?: number
}

interface Latest {
  readonly reader: AvroReader
  readonly id: number
  readonly version: number
  readonly until: number
}

export function plainAvro<T>(options: PlainAvroOptions): Serde<T> {
  const own = parseSchema(options.schema)
  const refreshMs = options.refreshMs ?? 60_000
  const latest = new Map<string, Latest>()
  const pending = new Map<string, Promise<Latest>>()

  const fetchLatest = (subject: string): Promise<Latest> => {
    let p = pending.get(subject)
    if (p === undefined) {
      p = (async () => {
        const s = await options.registry.getLatest(subject)
        const origin = `latest schema of ${subject} (version ${s.version}, id ${s.id})`
        const l: Latest = {
          reader: readerFor(parseSchema(s.schema).type, own.type, origin),
          id: s.id,
          version: s.version,
          until: Date.now() + refreshMs,
        }
        latest.set(subject, l)
        return l
      })().finally(() => pending.delete(subject))
      pending.set(subject, p)
    }
    return p
  }

  const decode = (l: Latest, subject: string, data: Buffer, ctx: SerdeContext): T => {
    try {
      return decodeBody(l.reader, data, 0, `record from ${ctx.topic}`) as T
    } catch (err) {
      const looksWire = data.length > WIRE_HEADER_SIZE && data[0] === MAGIC_BYTE
      const hint = looksWire
        ? `; it starts like the Confluent wire format (magic byte 0, schema id ${data.readInt32BE(1)}): set AVRO_WIRE_FORMAT=confluent`
        : ''
      throw new WeirError(
        ErrorCode.DESERIALIZE_FAILED,
        `record from ${ctx.topic} is neither plain Avro of the latest schema of ${subject} (version ${l.version}, id ${l.id}) nor readable: ${(err as Error).message}${hint}`,
        { cause: err },
      )
    }
  }

  return {
    name: 'avro-plain',
    serialize: (value) => encodePlain(own.type, value),
    deserialize(data, ctx) {
      if (data === null)
        throw new WeirError(ErrorCode.DESERIALIZE_FAILED, `null value (tombstone) from ${ctx.topic}`)
      const subject = options.subject(ctx)
      const l = latest.get(subject)
      if (l !== undefined && l.until > Date.now()) return decode(l, subject, data, ctx)
      return fetchLatest(subject).then(
        (fresh) => decode(fresh, subject, data, ctx),
        (err: unknown) => {
          // Keep using what we had while the registry is away.
          if (l !== undefined && !(err instanceof WeirError && err.code === ErrorCode.SCHEMA_NOT_FOUND))
            return decode(l, subject, data, ctx)
          throw err
        },
      )
    },
  }
}

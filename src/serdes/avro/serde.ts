/**
 * Avro in the Confluent wire format, schemas in a registry. Once a subject's writer id and a
 * writer id's reader are cached, serialize and deserialize return values, not promises.
 *
 * A null payload is a tombstone and deserializes to null; serializing null (or undefined) gives a
 * null payload — as Confluent's KafkaAvroSerializer/Deserializer do.
 */

import type { Type } from 'avsc'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Serde, SerdeContext } from '../../core/serde.ts'
import { shareInflight } from '../inflight.ts'
import type { SchemaRegistry } from '../registry/client.ts'
import { readWireHeader, topicNameStrategy, WIRE_HEADER_SIZE } from '../wire.ts'
import { type AvroReader, decodeBody, encodeWire, readerFor } from './codec.ts'
import { type AvroSchemaSource, type AvroTypeOptions, parseSchema } from './schema.ts'

export interface AvroSerdeOptions {
  registry: SchemaRegistry
  /**
   * The writer schema when producing, the reader schema when consuming: an avsc JSON object, JSON
   * text or a path to a `.avsc` file. Without one, records are read with the schema they were
   * written with, and written with the subject's latest registered schema.
   */
  schema?: AvroSchemaSource
  /** Subject name, or how to derive it (default `${topic}-value` / `${topic}-key`). */
  subject?: string | ((ctx: SerdeContext) => string)
  /** Register the schema on first use (default true); false: it must already be in the subject. */
  autoRegister?: boolean
  /** avsc options (logical types, union wrapping) for every schema this serde parses. */
  typeOptions?: AvroTypeOptions
}

interface Writer {
  readonly id: number
  readonly type: Type
}

/** How long an unknown schema id is remembered as unknown, so a bad topic does not flood the registry. */
const UNKNOWN_ID_TTL_MS = 30_000

/**
 * @example
 * const registry = schemaRegistry({ url: 'http://127.0.0.1:8081/apis/ccompat/v7' })
 * const orders = avro<Order>({ registry, schema: 'schemas/order.avsc' })
 * const bytes = await orders.serialize(order, { topic: 'orders', isKey: false })
 */
export function avro<T>(options: AvroSerdeOptions): Serde<T | null> {
  const { registry, autoRegister = true, typeOptions = {} } = options
  const own = options.schema === undefined ? undefined : parseSchema(options.schema, typeOptions)
  const subjectOf =
    typeof options.subject === 'function'
      ? options.subject
      : typeof options.subject === 'string'
        ? () => options.subject as string
        : topicNameStrategy

  const writers = new Map<string, Writer>()
  const pendingWriters = new Map<string, Promise<Writer>>()
  const readers = new Map<number, AvroReader | WeirError>()
  const pendingReaders = new Map<number, Promise<AvroReader | WeirError>>()
  const unknownIds = new Map<number, { error: WeirError; until: number }>()

  async function fetchWriter(subject: string): Promise<Writer> {
    if (own) {
      if (autoRegister) return { id: await registry.register(subject, own.text), type: own.type }
      try {
        return { id: (await registry.lookup(subject, own.text)).id, type: own.type }
      } catch (err) {
        if (err instanceof WeirError && err.code === ErrorCode.SCHEMA_NOT_FOUND) {
          throw new WeirError(
            ErrorCode.SCHEMA_NOT_FOUND,
            `the writer schema is not registered under subject "${subject}" and autoRegister is false (${err.message})`,
            { cause: err },
          )
        }
        throw err
      }
    }
    const latest = await registry.getLatest(subject)
    return { id: latest.id, type: parseSchema(latest.schema, typeOptions).type }
  }

  function writerFor(subject: string): Promise<Writer> {
    return shareInflight(pendingWriters, subject, async () => {
      const w = await fetchWriter(subject)
      writers.set(subject, w)
      return w
    })
  }

  async function fetchReader(id: number): Promise<AvroReader | WeirError> {
    const origin = `schema id ${id}`
    let stored: Awaited<ReturnType<SchemaRegistry['getSchemaById']>>
    try {
      stored = await registry.getSchemaById(id)
    } catch (err) {
      if (err instanceof WeirError && err.code === ErrorCode.SCHEMA_NOT_FOUND) {
        const error = new WeirError(
          ErrorCode.SCHEMA_NOT_FOUND,
          `unknown schema id ${id}: the registry has no such schema`,
          {
            cause: err,
            retriable: false,
          },
        )
        unknownIds.set(id, { error, until: Date.now() + UNKNOWN_ID_TTL_MS })
        throw error
      }
      throw err
    }
    // From here on a failure is a property of the schema: cache it like a reader.
    try {
      if (stored.schemaType !== 'AVRO') {
        throw new WeirError(
          ErrorCode.DESERIALIZE_FAILED,
          `${origin} is a ${stored.schemaType} schema, not Avro`,
        )
      }
      let writer: Type
      try {
        writer = parseSchema(stored.schema, typeOptions).type
      } catch (cause) {
        throw new WeirError(
          ErrorCode.DESERIALIZE_FAILED,
          `${origin}: registry schema is not valid Avro: ${(cause as Error).message}`,
          {
            cause,
          },
        )
      }
      return readerFor(writer, own?.type, origin)
    } catch (err) {
      return err as WeirError
    }
  }

  function readerOf(id: number): Promise<AvroReader | WeirError> {
    return shareInflight(pendingReaders, id, async () => {
      const r = await fetchReader(id)
      readers.set(id, r)
      return r
    })
  }

  function decodeWith(reader: AvroReader | WeirError, id: number, data: Buffer, ctx: SerdeContext): T {
    if (reader instanceof WeirError) throw reader
    return decodeBody(reader, data, WIRE_HEADER_SIZE, `record from ${ctx.topic} (schema id ${id})`) as T
  }

  return {
    name: 'avro',

    serialize(value, ctx) {
      if (value === null || value === undefined) return null
      const subject = subjectOf(ctx)
      const w = writers.get(subject)
      if (w) return encodeWire(w.type, w.id, value)
      return writerFor(subject).then((w) => encodeWire(w.type, w.id, value))
    },

    deserialize(data, ctx) {
      if (data === null) return null
      const id = readWireHeader(data)
      const reader = readers.get(id)
      if (reader !== undefined) return decodeWith(reader, id, data, ctx)
      const unknown = unknownIds.get(id)
      if (unknown !== undefined) {
        if (unknown.until > Date.now()) throw unknown.error
        unknownIds.delete(id)
      }
      return readerOf(id).then((r) => decodeWith(r, id, data, ctx))
    },
  }
}

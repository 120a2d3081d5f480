/**
 * Avro bytes in and out, with Weir errors: no registry here, so everything is synchronous and
 * testable with schemas held in memory.
 */

import type { Type } from 'avsc'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import { WIRE_HEADER_SIZE, writeWireHeader } from '../wire.ts'
import type { AvroResolver } from './schema.ts'

/** How to read the bytes of one writer schema: the reader type, and a resolver when they differ. */
export interface AvroReader {
  readonly type: Type
  readonly resolver: AvroResolver | undefined
}

const KEEP_SCRATCH_UP_TO = 1 << 20
let scratch = Buffer.allocUnsafe(16 * 1024)

function invalidPaths(type: Type, value: unknown): string[] {
  const paths: string[] = []
  type.isValid(value, { errorHook: (path) => void paths.push(path.join('.') || '(root)') })
  return paths
}

function serializeError(type: Type, value: unknown, cause: unknown): WeirError {
  const paths = invalidPaths(type, value)
  const name = (type as { name?: string }).name ?? type.typeName
  const where = paths.length > 0 ? `invalid field(s): ${paths.join(', ')}` : (cause as Error).message
  return new WeirError(ErrorCode.SERIALIZE_FAILED, `value does not match Avro schema ${name}: ${where}`, {
    cause,
    details: { invalidPaths: paths },
  })
}

/** `[0][schema id][Avro binary]`, with one copy of the bytes. */
export function encodeWire(type: Type, schemaId: number, value: unknown): Buffer {
  let buf = scratch
  try {
    for (;;) {
      writeWireHeader(buf, schemaId)
      const end = type.encode(value, buf, WIRE_HEADER_SIZE)
      if (end >= 0) {
        if (buf !== scratch && buf.length <= KEEP_SCRATCH_UP_TO) scratch = buf
        return Buffer.from(buf.subarray(0, end))
      }
      // avsc returns -(missing bytes) when the buffer is too small.
      buf = Buffer.allocUnsafe(Math.max(buf.length * 2, buf.length - end))
    }
  } catch (cause) {
    throw serializeError(type, value, cause)
  }
}

/** Plain Avro binary, no header (for `.avsc` files without a registry). */
export function encodePlain(type: Type, value: unknown): Buffer {
  try {
    return type.toBuffer(value)
  } catch (cause) {
    throw serializeError(type, value, cause)
  }
}

/**
 * Decodes the Avro value that fills `data` from `offset` to the end. A value that ends early
 * (truncated), leaves bytes over, or does not decode at all is DESERIALIZE_FAILED.
 */
export function decodeBody(reader: AvroReader, data: Buffer, offset: number, origin: string): unknown {
  let result: { value: unknown; offset: number }
  try {
    result = reader.type.decode(data, offset, reader.resolver)
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause)
    throw new WeirError(ErrorCode.DESERIALIZE_FAILED, `${origin}: Avro payload does not decode: ${msg}`, {
      cause,
    })
  }
  if (result.offset < 0) {
    throw new WeirError(
      ErrorCode.DESERIALIZE_FAILED,
      `${origin}: Avro payload is truncated (${data.length - offset} byte(s) do not hold a whole value)`,
    )
  }
  if (result.offset !== data.length) {
    throw new WeirError(
      ErrorCode.DESERIALIZE_FAILED,
      `${origin}: ${data.length - result.offset} byte(s) left over after the Avro value: wrong schema or corrupt payload`,
    )
  }
  return result.value
}

/**
 * How to read data written with `writer` as `reader` (Avro schema resolution: fields added with a
 * default, fields removed, promoted numbers...). No reader: read as written.
 */
export function readerFor(writer: Type, reader: Type | undefined, origin: string): AvroReader {
  if (reader === undefined) return { type: writer, resolver: undefined }
  if (reader.equals(writer)) return { type: reader, resolver: undefined }
  try {
    return { type: reader, resolver: reader.createResolver(writer) }
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause)
    throw new WeirError(
      ErrorCode.DESERIALIZE_FAILED,
      `${origin}: cannot be read with the reader schema: ${msg}`,
      { cause },
    )
  }
}

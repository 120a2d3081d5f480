/** Avro with a local `.avsc` file and no registry: plain Avro binary, no wire-format header. */

import type { Serde } from '../../core/serde.ts'
import { decodeBody, encodePlain } from './codec.ts'
import { type AvroTypeOptions, loadAvsc } from './schema.ts'

export interface AvroFileOptions {
  /** Path of the `.avsc` file; read once, here. */
  schemaPath: string
  typeOptions?: AvroTypeOptions
}

/**
 * Both sides must use the same schema: plain Avro binary carries no schema id to resolve against.
 * A null payload is a tombstone and stays null.
 * @example const events = avroFile<Event>({ schemaPath: 'schemas/event.avsc' })
 */
export function avroFile<T>(options: AvroFileOptions): Serde<T | null> {
  const type = loadAvsc(options.schemaPath, options.typeOptions)
  const reader = { type, resolver: undefined }
  const origin = `Avro record (${options.schemaPath})`
  return {
    name: 'avro-file',
    serialize: (value) => (value === null || value === undefined ? null : encodePlain(type, value)),
    deserialize: (data) => (data === null ? null : (decodeBody(reader, data, 0, origin) as T)),
  }
}

/**
 * Format-neutral pieces for registry-backed serdes: the schema registry client and the Confluent
 * wire format. No Avro library is loaded from here; Avro itself is `weir/avro` (./avro/index.ts).
 */

export { schemaRegistry } from './registry/client.ts'
export type {
  CompatibilityLevel,
  CompatibilityResult,
  RegistryAuth,
  RetryOptions,
  SchemaOptions,
  SchemaRegistry,
  SchemaRegistryOptions,
  SchemaType,
  StoredSchema,
  SubjectSchema,
} from './registry/client.ts'
export { MAGIC_BYTE, readWireHeader, topicNameStrategy, WIRE_HEADER_SIZE, writeWireHeader } from './wire.ts'

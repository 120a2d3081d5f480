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
export { waitForRegistry, type WaitForRegistryOptions } from './registry/wait.ts'
export { type RegistryWatch, type RegistryWatchOptions, watchRegistry } from './registry/watch.ts'
export {
  MAGIC_BYTE,
  readWireHeader,
  SUBJECT_NAME_STRATEGIES,
  type SubjectNameStrategy,
  subjectName,
  topicNameStrategy,
  WIRE_HEADER_SIZE,
  writeWireHeader,
} from './wire.ts'

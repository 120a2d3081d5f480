/**
 * `weir/avro`: Avro serdes, with a schema registry (Confluent wire format) or a local `.avsc` file.
 *
 * @example
 * import { avro, schemaRegistry } from 'weir/avro'
 * const registry = schemaRegistry({ url: process.env.SCHEMA_REGISTRY_URL! })
 * const value = avro<Order>({ registry, schema: 'schemas/order.avsc' })
 */

export { schemaRegistry } from '../registry/client.ts'
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
} from '../registry/client.ts'
export { waitForRegistry, type WaitForRegistryOptions } from '../registry/wait.ts'
export { type RegistryWatch, type RegistryWatchOptions, watchRegistry } from '../registry/watch.ts'
export { SUBJECT_NAME_STRATEGIES, type SubjectNameStrategy, subjectName, topicNameStrategy } from '../wire.ts'
export { avroFile } from './file.ts'
export type { AvroFileOptions } from './file.ts'
export { loadAvsc } from './schema.ts'
export type { AvroSchemaSource, AvroTypeOptions, AvscType } from './schema.ts'
export { avro } from './serde.ts'
export type { AvroSerdeOptions } from './serde.ts'

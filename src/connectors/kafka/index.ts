/**
 * Kafka connectors for Weir (subpath export `weir/kafka`): a consumer-group source, a batching
 * (optionally transactional) sink and topic administration, built on @platformatic/kafka.
 *
 * @example
 * import { kafkaTransport } from 'weir/kafka'
 * const kafka = kafkaTransport({ brokers: ['127.0.0.1:9092'] })
 * await kafka.admin().ensureTopics([{ name: 'rides', partitions: 3, replicationFactor: 1 }])
 */
import type { SourceOptions, Transport } from '../../connectors/contract.ts'
import { KafkaAdmin } from './admin.ts'
import { type KafkaOptions, validateKafkaOptions } from './options.ts'
import { readPartition } from './read-partition.ts'
import { KafkaSink, type KafkaSinkOptions } from './sink.ts'
import { KafkaSource } from './source.ts'

export type { OffsetMap } from './admin.ts'
export type { KafkaConsumerTuning, KafkaOptions, KafkaProducerTuning } from './options.ts'
export type { KafkaSinkOptions } from './sink.ts'
export type { GroupMetadata } from './source.ts'
export { KafkaAdmin, KafkaSink, KafkaSource, readPartition }

/** The Kafka transport, with concrete return types so callers reach the Kafka-only methods. */
export interface KafkaTransport extends Transport {
  readonly kind: 'kafka'
  readonly options: KafkaOptions
  source(options: SourceOptions): KafkaSource
  sink(options: KafkaSinkOptions): KafkaSink
  admin(): KafkaAdmin
}

/** Binds Weir's connector contract to a Kafka cluster. Options are checked here, once. */
export function kafkaTransport(options: KafkaOptions): KafkaTransport {
  validateKafkaOptions(options)
  return {
    kind: 'kafka',
    options,
    source: (o) => new KafkaSource(options, o),
    sink: (o) => new KafkaSink(options, o),
    admin: () => new KafkaAdmin(options),
    readPartition: (tp, o) => readPartition(options, tp, o),
  }
}

/**
 * What every MillionX stage shares: the seed's Kafka variables (KAFKA_BOOTSTRAP_SERVERS and the Faust
 * producer/stream settings), the topic prefix, and how a stage's settings become Weir's run options.
 *
 * Seed → Weir: FAUST_PRODUCER_ACKS (-1/all: Weir always waits for every in-sync replica, because offsets
 * are committed only once outputs are durable), FAUST_PRODUCER_COMPRESSION (the producer's codec),
 * FAUST_STREAM_BUFFER_MAXSIZE (records in flight before fetching pauses), FAUST_STREAM_WAIT_EMPTY
 * (accepted; a graceful stop always drains what is in flight before it commits).
 */
import { envBool, envEnum, envInt, envList, envString } from '../../../config/index.ts'
import type { KafkaProducerTuning } from '../../../connectors/kafka/options.ts'
import type { AppInstance, KafkaSettings } from '../../app.ts'

export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

/** The seed's shared variables; each stage adds its own. */
export const sharedEnvFields = {
  KAFKA_BOOTSTRAP_SERVERS: envList({ default: ['localhost:9092'] }),
  /** Put in front of every topic name: one cluster, several tenants (and tests). */
  TOPIC_PREFIX: envString({ default: '' }),
  TOPIC_PARTITIONS: envInt({ default: 3, min: 1, max: 1000 }),
  AUTO_OFFSET_RESET: envEnum(['earliest', 'latest'], { default: 'earliest' }),
  WEB_HOST: envString({ default: '0.0.0.0' }),
  FAUST_PRODUCER_ACKS: envString({
    default: '-1',
    pattern: /^(-1|all)$/i,
    patternDescription:
      '-1 or all (Weir commits input offsets only after outputs are on every in-sync replica, so acks 0 and 1 are not offered)',
  }),
  FAUST_PRODUCER_COMPRESSION: envEnum(COMPRESSIONS, { default: 'gzip' }),
  FAUST_STREAM_BUFFER_MAXSIZE: envInt({ default: 4096, min: 1, max: 1_000_000 }),
  FAUST_STREAM_WAIT_EMPTY: envBool({ default: true }),
}

export const sharedEnvDocs = [
  {
    name: 'KAFKA_BOOTSTRAP_SERVERS',
    default: 'localhost:9092',
    description: 'Kafka bootstrap servers, comma-separated',
  },
  {
    name: 'TOPIC_PREFIX',
    default: '',
    description: 'Prefix for every topic name the stage reads and writes',
  },
  { name: 'TOPIC_PARTITIONS', default: '3', description: 'Partitions of the topics created at start' },
  {
    name: 'AUTO_OFFSET_RESET',
    default: 'earliest',
    description: 'Where a new group starts: earliest or latest',
  },
  { name: 'WEB_HOST', default: '0.0.0.0', description: 'Bind address of the web server' },
  {
    name: 'FAUST_PRODUCER_ACKS',
    default: '-1',
    description: '-1 or all: outputs are acknowledged by every in-sync replica (0 and 1 are refused)',
  },
  {
    name: 'FAUST_PRODUCER_COMPRESSION',
    default: 'gzip',
    description: 'Producer compression: none, gzip, snappy, lz4 or zstd',
  },
  {
    name: 'FAUST_STREAM_BUFFER_MAXSIZE',
    default: '4096',
    description: 'Records in flight before fetching pauses (backpressure)',
  },
  {
    name: 'FAUST_STREAM_WAIT_EMPTY',
    default: 'true',
    description: 'Accepted for the seed; a graceful stop always drains in-flight records before committing',
  },
  { name: 'LOG_LEVEL', default: 'INFO', description: 'DEBUG, INFO, WARN or ERROR' },
] as const

export interface SharedConfig {
  readonly KAFKA_BOOTSTRAP_SERVERS: readonly string[]
  readonly TOPIC_PARTITIONS: number
  readonly AUTO_OFFSET_RESET: 'earliest' | 'latest'
  readonly FAUST_PRODUCER_COMPRESSION: (typeof COMPRESSIONS)[number]
  readonly FAUST_STREAM_BUFFER_MAXSIZE: number
}

/** Kafka settings plus the producer tuning a stage asks for (`kafkaTransportFor` passes it on). */
export interface StageKafkaSettings extends KafkaSettings {
  readonly producer: KafkaProducerTuning
}

export function stageKafka(config: SharedConfig, clientId: string): StageKafkaSettings {
  return {
    brokers: config.KAFKA_BOOTSTRAP_SERVERS,
    clientId,
    producer: { compression: config.FAUST_PRODUCER_COMPRESSION },
  }
}

export function stageRun(
  config: SharedConfig,
  ids: { groupId: string; clientId: string; deadLetterTopic: string },
): AppInstance['run'] {
  return {
    groupId: ids.groupId,
    clientId: ids.clientId,
    fromBeginning: config.AUTO_OFFSET_RESET === 'earliest',
    deadLetterTopic: ids.deadLetterTopic,
    topics: { partitions: config.TOPIC_PARTITIONS },
    maxInFlight: config.FAUST_STREAM_BUFFER_MAXSIZE,
    maxBacklog: STAGE_MAX_BACKLOG,
  }
}

/**
 * Unwritten outputs before a stage stops fetching (the runtime's default is 10,000). A stage's outputs
 * wait for gzip (FAUST_PRODUCER_COMPRESSION) and its records are larger than most, so 10,000 of them
 * held ~20 MB: draining under 256 MB the privacy shield peaked at 214 MB RSS and the enricher at 220 MB,
 * with 2,000 at 197 and 191 MB, at the same records/s (20.4k / 20.1k; BENCHMARKS.md).
 */
const STAGE_MAX_BACKLOG = 2_000

/** Seconds since start, as every stage's /metrics reports it. */
export function uptimeSeconds(): number {
  return Math.round(process.uptime() * 10) / 10
}

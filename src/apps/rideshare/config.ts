/**
 * The rideshare bridge's configuration (seed 000): every variable of the seed's table with its default,
 * plus a few of Weir's own (topic prefix, partitions, checkpoint interval). Validated once, here.
 *
 * SASL credentials are read only when KAFKA_SECURITY_PROTOCOL is SASL_PLAINTEXT or SASL_SSL (the seed's
 * default), so a PLAINTEXT deployment need not invent them. Secrets come from `<VAR>` or `<VAR>_FILE`;
 * with NODE_ENV or WEIR_ENV = production the seed's admin/admin defaults are refused.
 *
 * @example
 * const config = loadRideshareConfig({ KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', PROCESSOR_WINDOW_SIZE_MS: '200' })
 * config.PROCESSOR_WINDOW_SIZE_MS // 200
 * config.sasl // undefined
 */
import { z } from 'zod'
import {
  type Env,
  envBool,
  envEnum,
  envInt,
  envList,
  envSecret,
  envString,
  loadConfig,
  type Secret,
} from '../../config/index.ts'
import type { AppEnvVar } from '../app.ts'
import {
  BRIDGE_PAYLOADS,
  DEFAULT_PROCESSOR_TOPICS,
  isRideshareTopic,
  RIDESHARE_TOPICS,
  type RideshareTopic,
} from './domain/index.ts'

/** Values the seed ships as defaults; production refuses them. */
const SEED_SECRET = 'admin'

const processorTopics = envList({ default: [...DEFAULT_PROCESSOR_TOPICS] }).superRefine((topics, ctx) => {
  for (const t of topics) {
    if (!isRideshareTopic(t)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${t}" is not a rideshare topic (one of ${RIDESHARE_TOPICS.join(', ')})`,
      })
    }
  }
})

/** Everything but the SASL credentials. */
export const rideshareEnv = z.object({
  KAFKA_BOOTSTRAP_SERVERS: envList({ default: ['localhost:9092'] }),
  KAFKA_GROUP_ID: envString({ default: 'stream-processor' }),
  KAFKA_CLIENT_ID: envString({ default: 'stream-processor' }),
  KAFKA_AUTO_OFFSET_RESET: envEnum(['earliest', 'latest'], { default: 'latest' }),
  KAFKA_SECURITY_PROTOCOL: envEnum(['PLAINTEXT', 'SASL_PLAINTEXT', 'SSL', 'SASL_SSL'], {
    default: 'SASL_PLAINTEXT',
  }),
  /** Partitions of the topics created at start (the seed: 1). */
  KAFKA_TOPIC_PARTITIONS: envInt({ default: 1, min: 1, max: 1000 }),
  KAFKA_TOPIC_REPLICATION_FACTOR: envInt({ default: 1, min: 1, max: 32 }),
  /** In front of every Kafka topic name (tenants, tests); Redis channels keep the seed's names. */
  TOPIC_PREFIX: envString({ default: '' }),
  /** Records that cannot be read (not JSON). Prefixed like the input topics. */
  DLQ_TOPIC: envString({ default: 'stream-processor-dlq' }),
  REDIS_HOST: envString({ default: 'localhost' }),
  REDIS_PORT: envInt({ default: 6379, min: 1, max: 65535 }),
  REDIS_PASSWORD: envSecret({ default: SEED_SECRET, insecureDefaults: [SEED_SECRET] }),
  /** What a channel carries: the envelope {type, topic, key, data, timestamp}, or the payload alone. */
  REDIS_PAYLOAD: envEnum(BRIDGE_PAYLOADS, { default: 'envelope' }),
  PROCESSOR_WINDOW_SIZE_MS: envInt({ default: 100, min: 50, max: 5000 }),
  PROCESSOR_AGGREGATION_STRATEGY: envEnum(['latest', 'sample'], { default: 'latest' }),
  PROCESSOR_SAMPLE_RATE: envInt({ default: 10, min: 1, max: 1_000_000 }),
  /** The seed's EventDeduplicator window (60 s, a constructor argument there). */
  PROCESSOR_DEDUP_WINDOW_MS: envInt({ default: 60_000, min: 1000, max: 3_600_000 }),
  PROCESSOR_TOPICS: processorTopics,
  /** Weir beyond the seed: keep the `driver-position` store (GET /state/driver-position/<id>). */
  PROCESSOR_DRIVER_POSITION: envBool({ default: false }),
  /**
   * How often Redis is flushed and offsets committed. Pass-through events and closed GPS windows reach
   * Redis at the latest one interval after they are ready (sooner when 1,000 are waiting).
   */
  PROCESSOR_CHECKPOINT_INTERVAL_MS: envInt({ default: 100, min: 10, max: 60_000 }),
  API_HOST: envString({ default: '0.0.0.0' }),
  API_PORT: envInt({ default: 8080, min: 0, max: 65535 }),
  LOG_LEVEL: envEnum(['DEBUG', 'INFO', 'WARNING', 'WARN', 'ERROR'], { default: 'INFO' }),
})

/** Read only for SASL_PLAINTEXT and SASL_SSL. */
export const rideshareSaslEnv = z.object({
  KAFKA_SASL_MECHANISM: envEnum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], { default: 'PLAIN' }),
  KAFKA_SASL_USERNAME: envSecret({ default: SEED_SECRET }),
  KAFKA_SASL_PASSWORD: envSecret({ default: SEED_SECRET, insecureDefaults: [SEED_SECRET] }),
})

export type RideshareEnv = z.output<typeof rideshareEnv>

export interface RideshareConfig extends Omit<RideshareEnv, 'PROCESSOR_TOPICS'> {
  /** Without duplicates, in the order given. */
  readonly PROCESSOR_TOPICS: readonly RideshareTopic[]
  readonly sasl:
    | {
        readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
        readonly username: Secret
        readonly password: Secret
      }
    | undefined
  readonly tls: boolean
}

/** Parses the environment; throws one CONFIG_INVALID error naming every bad variable. */
export function loadRideshareConfig(env: Env): RideshareConfig {
  // The protocol decides whether the SASL variables are read at all; a bad one is reported below.
  const protocol = rideshareEnv.shape.KAFKA_SECURITY_PROTOCOL.safeParse(env.KAFKA_SECURITY_PROTOCOL).data
  const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL'
  if (!usesSasl) {
    const c = loadConfig(rideshareEnv, env)
    return finish(c, undefined)
  }
  const c = loadConfig(rideshareEnv.extend(rideshareSaslEnv.shape), env)
  return finish(c, {
    mechanism: c.KAFKA_SASL_MECHANISM,
    username: c.KAFKA_SASL_USERNAME,
    password: c.KAFKA_SASL_PASSWORD,
  })
}

function finish(base: RideshareEnv, sasl: RideshareConfig['sasl']): RideshareConfig {
  const protocol = base.KAFKA_SECURITY_PROTOCOL
  return {
    ...base,
    PROCESSOR_TOPICS: [...new Set(base.PROCESSOR_TOPICS)] as RideshareTopic[],
    sasl,
    tls: protocol === 'SSL' || protocol === 'SASL_SSL',
  }
}

/** The seed's table (and Weir's additions) for `weir run rideshare --help` and the README. */
export const RIDESHARE_ENV_DOCS: readonly AppEnvVar[] = [
  {
    name: 'KAFKA_BOOTSTRAP_SERVERS',
    default: 'localhost:9092',
    description: 'Kafka broker endpoints, comma-separated',
  },
  { name: 'KAFKA_GROUP_ID', default: 'stream-processor', description: 'Consumer group identifier' },
  {
    name: 'KAFKA_AUTO_OFFSET_RESET',
    default: 'latest',
    description: 'Where a new group starts: earliest or latest',
  },
  {
    name: 'KAFKA_SECURITY_PROTOCOL',
    default: 'SASL_PLAINTEXT',
    description: 'PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL',
  },
  {
    name: 'KAFKA_SASL_MECHANISM',
    default: 'PLAIN',
    description: 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (SASL_* only)',
  },
  {
    name: 'KAFKA_SASL_USERNAME',
    default: 'admin',
    description: 'Kafka SASL username (or KAFKA_SASL_USERNAME_FILE)',
  },
  {
    name: 'KAFKA_SASL_PASSWORD',
    default: 'admin',
    description: 'Kafka SASL password (or KAFKA_SASL_PASSWORD_FILE)',
  },
  { name: 'KAFKA_CLIENT_ID', default: 'stream-processor', description: 'Kafka client id' },
  {
    name: 'KAFKA_TOPIC_PARTITIONS',
    default: '1',
    description: 'Partitions of topics created at start',
    seedName: 'ensure_topics_exist (fixed: 1)',
  },
  {
    name: 'KAFKA_TOPIC_REPLICATION_FACTOR',
    default: '1',
    description: 'Replication factor of topics created at start',
    seedName: 'ensure_topics_exist (fixed: 1)',
  },
  {
    name: 'TOPIC_PREFIX',
    default: '',
    description: 'Prefix of every Kafka topic name (channels keep theirs)',
  },
  {
    name: 'DLQ_TOPIC',
    default: 'stream-processor-dlq',
    description: 'Unreadable records (original bytes + reason)',
  },
  { name: 'REDIS_HOST', default: 'localhost', description: 'Redis server hostname' },
  { name: 'REDIS_PORT', default: '6379', description: 'Redis server port' },
  { name: 'REDIS_PASSWORD', default: 'admin', description: 'Redis AUTH password (or REDIS_PASSWORD_FILE)' },
  {
    name: 'REDIS_PAYLOAD',
    default: 'envelope',
    description:
      'envelope: {type, topic, key, data, timestamp} with the payload in data; raw: the payload alone',
  },
  { name: 'PROCESSOR_WINDOW_SIZE_MS', default: '100', description: 'GPS aggregation window in ms (50-5000)' },
  { name: 'PROCESSOR_AGGREGATION_STRATEGY', default: 'latest', description: 'latest or sample' },
  { name: 'PROCESSOR_SAMPLE_RATE', default: '10', description: 'sample: keep every Nth ping per driver' },
  {
    name: 'PROCESSOR_DEDUP_WINDOW_MS',
    default: '60000',
    description: 'How long a topic:partition:offset is remembered to drop a re-delivery',
    seedName: 'EventDeduplicator.__init__ window (60 s)',
  },
  {
    name: 'PROCESSOR_TOPICS',
    default: DEFAULT_PROCESSOR_TOPICS.join(','),
    description: `Topics to consume, comma-separated (of ${RIDESHARE_TOPICS.join(', ')})`,
  },
  {
    name: 'PROCESSOR_DRIVER_POSITION',
    default: 'false',
    description:
      'Keep the last position and status per driver (from gps_pings and driver_status) as the durable store driver-position: GET /state/driver-position/<driver_id> on API_PORT. Off by default: its changelog costs ~2.5x CPU per ping and ~50 MB at 100k drivers, past the seed\'s 256 MB container',
  },
  {
    name: 'PROCESSOR_CHECKPOINT_INTERVAL_MS',
    default: '100',
    description: 'How often Redis is flushed and offsets committed',
  },
  { name: 'API_HOST', default: '0.0.0.0', description: 'HTTP API bind address' },
  { name: 'API_PORT', default: '8080', description: 'HTTP API port' },
  {
    name: 'OPS_MAP_TILES_URL',
    description: 'Map tiles under the live map ({z}/{x}/{y} URL template, e.g. a tile server inside the network); unset: none',
  },
  { name: 'LOG_LEVEL', default: 'INFO', description: 'DEBUG, INFO, WARNING or ERROR' },
]

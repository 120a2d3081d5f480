/**
 * StreamPulse's configuration (seed 003): the seed's `.env` (KAFKA_BOOTSTRAP_SERVERS, KAFKA_USERNAME,
 * KAFKA_PASSWORD, PG_HOST, PG_DATABASE, PG_USER, PG_PASSWORD) and what its Flink job fixed in code
 * (topic content-downloads, 1-minute windows, 5 minutes of allowed lateness, parallelism 1, sslmode
 * require), each overridable. Validated once, here; secrets also from `<VAR>_FILE`, never logged.
 *
 * @example
 * const c = loadStreamPulseConfig({ PG_HOST: 'db', PG_SSLMODE: 'disable' })
 * c.WINDOW_SIZE // 60000
 * c.kafka.sasl // undefined (no KAFKA_USERNAME)
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import {
  type Env,
  envDuration,
  envEnum,
  envInt,
  envList,
  envSecret,
  envString,
  envUrl,
  loadConfig,
  type Secret,
} from '../../config/index.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { KafkaSettings } from '../app.ts'

/** The seed loads `../schemas/event.avsc`; the package ships it at the same place. */
export const DEFAULT_SCHEMA_PATH = fileURLToPath(new URL('../../../schemas/event.avsc', import.meta.url))

export const streamPulseEnv = z.object({
  KAFKA_BOOTSTRAP_SERVERS: envList({ default: ['localhost:9092'] }),
  KAFKA_USERNAME: envSecret({ optional: true }),
  KAFKA_PASSWORD: envSecret({ optional: true }),
  /** Upstash and most hosted Kafka use SCRAM-SHA-256. */
  KAFKA_SASL_MECHANISM: envEnum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], { default: 'SCRAM-SHA-256' }),
  /** Default: SASL_SSL with KAFKA_USERNAME set (hosted Kafka), PLAINTEXT without. */
  KAFKA_SECURITY_PROTOCOL: envEnum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'], { optional: true }),
  KAFKA_TOPIC: envString({ default: 'content-downloads' }),
  KAFKA_GROUP_ID: envString({ default: 'streampulse-processor' }),
  KAFKA_CLIENT_ID: envString({ default: 'streampulse-processor' }),
  KAFKA_AUTO_OFFSET_RESET: envEnum(['earliest', 'latest'], { default: 'earliest' }),
  DLQ_TOPIC: envString({ default: 'content-downloads-dlq' }),
  /** Partitions of the topics created at start: how many instances can share the work (Flink's parallelism). */
  PARALLELISM: envInt({ default: 1, min: 1, max: 1000 }),
  SCHEMA_REGISTRY_URL: envUrl({ optional: true }),
  SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: envSecret({ optional: true }),
  AVRO_SCHEMA_PATH: envString({ default: DEFAULT_SCHEMA_PATH }),
  PG_HOST: envString({ default: 'localhost' }),
  PG_PORT: envInt({ default: 5432, min: 1, max: 65535 }),
  PG_DATABASE: envString({ default: 'streampulse' }),
  PG_USER: envString({ default: 'postgres' }),
  PG_PASSWORD: envSecret({ optional: true }),
  PG_SSLMODE: envEnum(['disable', 'require', 'verify-full'], { default: 'require' }),
  /** CA certificate (PEM file) that verify-full checks the server against; default: the system's CAs. */
  PG_SSLROOTCERT: envString({ optional: true }),
  WINDOW_SIZE: envDuration({ default: 60_000, min: 1000 }),
  ALLOWED_LATENESS: envDuration({ default: 300_000, min: 0 }),
  /** A progress line ("Processed N events | Flushed M windows") every this many events, at most once a second. */
  LOG_EVERY_EVENTS: envInt({ default: 50, min: 1 }),
  HEALTH_HOST: envString({ default: '0.0.0.0' }),
  /** Flink's Prometheus reporter port. */
  HEALTH_PORT: envInt({ default: 9249, min: 0, max: 65535 }),
})

type StreamPulseEnv = z.output<typeof streamPulseEnv>

export interface StreamPulseConfig extends StreamPulseEnv {
  readonly kafka: KafkaSettings
  /** node-postgres' `ssl` option for PG_SSLMODE (the host name checked is PG_HOST's). */
  readonly pgSsl:
    | false
    | { readonly rejectUnauthorized: boolean; readonly ca?: string; readonly servername?: string }
}

export function loadStreamPulseConfig(
  env: Env,
  readFile: (path: string) => string = readText,
): StreamPulseConfig {
  const c = loadConfig(streamPulseEnv, env)
  const ssl = pgSsl(c, readFile)
  // SNI takes a name, never an address (RFC 6066); the certificate check still compares the address.
  return {
    ...c,
    kafka: kafkaSettings(c),
    pgSsl: ssl === false || isIP(c.PG_HOST) !== 0 ? ssl : { ...ssl, servername: c.PG_HOST },
  }
}

function kafkaSettings(c: StreamPulseEnv): KafkaSettings {
  const protocol = c.KAFKA_SECURITY_PROTOCOL ?? (c.KAFKA_USERNAME === undefined ? 'PLAINTEXT' : 'SASL_SSL')
  const base = {
    brokers: c.KAFKA_BOOTSTRAP_SERVERS,
    clientId: c.KAFKA_CLIENT_ID,
    tls: protocol.endsWith('SSL'),
  }
  if (!protocol.startsWith('SASL')) return base
  const missing = (['KAFKA_USERNAME', 'KAFKA_PASSWORD'] as const).filter((k) => c[k] === undefined)
  if (missing.length > 0) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `${missing.join(' and ')}: required with KAFKA_SECURITY_PROTOCOL=${protocol} (or set it to PLAINTEXT/SSL), not set`,
    )
  }
  return {
    ...base,
    sasl: {
      mechanism: c.KAFKA_SASL_MECHANISM,
      username: (c.KAFKA_USERNAME as Secret).reveal(),
      password: (c.KAFKA_PASSWORD as Secret).reveal(),
    },
  }
}

/** libpq's sslmode: `require` encrypts without checking the certificate; `verify-full` checks it and the host name. */
function pgSsl(c: StreamPulseEnv, readFile: (path: string) => string): StreamPulseConfig['pgSsl'] {
  if (c.PG_SSLMODE === 'disable') return false
  if (c.PG_SSLMODE === 'require') return { rejectUnauthorized: false }
  if (c.PG_SSLROOTCERT === undefined) return { rejectUnauthorized: true }
  try {
    return { rejectUnauthorized: true, ca: readFile(c.PG_SSLROOTCERT) }
  } catch (err) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `PG_SSLROOTCERT: a readable PEM file, got ${c.PG_SSLROOTCERT} (${(err as Error).message})`,
    )
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8')
}

export const STREAMPULSE_ENV_DOCS: ReadonlyArray<{ name: string; default?: string; description: string }> = [
  {
    name: 'KAFKA_BOOTSTRAP_SERVERS',
    default: 'localhost:9092',
    description: 'Kafka bootstrap servers, comma-separated',
  },
  { name: 'KAFKA_USERNAME', description: 'SASL user (Upstash); setting it turns SASL on (or _FILE)' },
  { name: 'KAFKA_PASSWORD', description: 'SASL password (or a file path in _FILE); never logged' },
  {
    name: 'KAFKA_SASL_MECHANISM',
    default: 'SCRAM-SHA-256',
    description: 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
  },
  {
    name: 'KAFKA_SECURITY_PROTOCOL',
    description:
      'PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; default SASL_SSL when KAFKA_USERNAME is set, else PLAINTEXT',
  },
  { name: 'KAFKA_TOPIC', default: 'content-downloads', description: 'Avro download events' },
  {
    name: 'KAFKA_GROUP_ID',
    default: 'streampulse-processor',
    description: 'Consumer group (and prefix of the window changelog topics)',
  },
  { name: 'KAFKA_CLIENT_ID', default: 'streampulse-processor', description: 'Client id' },
  {
    name: 'KAFKA_AUTO_OFFSET_RESET',
    default: 'earliest',
    description: 'Where a new group starts: earliest or latest',
  },
  {
    name: 'DLQ_TOPIC',
    default: 'content-downloads-dlq',
    description: 'Unreadable, invalid and late events; rows PostgreSQL refuses',
  },
  {
    name: 'PARALLELISM',
    default: '1',
    description: 'Partitions of topics created at start (instances that can share the work)',
  },
  {
    name: 'SCHEMA_REGISTRY_URL',
    description:
      'Confluent-compatible registry: read the Confluent wire format; unset: plain Avro with AVRO_SCHEMA_PATH',
  },
  { name: 'SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO', description: 'user:password for the registry (or _FILE)' },
  {
    name: 'AVRO_SCHEMA_PATH',
    default: 'schemas/event.avsc',
    description: 'The event schema (reading schema with a registry)',
  },
  { name: 'PG_HOST', default: 'localhost', description: 'PostgreSQL host' },
  { name: 'PG_PORT', default: '5432', description: 'PostgreSQL port' },
  { name: 'PG_DATABASE', default: 'streampulse', description: 'Database' },
  { name: 'PG_USER', default: 'postgres', description: 'User' },
  { name: 'PG_PASSWORD', description: 'Password (or _FILE); never logged' },
  {
    name: 'PG_SSLMODE',
    default: 'require',
    description: 'disable, require (encrypted) or verify-full (certificate and host name checked)',
  },
  { name: 'PG_SSLROOTCERT', description: 'CA certificate file for verify-full (default: system CAs)' },
  { name: 'WINDOW_SIZE', default: '1m', description: 'Tumbling window size on event time' },
  {
    name: 'ALLOWED_LATENESS',
    default: '5m',
    description: 'How late an event may be and still update its window',
  },
  {
    name: 'LOG_EVERY_EVENTS',
    default: '50',
    description: 'Progress line every N events (at most one a second)',
  },
  { name: 'HEALTH_PORT', default: '9249', description: 'Port of /health, /metrics and the dashboard' },
  { name: 'HEALTH_HOST', default: '0.0.0.0', description: 'Bind address of the ops server' },
]

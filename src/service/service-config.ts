import { z } from 'zod'
import { type AppEnvVar, KAFKA_COMPRESSIONS, type KafkaCompression } from '../apps/app.ts'
import { envEnum, envInt, envString, loadConfig } from '../config/index.ts'
import { parseLogLevel } from '../log/logger.ts'
import { OPS_ACCESS_ENV_DOCS } from '../ops/auth.ts'
import type { Processing } from '../runtime/commit.ts'

/** What `weir describe` lists for the variables every app takes besides its own. */
export const serviceEnvDocs: readonly AppEnvVar[] = [
  {
    name: 'PROCESSING_GUARANTEE',
    default: 'at_least_once',
    description:
      'at_least_once, or exactly_once (= exactly_once_v2): outputs and offsets in one Kafka transaction',
  },
  {
    name: 'COMMIT_INTERVAL_MS',
    default: '1000 (at_least_once), 100 (exactly_once)',
    description:
      "How often offsets are committed (Kafka Streams' commit.interval.ms). At-least-once: a crash re-reads at most about this much input, so outputs may repeat; shorter means fewer repeats and more commits",
  },
  {
    name: 'KAFKA_GROUP_INSTANCE_ID',
    default: '$HOSTNAME in a Kubernetes pod, else off',
    description:
      'Static group membership (group.instance.id, alias GROUP_INSTANCE_ID): a restarted instance with the same id gets its partitions back at once, with no rebalance. Unique per instance; "off" disables it',
  },
  {
    name: 'APPLICATION_SERVER',
    default: 'the ops server host:port (the machine name when it listens on every interface)',
    description:
      "Interactive queries across instances (Kafka Streams' application.server): the host:port other instances reach this one's /state routes at, advertised in the consumer group's member metadata. A query for a key another instance owns is forwarded there",
  },
  {
    name: 'KAFKA_PRODUCER_COMPRESSION',
    default: 'none',
    description: `Compression of every record the app produces: ${KAFKA_COMPRESSIONS.join(', ')}`,
  },
  {
    name: 'KAFKA_PRODUCER_COMPRESSION_LEVEL',
    default: "the codec's (gzip 6, zstd 3)",
    description:
      "Compression level (Kafka's compression.gzip.level / compression.zstd.level): gzip 1–9, zstd 1–22. gzip 1 takes about half the CPU of 6 for ~20 % more bytes",
  },
  {
    name: 'LOG_LEVEL',
    default: 'INFO',
    description: 'DEBUG, INFO, WARN/WARNING or ERROR (JSON lines on stderr)',
  },
  ...OPS_ACCESS_ENV_DOCS,
]

const instanceId = envString({
  optional: true,
  pattern: /^[A-Za-z0-9._-]{1,200}$/,
  patternDescription: 'letters, digits, ".", "_" or "-" (at most 200), or "off"',
})

/** Settings every app takes besides its own. */
const serviceEnv = z.object({
  PROCESSING_GUARANTEE: envEnum(['at_least_once', 'exactly_once', 'exactly_once_v2'], { optional: true }),
  COMMIT_INTERVAL_MS: envInt({ optional: true, min: 10, max: 600_000 }),
  KAFKA_GROUP_INSTANCE_ID: instanceId,
  GROUP_INSTANCE_ID: instanceId,
  APPLICATION_SERVER: envString({
    optional: true,
    pattern: /^[A-Za-z0-9._-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/,
    patternDescription: 'host:port (e.g. weir-0.weir:3001)',
  }),
})

export interface ServiceConfig {
  readonly processing?: Processing
  readonly checkpointIntervalMs?: number
  readonly groupInstanceId?: string
  /** APPLICATION_SERVER; unset: the service derives it from its ops address. */
  readonly applicationServer?: string
}

/**
 * Reads the service-wide variables. The group instance id defaults to `HOSTNAME` only in a Kubernetes
 * pod (KUBERNETES_SERVICE_HOST set): there it is the pod name, which a restarted container keeps. Any
 * other HOSTNAME may be shared by several instances (processes in one container, a CI job), and two
 * live members with one instance id fence each other; set the variable explicitly there.
 */
export function serviceConfig(env: Readonly<Record<string, string | undefined>>): ServiceConfig {
  const c = loadConfig(serviceEnv, env)
  const explicit = c.KAFKA_GROUP_INSTANCE_ID ?? c.GROUP_INSTANCE_ID
  const host = env.KUBERNETES_SERVICE_HOST ? env.HOSTNAME?.trim() : undefined
  const fromHost = host !== undefined && /^[A-Za-z0-9._-]{1,200}$/.test(host) ? host : undefined
  const groupInstanceId = explicit === 'off' ? undefined : (explicit ?? fromHost)
  return {
    ...(c.PROCESSING_GUARANTEE === undefined
      ? {}
      : { processing: c.PROCESSING_GUARANTEE === 'at_least_once' ? 'at-least-once' : 'exactly-once' }),
    ...(c.COMMIT_INTERVAL_MS === undefined ? {} : { checkpointIntervalMs: c.COMMIT_INTERVAL_MS }),
    ...(groupInstanceId === undefined ? {} : { groupInstanceId }),
    ...(c.APPLICATION_SERVER === undefined ? {} : { applicationServer: c.APPLICATION_SERVER }),
  }
}

/**
 * The producer's `compression.type` and the log level, every app's too (checked here, so a typo names
 * LOG_LEVEL instead of logging at INFO silently). Apart from serviceConfig: these are not run options.
 */
const outputEnv = z.object({
  KAFKA_PRODUCER_COMPRESSION: envEnum(KAFKA_COMPRESSIONS, { optional: true }),
  KAFKA_PRODUCER_COMPRESSION_LEVEL: envInt({ optional: true, min: 1, max: 22 }),
  LOG_LEVEL: envEnum(['DEBUG', 'INFO', 'WARNING', 'WARN', 'ERROR'], { optional: true }),
})

export function outputConfig(env: Readonly<Record<string, string | undefined>>): {
  readonly compression?: KafkaCompression
  readonly compressionLevel?: number
  readonly logLevel?: ReturnType<typeof parseLogLevel>
} {
  const c = loadConfig(outputEnv, env)
  return {
    ...(c.KAFKA_PRODUCER_COMPRESSION === undefined ? {} : { compression: c.KAFKA_PRODUCER_COMPRESSION }),
    ...(c.KAFKA_PRODUCER_COMPRESSION_LEVEL === undefined
      ? {}
      : { compressionLevel: c.KAFKA_PRODUCER_COMPRESSION_LEVEL }),
    logLevel: parseLogLevel(c.LOG_LEVEL),
  }
}

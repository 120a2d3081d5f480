import type { ConnectorStatus, Sink, Transport } from '../connectors/contract.ts'
import type { Clock } from '../core/clock.ts'
import type { MetricsRegistry } from '../core/metrics.ts'
import type { Pipeline } from '../dsl/stream.ts'
import type { Logger } from '../log/logger.ts'
import type { DashboardView } from '../ops/dashboard/view.ts'
import type { OpsRoute } from '../ops/router.ts'
import type { RunningPipeline, RunOptions } from '../runtime/runner.ts'

/** What an app is given when it is created. */
export interface AppContext {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly logger: Logger
  readonly metrics: MetricsRegistry
  readonly clock: Clock
}

/** Kafka connection settings an app read from its env vars. */
export interface KafkaSettings {
  readonly brokers: readonly string[]
  readonly clientId?: string
  readonly sasl?: {
    readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
    readonly username: string
    readonly password: string
  }
  readonly tls?: boolean
  /**
   * Producer compression. The service fills it from KAFKA_PRODUCER_COMPRESSION when the app leaves it
   * unset; an app sets it itself from its seed's own variable (e.g. FAUST_PRODUCER_COMPRESSION).
   */
  readonly compression?: KafkaCompression
  /** Its level (gzip 1–9, zstd 1–22); the service fills it from KAFKA_PRODUCER_COMPRESSION_LEVEL. */
  readonly compressionLevel?: number
}

export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number]

/** One record a generator makes; the caller serializes `value` as JSON. */
export interface GeneratedRecord {
  readonly topic: string
  readonly key: string | null
  readonly value: unknown
  readonly timestamp?: number
}

export interface AppGenerator {
  next(): GeneratedRecord
  /**
   * How `weir produce` writes a generated value. Default: JSON (a Buffer value as it is). May be async
   * the first time (Avro registering its schema), then synchronous.
   */
  encode?(record: GeneratedRecord): Buffer | null | Promise<Buffer | null>
}

/** A created app: its pipeline and how to run and observe it. */
export interface AppInstance {
  readonly pipeline: Pipeline
  readonly kafka: KafkaSettings
  /** The ops server's address; `portVariable` names the env var that set the port, for errors. */
  readonly http: { readonly host: string; readonly port: number; readonly portVariable?: string }
  /** Run settings (group, offsets reset, topic partitions, dead-letter topic, …). */
  readonly run: Omit<RunOptions, 'transport' | 'metrics' | 'logger' | 'clock'>
  /** The app's own /metrics JSON (seed apps keep their documented shape). */
  metricsJson?(running: RunningPipeline): unknown
  /** Fields the seed's /health carries besides Weir's (e.g. seed 001's `messagesProcessed`). */
  healthJson?(running: RunningPipeline): Readonly<Record<string, unknown>>
  /** Connections besides Kafka that /health reports (redis, postgres, registry). */
  components?(running: RunningPipeline): Readonly<Record<string, ConnectorStatus>>
  /**
   * Test data shaped by this instance's config (its topics, its value format), which `weir produce`
   * prefers to the app's own `generator`.
   */
  generator?(options: GeneratorOptions): AppGenerator
  /** Extra routes on the app's HTTP port (e.g. the embedding service's GET /search). */
  readonly routes?: readonly OpsRoute[]
  /** External sinks the app owns, closed after the pipeline. */
  readonly sinks?: ReadonlyArray<Sink<unknown>>
  close?(): Promise<void>
  /** Tabs the app adds to its dashboard (a live map, windows per sensor, …), each with its data routes. */
  readonly views?: readonly DashboardView[]
}

export interface GeneratorOptions {
  readonly seed?: number
  readonly invalidShare?: number
  readonly [option: string]: unknown
}

/** One variable an app reads, as `weir describe` lists it. */
export interface AppEnvVar {
  readonly name: string
  readonly default?: string
  readonly description: string
  /**
   * What the seed system calls this setting, when that differs from `name`: its env var, or the
   * setting in its code where it had no variable (`weir describe` prints it so a user can map theirs).
   */
  readonly seedName?: string
}

/** A bundled app: `weir run <name>`, `weir produce <name>`. */
export interface WeirApp {
  readonly name: string
  readonly description: string
  /** Env vars the app reads, with defaults, for `weir describe <app>` and the README. */
  readonly env: ReadonlyArray<AppEnvVar>
  create(ctx: AppContext): AppInstance | Promise<AppInstance>
  generator?(options: GeneratorOptions): AppGenerator
  /** Input topics to create (with partitions) before producing test data. */
  readonly inputTopics?: ReadonlyArray<{ readonly name: string; readonly partitions: number }>
  /** Its records carry personal data: the dashboard hides dead-letter values unless OPS_SHOW_VALUES=true. */
  readonly personalData?: boolean
}

export type TransportFactory = (kafka: KafkaSettings) => Transport

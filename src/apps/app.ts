import type { Sink, Transport } from '../connectors/contract.ts'
import type { Clock } from '../core/clock.ts'
import type { MetricsRegistry } from '../core/metrics.ts'
import type { Pipeline } from '../dsl/stream.ts'
import type { Logger } from '../log/logger.ts'
import type { ConnectorStatus } from '../connectors/contract.ts'
import type { RunOptions, RunningPipeline } from '../runtime/runner.ts'

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
  readonly sasl?: { readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; readonly username: string; readonly password: string }
  readonly tls?: boolean
}

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
  /** Connections besides Kafka that /health reports (redis, postgres, registry). */
  components?(running: RunningPipeline): Readonly<Record<string, ConnectorStatus>>
  /**
   * Test data shaped by this instance's config (its topics, its value format), which `weir produce`
   * prefers to the app's own `generator`.
   */
  generator?(options: GeneratorOptions): AppGenerator
  /** External sinks the app owns, closed after the pipeline. */
  readonly sinks?: ReadonlyArray<Sink<unknown>>
  close?(): Promise<void>
}

export interface GeneratorOptions {
  readonly seed?: number
  readonly invalidShare?: number
  readonly [option: string]: unknown
}

/** A bundled app: `weir run <name>`, `weir produce <name>`. */
export interface WeirApp {
  readonly name: string
  readonly description: string
  /** Env vars the app reads, with defaults, for `weir run <app> --help` and the README. */
  readonly env: ReadonlyArray<{ readonly name: string; readonly default?: string; readonly description: string }>
  create(ctx: AppContext): AppInstance | Promise<AppInstance>
  generator?(options: GeneratorOptions): AppGenerator
  /** Input topics to create (with partitions) before producing test data. */
  readonly inputTopics?: ReadonlyArray<{ readonly name: string; readonly partitions: number }>
}

export type TransportFactory = (kafka: KafkaSettings) => Transport

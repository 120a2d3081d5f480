import type { ConnectorStatus, Transport } from '../connectors/contract.ts'
import { systemClock, type Clock } from '../core/clock.ts'
import { createLogger, type Logger, parseLogLevel } from '../log/logger.ts'
import { createHealthCheck, createOpsServer, createMetrics, rateOf, latencyMs, type Metrics, type OpsAddress, type OpsServer } from '../ops/index.ts'
import { stateRoutes } from '../ops/state.ts'
import type { Processing } from '../runtime/commit.ts'
import { run, type RunningPipeline } from '../runtime/runner.ts'
import { type AppEnvVar, type AppInstance, KAFKA_COMPRESSIONS, type KafkaCompression, type KafkaSettings, type WeirApp } from '../apps/app.ts'
import { describeConfig, envEnum, loadConfig } from '../config/index.ts'
import { z } from 'zod'
import { OPS_ACCESS_ENV_DOCS, opsAccessFromEnv } from '../ops/auth.ts'
import { serviceDashboard } from './dashboard.ts'

export interface ServiceOptions {
  /** Builds the transport from the app's Kafka settings (Kafka for `weir run`, in-process for the demo). */
  readonly transport: (kafka: KafkaSettings) => Transport
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly logger?: Logger
  readonly clock?: Clock
  /** Stop on SIGTERM/SIGINT and exit. Default true. */
  readonly handleSignals?: boolean
  /** Overrides the app's HTTP host/port (port 0 picks a free one); false: no HTTP server. */
  readonly http?: false | { readonly host?: string; readonly port?: number }
}

export interface RunningService {
  readonly app: AppInstance
  readonly running: RunningPipeline
  readonly metrics: Metrics
  readonly ops: OpsServer | undefined
  readonly address: OpsAddress | undefined
  /** Components /health reports, the transport (`kafka`, or `in_process` in the demo) first. */
  components(): Readonly<Record<string, ConnectorStatus>>
  stop(reason?: string): Promise<void>
}

/**
 * Runs an app as a service: the pipeline, /health, /metrics (JSON and Prometheus), the dashboard,
 * and a graceful stop on SIGTERM/SIGINT (stop fetching, drain, flush, commit, close, exit 0).
 */
export async function startService(app: WeirApp, options: ServiceOptions): Promise<RunningService> {
  const env = options.env ?? process.env
  const { processing, compression, logLevel } = serviceConfig(env)
  const logger = options.logger ?? createLogger({ level: logLevel })
  const clock = options.clock ?? systemClock
  const metrics = createMetrics()
  const access = opsAccessFromEnv(env, app)
  const instance = await app.create({ env, logger, metrics, clock })
  // The app's own variable (a seed's name for it) wins over the shared one.
  const kafka: KafkaSettings = { ...instance.kafka, compression: instance.kafka.compression ?? compression }
  logger.info('starting', { app: app.name, kafka: describeConfig(kafka), http: instance.http })
  const transport = options.transport(kafka)
  const running = await run(instance.pipeline, {
    ...instance.run,
    ...(processing === undefined ? {} : { processing }),
    transport,
    metrics,
    logger,
    clock,
  })

  // /health names the transport for what it is: `kafka_connected` on Kafka, `in_process_connected` in
  // the demo (which has no Kafka to be connected to).
  const transportName = transport.kind === 'memory' ? 'in_process' : 'kafka'
  const components = (): Record<string, ConnectorStatus> => {
    const s = running.status()
    const status: ConnectorStatus = s.source.connected && s.producer.connected
      ? { connected: true }
      : { connected: false, message: s.source.message ?? s.producer.message }
    return { [transportName]: status, ...instance.components?.(running) }
  }
  const connections = createHealthCheck({ components, clock, essential: [transportName] })
  // Weir's fields, then what the app's seed also reported there (seed 001: messagesProcessed).
  const health = () => ({ ...connections(), ...instance.healthJson?.(running) })

  const defaultRates = {
    consumed: rateOf(running.task.metrics.consumed, { clock }),
    produced: rateOf(running.task.metrics.produced, { clock }),
  }

  let ops: OpsServer | undefined
  let address: OpsAddress | undefined
  if (options.http !== false) {
    ops = createOpsServer({
      host: options.http?.host ?? instance.http.host,
      port: options.http?.port ?? instance.http.port,
      title: `Weir · ${app.name}`,
      logger,
      health,
      metricsJson: () => instance.metricsJson?.(running) ?? defaultMetricsJson(running, metrics, defaultRates),
      prometheus: () => metrics.prometheus(),
      // Interactive queries (GET /state/…) on every app: its tables and named aggregates.
      routes: [...(instance.routes ?? []), ...stateRoutes(() => running.stores())],
      auth: access.auth,
      dashboard: serviceDashboard({ instance, running: () => running, metrics, transport, showValues: access.showValues }),
    })
    address = await ops.start()
    logger.info('ops server listening', { url: address.url })
  }

  let stopping: Promise<void> | undefined
  const stop = (reason = 'requested') => {
    stopping ??= (async () => {
      await running.stop(reason)
      for (const sink of instance.sinks ?? []) await sink.close().catch(() => {})
      await instance.close?.()
      await ops?.close()
    })()
    return stopping
  }

  if (options.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info('signal received, stopping gracefully', { signal })
      void stop(signal).then(
        () => process.exit(running.status().state === 'failed' ? 1 : 0),
        (err: unknown) => {
          logger.error('stop failed', { error: err })
          process.exit(1)
        },
      )
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
  }
  running.done.catch(async (err: unknown) => {
    logger.error('pipeline failed', { error: err })
    await stop('failure')
    if (options.handleSignals ?? true) process.exit(1)
  })

  return { app: instance, running, metrics, ops, address, components, stop }
}

/** The /metrics JSON of an app that does not define its own. */
export function defaultMetricsJson(
  running: RunningPipeline,
  metrics: Metrics,
  rates: { consumed: { perSecond(): number }; produced: { perSecond(): number } },
): unknown {
  const m = running.task.metrics
  const status = running.status()
  const snap = metrics.snapshot()
  return {
    state: status.state,
    records_consumed_total: m.consumed.total(),
    records_produced_total: m.produced.total(),
    records_dead_lettered_total: m.deadLettered.total(),
    processing_errors_total: m.errors.total(),
    records_consumed_per_sec: round(rates.consumed.perSecond()),
    records_produced_per_sec: round(rates.produced.perSecond()),
    record_latency: latencyMs(m.recordLatency.summary()),
    consumed_by_topic: snap.weir_records_consumed_total,
    produced_by_topic: snap.weir_records_produced_total,
    dead_lettered_by_topic: snap.weir_records_dead_lettered_total,
    errors_by_stage: snap.weir_processing_errors_total,
    stage_latency_seconds: snap.weir_stage_latency_seconds,
    consumer_lag: Object.fromEntries(running.lag()),
    checkpoint_error: status.checkpointError ?? null,
    last_checkpoint_at: status.lastCheckpointAt ? new Date(status.lastCheckpointAt).toISOString() : null,
    process: snap.process,
    uptime_seconds: Math.round(process.uptime() * 10) / 10,
    timestamp: Date.now() / 1000,
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}

/** What `weir describe` lists for the variables every app takes besides its own. */
export const serviceEnvDocs: readonly AppEnvVar[] = [
  {
    name: 'PROCESSING_GUARANTEE',
    default: 'at_least_once',
    description: 'at_least_once, or exactly_once (= exactly_once_v2): outputs and offsets in one Kafka transaction',
  },
  {
    name: 'KAFKA_PRODUCER_COMPRESSION',
    default: 'none',
    description: `Compression of every record the app produces: ${KAFKA_COMPRESSIONS.join(', ')}`,
  },
  { name: 'LOG_LEVEL', default: 'INFO', description: 'DEBUG, INFO, WARN/WARNING or ERROR (JSON lines on stderr)' },
  ...OPS_ACCESS_ENV_DOCS,
]

/**
 * Settings every app takes besides its own: Kafka Streams' `processing.guarantee`, the producer's
 * `compression.type`, and the log level (checked here, so a typo names LOG_LEVEL instead of logging
 * at INFO silently).
 */
const serviceEnv = z.object({
  PROCESSING_GUARANTEE: envEnum(['at_least_once', 'exactly_once', 'exactly_once_v2'], { optional: true }),
  KAFKA_PRODUCER_COMPRESSION: envEnum(KAFKA_COMPRESSIONS, { optional: true }),
  LOG_LEVEL: envEnum(['DEBUG', 'INFO', 'WARNING', 'WARN', 'ERROR'], { optional: true }),
})

function serviceConfig(env: Readonly<Record<string, string | undefined>>): {
  processing?: Processing
  compression?: KafkaCompression
  logLevel?: ReturnType<typeof parseLogLevel>
} {
  const c = loadConfig(serviceEnv, env)
  return {
    ...(c.PROCESSING_GUARANTEE === undefined
      ? {}
      : { processing: c.PROCESSING_GUARANTEE === 'at_least_once' ? 'at-least-once' : 'exactly-once' }),
    ...(c.KAFKA_PRODUCER_COMPRESSION === undefined ? {} : { compression: c.KAFKA_PRODUCER_COMPRESSION }),
    logLevel: parseLogLevel(c.LOG_LEVEL),
  }
}

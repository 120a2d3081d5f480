import { hostname } from 'node:os'
import type { AppInstance, KafkaSettings, WeirApp } from '../apps/app.ts'
import { describeConfig } from '../config/index.ts'
import type { Admin, ConnectorStatus, Transport } from '../connectors/contract.ts'
import { type Clock, systemClock } from '../core/clock.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { opsAccessFromEnv } from '../ops/auth.ts'
import {
  createHealthCheck,
  createMetrics,
  createOpsServer,
  latencyMs,
  type Metrics,
  type OpsAddress,
  type OpsServer,
  rateOf,
} from '../ops/index.ts'
import { type ForwardQuery, stateRoutes } from '../ops/state.ts'
import { type RunningPipeline, run } from '../runtime/runner.ts'
import { serviceDashboard } from './dashboard.ts'
import { queryForwarding } from './query-forwarding.ts'
import { outputConfig, serviceConfig } from './service-config.ts'

export { serviceEnvDocs } from './service-config.ts'

export interface ServiceOptions {
  /** Builds the transport from the app's Kafka settings (Kafka for `weir run`, in-process for the demo). */
  readonly transport: (kafka: KafkaSettings) => Transport
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly logger?: Logger
  readonly clock?: Clock
  /** Stop on SIGTERM/SIGINT, at any moment from the call on, and exit (0 after a clean stop). Default true. */
  readonly handleSignals?: boolean
  /**
   * Overrides the app's HTTP host/port (port 0 picks a free one); false: no HTTP server. `portName` is
   * what a port that cannot be bound is blamed on (default: the app's variable, e.g. `HEALTH_PORT`).
   */
  readonly http?: false | { readonly host?: string; readonly port?: number; readonly portName?: string }
  /** Aborts start-up (see RunOptions.signal); `startService` then rejects with the signal's reason. */
  readonly signal?: AbortSignal
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

/** Past the runner's default shutdown timeout (30 s): only a close that hangs gets here. */
const STOP_HARD_LIMIT_MS = 45_000

/** Reported by /health until the pipeline has joined its group. */
const STARTING: ConnectorStatus = { connected: false, message: 'starting: joining the consumer group' }

/**
 * Runs an app as a service, in this order: signal handlers (a SIGTERM at any moment is a graceful
 * stop), the app, the ops server (/health, /metrics, the dashboard; its port is bound before any
 * record is read, and a port that cannot be bound fails the start naming its variable), then the
 * pipeline. A graceful stop: stop fetching, drain, flush, commit, close, exit 0.
 */
export async function startService(app: WeirApp, options: ServiceOptions): Promise<RunningService> {
  const env = options.env ?? process.env
  const { compression, compressionLevel, logLevel } = outputConfig(env)
  const logger = options.logger ?? createLogger({ level: logLevel })
  const clock = options.clock ?? systemClock
  const handleSignals = options.handleSignals ?? true
  const metrics = createMetrics()
  const config = serviceConfig(env)
  const access = opsAccessFromEnv(env, app)
  const abort = new AbortController()
  options.signal?.addEventListener('abort', () => abort.abort(options.signal?.reason), { once: true })
  let service: RunningService | undefined
  if (handleSignals) installSignalHandlers(logger, abort, () => service)

  const instance = await app.create({ env, logger, metrics, clock })
  let running: RunningPipeline | undefined
  let rates: DefaultRates | undefined
  let ops: OpsServer | undefined
  let address: OpsAddress | undefined
  // Interactive queries across instances: set once the ops address (what this instance advertises) is
  // known and the transport can describe the group; until then (and on the in-process transport) the
  // /state routes answer from local state.
  let forwarder: ForwardQuery | undefined
  let queryAdmin: Admin | undefined
  const closeApp = async () => {
    for (const sink of instance.sinks ?? []) await sink.close().catch(() => {})
    await queryAdmin?.close().catch(() => {})
    await instance.close?.()
  }

  // The app's own variable (a seed's name for it) wins over the shared one.
  const kafka: KafkaSettings = {
    ...instance.kafka,
    compression: instance.kafka.compression ?? compression,
    compressionLevel: instance.kafka.compressionLevel ?? compressionLevel,
  }
  // The transport is made once the ops port is bound (a port in use must fail the start before any
  // Kafka client exists); the dashboard's dead-letter view may ask for it earlier and then makes it.
  let built: Transport | undefined
  const transportNow = () => (built ??= options.transport(kafka))
  // /health names the transport for what it is: `kafka_connected` on Kafka, `in_process_connected` in
  // the demo (which has no Kafka to be connected to).
  const transportName = () => (built?.kind === 'memory' ? 'in_process' : 'kafka')
  const components = (): Record<string, ConnectorStatus> => {
    if (running === undefined) return { [transportName()]: STARTING }
    const s = running.status()
    const status: ConnectorStatus =
      s.source.connected && s.producer.connected
        ? { connected: true }
        : { connected: false, message: s.source.message ?? s.producer.message }
    return { [transportName()]: status, ...instance.components?.(running) }
  }
  const connections = createHealthCheck({ components, clock, essential: ['kafka', 'in_process'] })
  // Weir's fields, then what the app's seed also reported there (seed 001: messagesProcessed).
  const health = () => ({ ...connections(), ...(running ? instance.healthJson?.(running) : {}) })

  try {
    abort.signal.throwIfAborted()
    logger.info('starting', { app: app.name, kafka: describeConfig(kafka), http: instance.http })
    if (options.http !== false) {
      const host = options.http?.host ?? instance.http.host
      const port = options.http?.port ?? instance.http.port
      const portName = options.http?.portName ?? instance.http.portVariable ?? 'the ops server port'
      ops = createOpsServer({
        host,
        port,
        title: `Weir · ${app.name}`,
        logger,
        health,
        metricsJson: () => {
          if (running === undefined)
            return { state: 'starting', uptime_seconds: Math.round(process.uptime() * 10) / 10 }
          if (instance.metricsJson) return instance.metricsJson(running)
          rates ??= defaultRates(running, clock)
          return defaultMetricsJson(running, metrics, rates)
        },
        prometheus: () => metrics.prometheus(),
        // Interactive queries (GET /state/…) on every app: its tables and named aggregates.
        routes: [
          ...(instance.routes ?? []),
          ...stateRoutes(() => running?.stores() ?? new Map(), { forward: () => forwarder }),
        ],
        auth: access.auth,
        dashboard: serviceDashboard({
          instance,
          running: () => running,
          metrics,
          transport: transportNow,
          showValues: access.showValues,
        }),
      })
      address = await ops.start().catch((err: unknown) => {
        throw portError(portName, `${host}:${port}`, err)
      })
    }
    const applicationServer = config.applicationServer ?? (address ? advertisedAddress(address) : undefined)
    const groupId = instance.run.groupId ?? instance.pipeline.name
    if (applicationServer !== undefined) {
      const admin = transportNow().admin()
      if (admin.groupMembers === undefined) await admin.close()
      else {
        queryAdmin = admin
        forwarder = queryForwarding({ self: applicationServer, groupId, admin, logger })
      }
    }
    running = await run(instance.pipeline, {
      ...instance.run,
      ...config,
      ...(applicationServer === undefined ? {} : { applicationServer }),
      transport: transportNow(),
      metrics,
      logger,
      clock,
      signal: abort.signal,
    })
    rates = defaultRates(running, clock)
  } catch (err) {
    await ops?.close().catch(() => {})
    await closeApp().catch(() => {})
    if (abort.signal.aborted && handleSignals) {
      logger.info('stopped during start-up', { reason: String(abort.signal.reason) })
      process.exit(0)
    }
    throw err
  }
  const pipeline = running

  let stopping: Promise<void> | undefined
  const stop = (reason = 'requested') => {
    stopping ??= (async () => {
      await pipeline.stop(reason)
      await closeApp()
      await ops?.close()
    })()
    return stopping
  }
  service = { app: instance, running: pipeline, metrics, ops, address, components, stop }
  // A signal that came while the last start-up step finished: stop now.
  if (abort.signal.aborted && handleSignals) exitAfter(logger, stop('signal during start-up'), pipeline)

  pipeline.done.catch(async (err: unknown) => {
    logger.error('pipeline failed', { error: err })
    await stop('failure')
    if (handleSignals) process.exit(1)
  })
  return service
}

/**
 * SIGTERM/SIGINT from now on: during start-up they abort it, afterwards they stop the service; a
 * second signal while stopping is noted and ignored (the default action would kill the process with
 * exit 143 half-way through the final commit).
 */
function installSignalHandlers(
  logger: Logger,
  abort: AbortController,
  current: () => RunningService | undefined,
): void {
  let received = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      logger.info('signal received again; still stopping', { signal })
      return
    }
    received = true
    logger.info('signal received, stopping gracefully', { signal })
    const service = current()
    if (service === undefined) abort.abort(new Error(`${signal} during start-up`))
    else exitAfter(logger, service.stop(signal), service.running)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}

/** Exits once the stop is over: 0 after a clean stop, 1 after a failure or when closing hangs. */
function exitAfter(logger: Logger, stopped: Promise<void>, running: RunningPipeline): void {
  // The runner bounds its own stop (shutdownTimeoutMs); this only catches a close that never returns.
  setTimeout(() => {
    logger.error('stop did not finish in time; exiting')
    process.exit(1)
  }, STOP_HARD_LIMIT_MS).unref()
  void stopped.then(
    () => process.exit(running.status().state === 'failed' ? 1 : 0),
    (err: unknown) => {
      logger.error('stop failed', { error: err })
      process.exit(1)
    },
  )
}

/** The ops address as other machines reach it: a wildcard bind address becomes the machine's name. */
function advertisedAddress(address: OpsAddress): string {
  const wildcard = address.host === '0.0.0.0' || address.host === '::' || address.host === ''
  const host = wildcard ? hostname() : address.host.includes(':') ? `[${address.host}]` : address.host
  return `${host}:${address.port}`
}

/** A port that cannot be bound, blamed on the variable (or flag) that set it. */
function portError(name: string, where: string, err: unknown): WeirError {
  const cause = err instanceof WeirError && err.cause instanceof Error ? err.cause : err
  const code = (cause as NodeJS.ErrnoException | undefined)?.code
  const why =
    code === 'EADDRINUSE'
      ? 'the port is in use'
      : code === 'EACCES'
        ? 'permission denied'
        : String((cause as Error)?.message ?? cause)
  return new WeirError(
    ErrorCode.CONFIG_INVALID,
    `${name}: cannot listen on ${where} (${why}${code ? `, ${code}` : ''}); expected a free port (0 picks one)`,
    { cause: err, retriable: false },
  )
}

interface DefaultRates {
  readonly consumed: { perSecond(): number }
  readonly produced: { perSecond(): number }
}

function defaultRates(running: RunningPipeline, clock: Clock): DefaultRates {
  return {
    consumed: rateOf(running.task.metrics.consumed, { clock }),
    produced: rateOf(running.task.metrics.produced, { clock }),
  }
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

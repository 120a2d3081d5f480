/**
 * Apps made of several stages (MillionX: schema validator → privacy shield → context enricher →
 * embedding service), each a WeirApp with its own pipeline, consumer group and ops port. `weir run <app>`
 * runs every stage in one process; `--stage a,b` (or the app's selector env var) runs some of them.
 *
 * Settings that must differ per stage are scoped by the stage's env prefix: `PRIVACY_SHIELD_WEB_PORT`,
 * `PRIVACY_SHIELD_KAFKA_GROUP_ID`, … (see STAGE_SCOPED_VARS). Unprefixed, they apply when one stage runs
 * alone, and to the app's `primary` stage when all run (MillionX's validator, which had them first);
 * otherwise each stage uses its own default (the seed's ports 6066–6069). `WEB_HOST` is shared by all.
 */
import type { KafkaSettings, WeirApp } from '../apps/app.ts'
import { kafkaTransport } from '../connectors/kafka/index.ts'
import { kafkaTransportFor } from './transport.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { type RunningService, type ServiceOptions, startService } from './service.ts'

export interface StageSpec {
  /** What `--stage` takes: `privacy-shield`. */
  readonly id: string
  /** Prefix of the stage's scoped variables: `PRIVACY_SHIELD`. */
  readonly envPrefix: string
  /** Loaded lazily, so a stage's heavy dependencies load only when it runs. */
  load(): Promise<WeirApp>
}

export interface StagedApp extends WeirApp {
  readonly stages: readonly StageSpec[]
  /** The stage that takes the unprefixed scoped variables when all stages run. */
  readonly primaryStage: string
  /** Env var that selects stages like `--stage` (comma-separated). */
  readonly stageSelectorEnv: string
}

export const STAGE_SCOPED_VARS = [
  'WEB_PORT',
  'WEB_HOST',
  'KAFKA_GROUP_ID',
  'KAFKA_CLIENT_ID',
  'DLQ_TOPIC',
] as const
/** Scoped variables whose plain form every stage shares (one bind address for all ports). */
const SHARED_UNLESS_SCOPED: ReadonlySet<string> = new Set(['WEB_HOST'])

export function isStagedApp(app: WeirApp): app is StagedApp {
  return Array.isArray((app as Partial<StagedApp>).stages)
}

type Env = Readonly<Record<string, string | undefined>>

/** The env a stage sees: its scoped variables moved to their plain names. */
export function stageEnv(
  env: Env,
  stage: StageSpec,
  options: { readonly alone: boolean; readonly primary: boolean },
): Env {
  const out: Record<string, string | undefined> = { ...env }
  for (const name of STAGE_SCOPED_VARS) {
    const scoped = env[`${stage.envPrefix}_${name}`]
    if (scoped !== undefined && scoped !== '') out[name] = scoped
    else if (!options.alone && !options.primary && !SHARED_UNLESS_SCOPED.has(name)) delete out[name]
  }
  return out
}

/** Which stages to run: `--stage` / the selector variable, else all, in the app's order. */
export function selectStages(app: StagedApp, selection: string | undefined): StageSpec[] {
  if (selection === undefined || selection.trim() === '' || selection.trim() === 'all') return [...app.stages]
  const wanted = selection
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const known = app.stages.map((s) => s.id)
  const unknown = wanted.filter((w) => !known.includes(w))
  if (unknown.length > 0)
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `--stage / ${app.stageSelectorEnv}: unknown stage ${unknown.map((u) => `"${u}"`).join(', ')} of ${app.name}; stages: ${known.join(', ')}`,
    )
  return app.stages.filter((s) => wanted.includes(s.id))
}


export interface StagesOptions extends Omit<ServiceOptions, 'handleSignals' | 'transport'> {
  /** `--stage`: comma-separated ids; default the selector env var, else all. */
  readonly stage?: string
  readonly transport?: ServiceOptions['transport']
  /** Stop every stage on SIGTERM/SIGINT and exit (1 if a stage failed). Default true. */
  readonly handleSignals?: boolean
}

export interface RunningStages {
  readonly services: ReadonlyMap<string, RunningService>
  stop(reason?: string): Promise<void>
}

export async function startStages(app: StagedApp, options: StagesOptions = {}): Promise<RunningStages> {
  const env = options.env ?? process.env
  const logger: Logger = options.logger ?? createLogger()
  const selected = selectStages(app, options.stage ?? env[app.stageSelectorEnv])
  const alone = selected.length === 1
  const services = new Map<string, RunningService>()
  const stopAll = async (reason: string) => {
    await Promise.all([...services.values()].map((s) => s.stop(reason).catch(() => {})))
  }
  logger.info('starting stages', { app: app.name, stages: selected.map((s) => s.id) })
  try {
    for (const stage of selected) {
      const stageApp = await stage.load()
      const service = await startService(stageApp, {
        ...options,
        env: stageEnv(env, stage, { alone, primary: stage.id === app.primaryStage }),
        logger: logger.child({ stage: stage.id }),
        transport: options.transport ?? kafkaTransportFor,
        handleSignals: false,
      })
      services.set(stage.id, service)
    }
  } catch (err) {
    await stopAll('start failed')
    throw err
  }
  let stopping: Promise<void> | undefined
  const stop = (reason = 'requested') => {
    stopping ??= stopAll(reason)
    return stopping
  }
  if (options.handleSignals ?? true) {
    const failed = () => [...services.values()].some((s) => s.running.status().state === 'failed')
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info('signal received, stopping every stage gracefully', { signal })
      void stop(signal).then(
        () => process.exit(failed() ? 1 : 0),
        () => process.exit(1),
      )
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    // One stage failing stops them all, so a supervisor restarts the process and nothing runs half-way.
    for (const [id, s] of services) {
      s.running.done.catch(() => {
        logger.error('stage failed; stopping every stage', { stage: id })
        void stop('stage failed').finally(() => process.exit(1))
      })
    }
  }
  return { services, stop }
}

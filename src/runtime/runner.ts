import type {
  Admin,
  CommitOffset,
  ConnectorStatus,
  RecordSink,
  Source,
  TopicSpec,
  Transport,
} from '../connectors/contract.ts'
import { type Cancel, type Clock, systemClock } from '../core/clock.ts'
import { ErrorCode, toWeirError, WeirError } from '../core/errors.ts'
import type { MetricsRegistry } from '../core/metrics.ts'
import type { TopicPartition } from '../core/record.ts'
import type { Pipeline } from '../dsl/stream.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { type QueryableStore, queryableStores } from '../state/query.ts'
import { atLeastOnce, type Committer, exactlyOnce, type Processing } from './commit.ts'
import type { DeadLetterValue } from './dead-letter.ts'
import { runtimeDefaults } from './defaults.ts'
import type { ErrorPolicy, RetryOptions } from './error-policy.ts'
import { Revocations } from './revocations.ts'
import { Task } from './task.ts'

export interface RunOptions {
  readonly transport: Transport
  /** Consumer group; default: the pipeline name. */
  readonly groupId?: string
  readonly clientId?: string
  /** Where a group with no committed offset starts. Default true (earliest): nothing is skipped. */
  readonly fromBeginning?: boolean
  /** How often the checkpoint runs. Default `runtimeDefaults.checkpointIntervalMs`. */
  readonly checkpointIntervalMs?: number
  /** Records in flight before fetching pauses. Default `runtimeDefaults.maxInFlight`. */
  readonly maxInFlight?: number
  /** Unflushed sink items before fetching pauses. Default `runtimeDefaults.maxBacklog`. */
  readonly maxBacklog?: number
  /** How often records of repartition topics the group committed are deleted. Default 30 s. */
  readonly repartitionPurgeIntervalMs?: number
  /** Time allowed for a graceful stop (drain, flush, commit). Default 30 s. */
  readonly shutdownTimeoutMs?: number
  /** Default `<pipeline>-dlq`. */
  readonly deadLetterTopic?: string
  /** A dead letter's value instead of the original bytes (a JSON error body), see dead-letter.ts. */
  readonly deadLetterValue?: DeadLetterValue
  readonly topics?: {
    readonly partitions?: number
    readonly replicationFactor?: number
    /** Also create the input topics (with `partitions`) when missing. Default true. */
    readonly createInputs?: boolean
  }
  readonly errorPolicy?: ErrorPolicy
  readonly retry?: Partial<RetryOptions>
  readonly clock?: Clock
  readonly logger?: Logger
  readonly metrics: MetricsRegistry
  readonly maxBatch?: number
  /**
   * `at-least-once` (default) or `exactly-once`: outputs, dead letters, changelogs and offsets in one
   * Kafka transaction per checkpoint (see ./commit.ts). Exactly-once checkpoints every 100 ms by default,
   * as Kafka Streams does, because read_committed readers see results only when a transaction commits.
   */
  readonly processing?: Processing
  /**
   * Exactly-once: the producer's transactional id. Default `<group>-<group instance id>`, else
   * `<group>-<client id>`: stable across restarts, so a restarted instance fences its dead predecessor
   * and aborts its open transaction at once; unique per instance, or instances fence each other.
   */
  readonly transactionalId?: string
  /** Static group membership (`group.instance.id`): see SourceOptions.groupInstanceId. */
  readonly groupInstanceId?: string
  /**
   * Interactive queries: the `host:port` other instances reach this one's `/state` routes at, advertised
   * in the group's member metadata (Kafka Streams' `application.server`). See SourceOptions.
   */
  readonly applicationServer?: string
  /**
   * Aborts start-up (creating topics, joining the group): what was opened is closed and `run` rejects
   * with `signal.reason`. Once `run` has resolved, stop with `stop()`.
   */
  readonly signal?: AbortSignal
}

export type PipelineState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed'

export interface PipelineStatus {
  readonly state: PipelineState
  readonly source: ConnectorStatus
  readonly producer: ConnectorStatus
  readonly sinks: Readonly<Record<string, ConnectorStatus>>
  /** Set while checkpoints fail (a sink down); offsets are not committed meanwhile. */
  readonly checkpointError: string | undefined
  readonly lastCheckpointAt: number | undefined
}

export interface RunningPipeline {
  readonly task: Task
  /** Settles when the pipeline has stopped: resolves on a clean stop, rejects on failure. */
  readonly done: Promise<void>
  stop(reason?: string): Promise<void>
  status(): PipelineStatus
  /** Records not yet processed per partition (end offset − position), refreshed every few seconds. */
  lag(): ReadonlyMap<string, number>
  /** The input partitions this instance owns now. */
  assignment(): readonly TopicPartition[]
  /** A named store (table, named aggregate) to read while running: `running.store('counts')?.get(key)`. */
  store(name: string): QueryableStore | undefined
  /** Every named store, by name. */
  stores(): ReadonlyMap<string, QueryableStore>
}

/**
 * Runs a pipeline against a transport until stopped: creates topics, joins the group, feeds records
 * through the task with backpressure, checkpoints on an interval and at shutdown.
 */
export async function run(pipeline: Pipeline, options: RunOptions): Promise<RunningPipeline> {
  const clock = options.clock ?? systemClock
  const logger = (options.logger ?? createLogger()).child({ app: pipeline.name })
  const groupId = options.groupId ?? pipeline.name
  const clientId = options.clientId ?? `${pipeline.name}-${process.pid}`
  const deadLetterTopic = options.deadLetterTopic ?? `${pipeline.name}-dlq`
  const processing = options.processing ?? 'at-least-once'
  const interval =
    options.checkpointIntervalMs ??
    (processing === 'exactly-once' ? 100 : runtimeDefaults.checkpointIntervalMs)
  const maxInFlight =
    options.maxInFlight ??
    (processing === 'exactly-once' ? runtimeDefaults.maxInFlightExactlyOnce : runtimeDefaults.maxInFlight)
  const maxBacklog = options.maxBacklog ?? runtimeDefaults.maxBacklog
  const shutdownTimeout = options.shutdownTimeoutMs ?? 30_000
  const { transport } = options

  const inputs = pipeline.topology.inputTopics()
  if (inputs.length === 0)
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `pipeline "${pipeline.name}" reads no topic`)

  options.signal?.throwIfAborted()
  const admin = transport.admin()
  // What start-up opened, closed again if a later step fails or start-up is aborted: a failed start
  // must not leave a producer, timers or sockets keeping the process alive.
  const opened: Array<() => Promise<unknown> | unknown> = [() => admin.close()]
  const aborted = abortedPromise(options.signal)
  const started = async <T>(step: Promise<T>): Promise<T> => {
    try {
      return await Promise.race([step, aborted])
    } catch (err) {
      step.catch(() => {})
      const closing = (async () => {
        for (const close of opened.reverse())
          await Promise.resolve()
            .then(close)
            .catch(() => {})
      })()
      // Aborted (a SIGTERM while joining the group): a consumer may be waiting for a JoinGroup answer
      // that comes only when a dead member's session expires; don't keep the stop waiting for it.
      await (options.signal?.aborted ? Promise.race([closing, sleep(ABORT_CLOSE_MS)]) : closing)
      throw err
    }
  }
  await started(ensurePipelineTopics(admin, pipeline, deadLetterTopic, options))

  const { groupInstanceId } = options
  const transactionalId =
    processing === 'exactly-once'
      ? (options.transactionalId ?? `${groupId}-${groupInstanceId ?? clientId}`)
      : undefined
  const producer: RecordSink = transport.sink(
    transactionalId === undefined ? { clientId } : { clientId, transactionalId },
  )
  logger.info('processing guarantee', {
    processing,
    ...(transactionalId === undefined ? {} : { transactionalId }),
    ...(groupInstanceId === undefined ? {} : { groupInstanceId }),
    checkpointIntervalMs: interval,
  })
  const source: Source = transport.source({
    groupId,
    clientId,
    topics: [...new Set(inputs)],
    fromBeginning: options.fromBeginning ?? true,
    maxBatch: options.maxBatch,
    ...(groupInstanceId === undefined ? {} : { groupInstanceId }),
    ...(options.applicationServer === undefined ? {} : { advertisedAddress: options.applicationServer }),
  })
  // Checked before anything connects: a transport that can't do exactly-once is a config error.
  const committer: Committer =
    processing === 'exactly-once' ? exactlyOnce(source, producer) : atLeastOnce(source)
  opened.push(() => producer.close())
  await started(producer.open())
  const task = new Task({
    appName: pipeline.name,
    topology: pipeline.topology,
    producer,
    readPartition: (tp, o) => transport.readPartition(tp, o),
    partitionCount: async (topic) => (await admin.partitions([topic])).get(topic) ?? 0,
    deadLetterTopic,
    deadLetterValue: options.deadLetterValue,
    errorPolicy: options.errorPolicy,
    retry: options.retry,
    clock,
    logger,
    metrics: options.metrics,
    processing,
    ...(source.caughtUpAt === undefined
      ? {}
      : { inputCaughtUpAt: onClock(clock, (tp) => source.caughtUpAt?.(tp)) }),
    ...(source.reachableSince === undefined
      ? {}
      : { inputReachableSince: onClock(clock, (tp) => source.reachableSince?.(tp)) }),
  })
  opened.push(() => task.close())
  await started(task.init())

  const commit = (offsets: readonly CommitOffset[]) => committer.commit(offsets)
  const prepare = committer.prepare?.bind(committer)

  let fatal: WeirError | undefined
  let stopRequested: Promise<void> | undefined
  let state: PipelineState = 'starting'
  let checkpointError: string | undefined
  let lastCheckpointAt: number | undefined
  let checkpointing: Promise<void> | undefined
  const lag = new Map<string, number>()

  // Repartition topics: records before what the group committed are not needed again (Kafka Streams
  // purges them too); deleted now and then, as their retention keeps them otherwise.
  const internal = new Set(
    pipeline.topology
      .topics()
      .filter((t) => t.role === 'internal')
      .map((t) => t.name),
  )
  const purgeable = new Map<string, CommitOffset>()
  const purge = async () => {
    const before = [...purgeable.values()]
    purgeable.clear()
    if (before.length === 0) return
    await admin
      .deleteRecords?.(before)
      .catch((err: unknown) => logger.debug('purging repartition topics failed', { error: err }))
  }

  /**
   * Takes the one checkpoint slot for `work` (the caller has waited for it to be free). Two checkpoints at
   * once would add their offsets to one transaction, and the second would commit later outputs without theirs.
   */
  const inCheckpointSlot = (work: Promise<void>): Promise<void> => {
    const held: Promise<void> = work.finally(() => {
      if (checkpointing === held) checkpointing = undefined
    })
    checkpointing = held
    return held
  }

  /** One checkpoint at a time; a failure is logged and retried on the next interval. */
  const checkpoint = (): Promise<void> =>
    checkpointing ??
    inCheckpointSlot(
      task.checkpoint(commit, prepare).then(
        (offsets) => {
          for (const o of offsets) if (internal.has(o.topic)) purgeable.set(`${o.topic}:${o.partition}`, o)
          if (checkpointError !== undefined)
            logger.info('checkpoint succeeded again', { after: checkpointError })
          checkpointError = undefined
          lastCheckpointAt = clock.now()
        },
        (err: unknown) => checkpointFailed(err),
      ),
    )

  /** A failed checkpoint is retried on the next interval, unless the committer says this run is over. */
  const checkpointFailed = async (err: unknown): Promise<void> => {
    const e = toWeirError(err, ErrorCode.SINK_UNAVAILABLE)
    if (checkpointError !== e.message) logger.error('checkpoint failed; offsets not committed', { error: e })
    checkpointError = e.message
    if (await committer.failed(e)) return
    if (fatal === undefined) {
      fatal = new WeirError(
        ErrorCode.TRANSACTION_ABORTED,
        `${committer.processing}: ${e.message}; restart to resume from the last commit`,
        {
          cause: e,
          retriable: false,
        },
      )
      logger.error('transaction aborted; stopping', { error: fatal })
      void stop('transaction aborted')
    }
  }

  /**
   * The source gave partitions up before their revocation finished: their new owner may already read
   * from the last commit. Exactly-once: the open transaction holds their results and must never
   * commit now, or those records would count twice; it is aborted and the run stops, to resume from
   * the last commit. At-least-once: the late commit may only repeat records; the run goes on.
   */
  const revocationOverran = (partitions: readonly TopicPartition[]) => {
    const err = new WeirError(
      ErrorCode.TRANSACTION_ABORTED,
      `the revocation of ${partitions.length} partitions did not finish before the group moved them on ` +
        `(in flight: ${task.tracker.inFlight()} records)`,
      { retriable: false },
    )
    if (committer.processing === 'exactly-once') void checkpointFailed(err)
    else logger.warn('revocation overran; records may be processed again by the new owner', { error: err })
  }
  const owned = new Map<string, TopicPartition>()
  const revocations = new Revocations()
  opened.push(() => source.close())
  await started(
    source.open({
      assigned: async (partitions) => {
        for (const p of partitions) owned.set(`${p.topic}:${p.partition}`, p)
        logger.info('partitions assigned', { partitions: partitions.map((p) => `${p.topic}:${p.partition}`) })
        await task.assigned(partitions)
      },
      revoked: async (partitions, givenUp) => {
        revocations.revoked(partitions)
        for (const p of partitions) owned.delete(`${p.topic}:${p.partition}`)
        logger.info('partitions revoked', { partitions: partitions.map((p) => `${p.topic}:${p.partition}`) })
        givenUp?.addEventListener('abort', () => revocationOverran(partitions), { once: true })
        // The revocation's checkpoint waits for the slot and holds it, as the interval's do.
        while (checkpointing !== undefined) await checkpointing
        await inCheckpointSlot(
          task.revoked(partitions, commit, prepare).catch((err: unknown) => {
            logger.error('checkpoint before revocation failed', { error: err })
            return checkpointFailed(err)
          }),
        )
      },
    }),
  )

  const timers: Cancel[] = [clock.setInterval(() => void checkpoint(), interval)]
  const refreshLag = async () => {
    try {
      const ends = await admin.endOffsets(inputs)
      const positions = new Map(task.tracker.positions().map((p) => [`${p.topic}:${p.partition}`, p.offset]))
      for (const [key, end] of ends) {
        const pos = positions.get(key)
        if (pos !== undefined && pos >= 0) lag.set(key, Math.max(0, end - pos))
      }
    } catch (err) {
      logger.debug('lag refresh failed', { error: err })
    }
  }
  timers.push(clock.setInterval(() => void refreshLag(), 5000))
  if (internal.size > 0)
    timers.push(
      clock.setInterval(() => void purge(), options.repartitionPurgeIntervalMs ?? REPARTITION_PURGE_MS),
    )
  options.metrics.collect('weir_consumer_lag', 'Records behind the end of each input partition', () =>
    [...lag].map(([key, value]) => {
      const i = key.lastIndexOf(':')
      return { labels: { topic: key.slice(0, i), partition: key.slice(i + 1) }, value }
    }),
  )

  task.onFatal((err) => {
    fatal = err
    void stop('fatal error')
  })

  const loop = (async () => {
    state = 'running'
    let yieldedAt = performance.now()
    for await (const fetched of source.batches()) {
      const handedOut = revocations.mark()
      // Batches already fetched resolve as microtasks: without a macrotask turn now and then, timers
      // (checkpoints, window closes) and /health would wait until the fetched input runs out.
      if (performance.now() - yieldedAt > 20) {
        await new Promise((r) => setImmediate(r))
        yieldedAt = performance.now()
      }
      // Exactly-once: no record starts while a checkpoint fixes its transaction's content (see
      // Task.checkpoint); records flow again while the transaction commits.
      for (let held = task.holding(); held !== undefined; held = task.holding()) await held
      // A rebalance may have taken some of its partitions meanwhile: their records are read again.
      const batch = revocations.current(fetched, handedOut)
      if (batch.length < fetched.length)
        logger.info(
          'dropped records of partitions revoked after they were read; they are read again from the last commit',
          {
            records: fetched.length - batch.length,
          },
        )
      for (const raw of batch) task.process(raw)
      // Backpressure: stop pulling while too much is in flight or unflushed.
      while (
        (task.tracker.inFlight() > maxInFlight || task.backlog() > maxBacklog) &&
        stopRequested === undefined
      ) {
        await new Promise((r) => setTimeout(r, 5))
      }
      if (stopRequested !== undefined) break
    }
  })()

  const finished = loop.then(
    () => undefined,
    (err: unknown) => {
      fatal ??= toWeirError(err, ErrorCode.SOURCE_UNAVAILABLE)
      logger.error('source failed', { error: err })
      void stop('source failed')
    },
  )

  const stop = (reason = 'requested'): Promise<void> => {
    stopRequested ??= (async () => {
      state = 'stopping'
      logger.info('stopping', { reason })
      const deadline = Date.now() + shutdownTimeout
      // After an aborted transaction nothing more may be committed: no reason to wait for records.
      const remaining = () =>
        fatal?.code === ErrorCode.TRANSACTION_ABORTED ? 0 : Math.max(0, deadline - Date.now())
      task.inputPaused()
      await source.stop()
      await Promise.race([finished, sleep(remaining())])
      if (fatal === undefined) {
        // Every record read goes through the graph before the windows are drained (a record still in an
        // async step would otherwise open a window after the drain); records only held by open windows
        // finish when the windows are drained, so those are not waited for here.
        await withTimeout(task.tracker.processed(), remaining())
        await task.drain()
        await withTimeout(task.tracker.idle(), remaining())
      }
      for (const t of timers) t()
      // Bounded: an exactly-once checkpoint first waits for records in flight, which may never finish.
      await withTimeout(checkpointing ?? Promise.resolve(), remaining())
      // The final checkpoint: retried until it succeeds or the shutdown time runs out. Not after an
      // aborted transaction: what is in memory is past the last commit, and must not be committed.
      for (;;) {
        if (fatal?.code === ErrorCode.TRANSACTION_ABORTED) break
        await checkpoint()
        if (checkpointError === undefined || remaining() === 0) break
        await sleep(Math.min(500, remaining()))
      }
      if (checkpointError !== undefined)
        logger.error('stopped without a final commit; records will be re-read', { error: checkpointError })
      await task.close().catch((err: unknown) => logger.warn('closing sinks failed', { error: err }))
      await producer.close().catch((err: unknown) => logger.warn('closing producer failed', { error: err }))
      await source.close().catch((err: unknown) => logger.warn('closing source failed', { error: err }))
      await admin.close().catch(() => {})
      state = fatal ? 'failed' : 'stopped'
      logger.info('stopped', { state })
    })()
    return stopRequested
  }

  const done = finished.then(async () => {
    await stop('input ended')
    if (fatal) throw fatal
  })
  // A rejection of `done` is the caller's to handle; don't let it crash the process if they never look.
  done.catch(() => {})

  return {
    task,
    done,
    stop,
    lag: () => lag,
    assignment: () => [...owned.values()],
    store: (name) => queryableStores(task.graph.processors).get(name),
    stores: () => queryableStores(task.graph.processors),
    status: () => ({
      state,
      source: source.status(),
      producer: producer.status(),
      sinks: Object.fromEntries(task.graph.sinks.map((s) => [s.id, s.status()])),
      checkpointError,
      lastCheckpointAt,
    }),
  }
}

/**
 * Creates the topics a pipeline declares. Inputs and outputs first; then internal topics: changelogs
 * with as many partitions as the widest input, as Kafka Streams does (state for input partition p lives
 * in changelog partition p), repartition topics with as many as their source (or the table joined).
 */
async function ensurePipelineTopics(
  admin: Admin,
  pipeline: Pipeline,
  deadLetterTopic: string,
  options: RunOptions,
): Promise<void> {
  const partitions = options.topics?.partitions ?? 1
  const replicationFactor = options.topics?.replicationFactor ?? 1
  const createInputs = options.topics?.createInputs ?? true
  const declared = pipeline.topology.topics()
  const external: TopicSpec[] = []
  for (const t of declared) {
    if (t.role === 'internal' || (t.role === 'input' && !createInputs)) continue
    external.push({
      name: t.name,
      partitions: t.partitions ?? partitions,
      replicationFactor,
      config: t.config,
    })
  }
  // Dead letters keep the original bytes, so the topic must take records as large as any input.
  external.push({
    name: deadLetterTopic,
    partitions,
    replicationFactor,
    config: { 'max.message.bytes': '10485760' },
  })
  await admin.ensureTopics(external)
  const internal = declared.filter((t) => t.role === 'internal')
  if (internal.length === 0) return
  // Only topics that exist by now: asking for metadata of a missing one fails the whole request.
  const internalNames = new Set(internal.map((t) => t.name))
  const like = internal.flatMap((t) => t.partitionsLike ?? [])
  const existing = [...new Set([...pipeline.topology.inputTopics(), ...like])].filter(
    (n) => !internalNames.has(n),
  )
  const counts = await admin.partitions(existing)
  const widest = Math.max(partitions, ...counts.values())
  // A repartition topic takes its source's count (declared before it, so chains resolve in order).
  const specs = internal.map((t) => {
    const from = (t.partitionsLike ?? []).map((n) => counts.get(n) ?? 0).filter((n) => n > 0)
    const n = t.partitions ?? (from.length > 0 ? Math.max(...from) : widest)
    if (!counts.has(t.name)) counts.set(t.name, n)
    return { name: t.name, partitions: n, replicationFactor, config: t.config }
  })
  await admin.ensureTopics(specs)
}

/** How often records of repartition topics that the group committed are deleted. */
const REPARTITION_PURGE_MS = 30_000

/** How long an aborted start-up waits for what it opened to close. */
const ABORT_CLOSE_MS = 1000

/** A timer that doesn't keep the process alive: a stop that finished early must not linger. */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref())
}

/** Rejects with the signal's reason when it aborts; never settles without a signal. */
function abortedPromise(signal: AbortSignal | undefined): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    if (signal === undefined) return
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
  p.catch(() => {})
  return p
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return Promise.race([p, sleep(ms)])
}

/** A source's per-partition signal (Date.now() times) on the run's clock, which a test may have set. */
function onClock(
  clock: Clock,
  signal: (tp: string) => number | undefined,
): (tp: string) => number | undefined {
  if (clock === systemClock) return signal
  return (tp) => {
    const at = signal(tp)
    return at === undefined ? undefined : clock.now() - (Date.now() - at)
  }
}

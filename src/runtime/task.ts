import type { CommitOffset, RecordSink, Sink } from '../connectors/contract.ts'
import type { Clock } from '../core/clock.ts'
import { ErrorCode, toWeirError, type WeirError } from '../core/errors.ts'
import type { Labels, MetricsRegistry } from '../core/metrics.ts'
import type { RecordOrigin as AnyRecordOrigin, RawRecord, TopicPartition } from '../core/record.ts'
import type { Serde, SerdeContext } from '../core/serde.ts'
import type { ErrorHandling, GraphNode, Topology } from '../dsl/graph.ts'
import type { Logger } from '../log/logger.ts'
import { runCheckpoint } from './checkpoint.ts'
import type { Processing } from './commit.ts'
import { compile, type CompiledGraph, type Step } from './compile.ts'
import { type DeadLetterValue, deadLetterRecord } from './dead-letter.ts'
import {
  backoffDelay,
  defaultRetry,
  retryThenDeadLetter,
  type ErrorPolicy,
  type RetryOptions,
} from './error-policy.ts'
import { OffsetTracker, type InFlight } from './offset-tracker.ts'
import { isPromise, type AnyRecord, type RecordContext } from './processor.ts'
import { TaskMetrics } from './task-metrics.ts'

export interface TaskOptions {
  readonly appName: string
  readonly topology: Topology
  /** Writes to Kafka topics: outputs, dead letters and changelogs share it. */
  readonly producer: RecordSink
  /** How state stores read their changelogs back (the transport's readPartition). */
  readonly readPartition: TaskReadPartition
  /** Partitions of a topic (0 if missing): joins check co-partitioning with it. */
  readonly partitionCount?: (topic: string) => Promise<number>
  readonly deadLetterTopic: string
  /** A dead letter's value instead of the original bytes (a JSON error body), see dead-letter.ts. */
  readonly deadLetterValue?: DeadLetterValue
  readonly errorPolicy?: ErrorPolicy
  readonly retry?: Partial<RetryOptions>
  readonly clock: Clock
  readonly logger: Logger
  readonly metrics: MetricsRegistry
  /** Measure stage latency on one record in this many (a power of two). Default 64. */
  readonly sampleEvery?: number
  /** Default at-least-once. Exactly-once checkpoints wait for in-flight records and keep timers quiet. */
  readonly processing?: Processing
  /** The source's caught-up signal, on `clock` (see ProcessorInit.inputCaughtUpAt). */
  readonly inputCaughtUpAt?: (tp: string) => number | undefined
  /** Since when the source reached each partition without a break, on `clock` (see ProcessorInit). */
  readonly inputReachableSince?: (tp: string) => number | undefined
}

export type TaskReadPartition = (
  tp: TopicPartition,
  options?: { from?: number },
) => AsyncIterable<readonly RawRecord[]>

class Context implements RecordContext {
  readonly raw: RawRecord
  readonly attempt: number
  readonly inFlight: InFlight
  /** Sampling marks for stage latency; only set on sampled records. */
  mark = 0
  stage: string | undefined = undefined
  readonly start: number

  constructor(raw: RawRecord, inFlight: InFlight, attempt: number, start: number) {
    this.raw = raw
    this.inFlight = inFlight
    this.attempt = attempt
    this.start = start
  }

  hold(): () => void {
    return this.inFlight.hold()
  }

  retry(): Context {
    return new Context(this.raw, this.inFlight, this.attempt + 1, this.start)
  }
}

/**
 * One running instance of a pipeline's graph: it turns raw records into outputs, applies the error
 * policy, tracks which offsets are done and runs the checkpoint. The runner feeds it from a source;
 * the test driver feeds it directly.
 */
export class Task {
  readonly tracker = new OffsetTracker()
  readonly graph: CompiledGraph
  readonly metrics: TaskMetrics
  readonly #o: TaskOptions
  readonly #policy: ErrorPolicy
  readonly #retry: RetryOptions
  readonly #sampleMask: number
  #seq = 0
  readonly #routes = new Map<string, Route>()
  #failure: WeirError | undefined
  #onFatal: (err: WeirError) => void = () => {}
  #dlqLogBudget = { second: 0, count: 0 }

  constructor(options: TaskOptions) {
    this.#o = options
    this.#policy = options.errorPolicy ?? retryThenDeadLetter
    this.#retry = { ...defaultRetry, ...options.retry }
    this.#sampleMask = (options.sampleEvery ?? 64) - 1
    this.metrics = new TaskMetrics(options.metrics)
    this.graph = compile(options.topology, {
      guard: (node, run) => this.#guard(node, run),
      toTopic: (node) => this.#toTopic(node),
      toSink: (node) => this.#toSink(node),
    })
  }

  get failure(): WeirError | undefined {
    return this.#failure
  }

  /** Called once if a record's error policy says `fail`. */
  onFatal(fn: (err: WeirError) => void): void {
    this.#onFatal = fn
  }

  /**
   * Initialises processors, then opens external sinks. Synchronous processor inits run without
   * yielding, so the test driver can feed records right after calling this.
   */
  async init(): Promise<void> {
    for (const proc of this.graph.processors) {
      const r = proc.init?.({
        appName: this.#o.appName,
        clock: this.#o.clock,
        logger: this.#o.logger.child({ operator: proc.name }),
        metrics: this.#o.metrics,
        emit: this.graph.emitters.get(proc)!,
        fail: (err, ctx) => void this.#handle(err, proc.name, ctx, {}, undefined),
        producer: this.#o.producer,
        processing: this.#o.processing ?? 'at-least-once',
        quiet: () => this.#quiet,
        readPartition: this.#o.readPartition,
        partitionCount: this.#o.partitionCount,
        inputCaughtUpAt: this.#o.inputCaughtUpAt,
        inputReachableSince: this.#o.inputReachableSince,
      })
      if (isPromise(r)) await r
    }
    for (const sink of this.graph.sinks) {
      sink.deadLetters?.((item, err) => this.#sinkDeadLetter(sink.id, item, err))
      await sink.open()
    }
  }

  /** An item a sink refused for good: to the dead-letter topic as JSON, the sink named as its origin. */
  #sinkDeadLetter(sinkId: string, item: unknown, err: WeirError): void {
    const now = this.#o.clock.now()
    const raw: RawRecord = {
      topic: sinkId,
      partition: -1,
      offset: -1,
      key: null,
      value: Buffer.from(JSON.stringify(item) ?? 'null'),
      headers: {},
      timestamp: now,
    }
    this.deadLetter(err, `sink:${sinkId}`, { raw, attempt: 1, hold: () => () => {} })
  }

  /** Feeds one raw record through the graph. Never throws: failures follow the error policy. */
  process(raw: RawRecord): void {
    const inFlight = this.tracker.begin(raw, raw.offset)
    const sampled = (this.#seq++ & this.#sampleMask) === 0
    const ctx = new Context(raw, inFlight, 1, sampled ? performance.now() : 0)
    if (sampled) ctx.mark = ctx.start
    const route = this.#routes.get(raw.topic) ?? this.#route(raw.topic)
    this.metrics.consumed.inc(route.labels)
    const roots = route.roots
    if (roots.length === 0) {
      inFlight.done()
      return
    }
    if (roots.length === 1) {
      const root = roots[0]!
      const r = this.#attempt(root.stage, root.run, ctx, NO_HANDLING)
      if (r === undefined) this.#finish(ctx)
      else r.then(() => this.#finish(ctx))
      return
    }
    let pending: Promise<void>[] | undefined
    for (const root of roots) {
      const r = this.#attempt(root.stage, root.run, ctx, NO_HANDLING)
      if (r !== undefined) {
        pending ??= []
        pending.push(r)
      }
    }
    if (pending === undefined) this.#finish(ctx)
    else Promise.all(pending).then(() => this.#finish(ctx))
  }

  #finish(ctx: Context): void {
    if (ctx.start !== 0) {
      const now = performance.now()
      if (ctx.stage !== undefined)
        this.metrics.stageLatency.observe((now - ctx.mark) / 1000, this.metrics.label('stage', ctx.stage))
      this.metrics.recordLatency.observe((now - ctx.start) / 1000)
    }
    ctx.inFlight.done()
  }

  /** What records of a topic go through, worked out on the first record of the topic. */
  #route(topic: string): Route {
    const roots = (this.graph.roots.get(topic) ?? []).map((root) => ({
      stage: `deserialize:${root.node.topic}`,
      run: deserializer(root.node, root.step),
    }))
    const route = { labels: this.metrics.label('topic', topic), roots }
    this.#routes.set(topic, route)
    return route
  }

  /** Runs a stage; on error applies the policy (retry re-runs it). Never throws, never rejects. */
  #attempt(
    stage: string,
    run: (ctx: Context) => void | Promise<void>,
    ctx: Context,
    handling: ErrorHandling,
  ): Promise<void> | undefined {
    if (ctx.start !== 0) this.#markStage(ctx, stage)
    let r: void | Promise<void>
    try {
      r = run(ctx)
    } catch (err) {
      return this.#handle(err, stage, ctx, handling, run)
    }
    if (r !== undefined && isPromise<void>(r)) {
      return r.then(undefined, (err: unknown) => this.#handle(err, stage, ctx, handling, run))
    }
    return undefined
  }

  #markStage(ctx: Context, stage: string): void {
    const now = performance.now()
    if (ctx.stage !== undefined)
      this.metrics.stageLatency.observe((now - ctx.mark) / 1000, this.metrics.label('stage', ctx.stage))
    ctx.stage = stage
    ctx.mark = now
  }

  #handle(
    thrown: unknown,
    stage: string,
    ctx: RecordContext,
    handling: ErrorHandling,
    rerun: ((ctx: Context) => void | Promise<void>) | undefined,
  ): Promise<void> | undefined {
    // Closed: a record finishing only now (a stop that gave up waiting for it) has no sink left to fail
    // over to, and no offset is committed any more: it is read again by the next run.
    if (this.#closed) return undefined
    const err = toWeirError(thrown)
    const m = this.metrics
    m.errors.inc(m.labels2('stage', stage, 'code', err.code))
    const policy = handling.onError ?? this.#policy
    let action = policy(err, { stage, attempt: ctx.attempt, raw: ctx.raw })
    if (action === 'retry') {
      const retry = { ...this.#retry, ...handling.retry }
      if (rerun !== undefined && ctx instanceof Context && ctx.attempt < retry.maxAttempts) {
        m.retries.inc(m.label('stage', stage))
        const delay = backoffDelay(ctx.attempt, retry)
        this.#o.logger.debug('retrying after error', {
          stage,
          attempt: ctx.attempt,
          delayMs: delay,
          error: err,
        })
        return new Promise<void>((resolve) => {
          this.#o.clock.setTimeout(() => {
            resolve(this.#attempt(stage, rerun, ctx.retry(), handling))
          }, delay)
        })
      }
      action = retry.exhausted
    }
    switch (action) {
      case 'skip':
        m.skipped.inc(m.label('stage', stage))
        this.#o.logger.debug('record skipped after error', { stage, error: err, ...origin(ctx.raw) })
        return undefined
      case 'fail':
        this.#fail(err, stage, ctx)
        // The record stays in flight, so its offset is never committed.
        return new Promise<void>(() => {})
      default:
        this.deadLetter(err, stage, ctx)
        return undefined
    }
  }

  /** Sends the original record to the dead-letter topic with headers saying why, where from and when. */
  deadLetter(err: WeirError, stage: string, ctx: RecordContext): void {
    const o = this.#o
    const now = o.clock.now()
    o.producer.add(
      deadLetterRecord({
        topic: o.deadLetterTopic,
        raw: ctx.raw,
        error: err,
        stage,
        attempts: ctx.attempt,
        app: o.appName,
        now,
        value: o.deadLetterValue,
      }),
    )
    this.metrics.deadLettered.inc(this.metrics.labels2('topic', ctx.raw.topic, 'code', err.code))
    // Bad input is normal; log a few per second, the metrics count them all.
    const second = Math.floor(now / 1000)
    const budget = this.#dlqLogBudget
    if (budget.second !== second) {
      budget.second = second
      budget.count = 0
    }
    if (budget.count++ < 5) {
      o.logger.warn('record dead-lettered', {
        stage,
        code: err.code,
        reason: err.message,
        ...origin(ctx.raw),
      })
    }
  }

  #fail(err: WeirError, stage: string, ctx: RecordContext): void {
    if (this.#failure !== undefined) return
    this.#failure = err
    this.#o.logger.error('pipeline failing on error (policy: fail)', {
      stage,
      error: err,
      ...origin(ctx.raw),
    })
    this.#onFatal(err)
  }

  #guard(node: GraphNode, run: (record: AnyRecord, ctx: RecordContext) => void | Promise<void>): Step {
    const stage = node.name
    const handling = 'errors' in node ? node.errors : NO_HANDLING
    // #attempt inlined, so the common case (no error) allocates no closure; a retry re-runs `run`.
    return (record, ctx) => {
      const c = ctx as Context
      if (c.start !== 0) this.#markStage(c, stage)
      let r: void | Promise<void>
      try {
        r = run(record, c)
      } catch (err) {
        return this.#handle(err, stage, c, handling, (again) => run(record, again))
      }
      if (r !== undefined && isPromise<void>(r)) {
        return r.then(undefined, (err: unknown) =>
          this.#handle(err, stage, c, handling, (again) => run(record, again)),
        )
      }
      return undefined
    }
  }

  #toTopic(node: GraphNode & { kind: 'topic-sink' }): Step {
    const { topic, key: keySerde, value: valueSerde } = node
    const producer = this.#o.producer
    const produced = this.metrics.produced
    const labels = this.metrics.label('topic', topic)
    const keyCtx: SerdeContext = { topic, isKey: true }
    const valueCtx: SerdeContext = { topic, isKey: false }
    const write = (record: AnyRecord, key: Buffer | null, value: Buffer | null) => {
      producer.add({ topic, key, value, headers: record.headers, timestamp: record.timestamp })
      produced.inc(labels)
    }
    return this.#guard(node, (record) => {
      const key = serialize(keySerde, record.key, keyCtx)
      const value = serialize(valueSerde, record.value, valueCtx)
      if (isPromise(key) || isPromise(value)) {
        return Promise.all([key, value]).then(([k, v]) => write(record, k, v))
      }
      write(record, key, value)
    })
  }

  #toSink(node: GraphNode & { kind: 'external-sink' }): Step {
    const { sink, toItem } = node
    return this.#guard(node, (record) => {
      sink.add(toItem(record))
    })
  }

  /** Partitions arrive: processors restore state for them before their records come. */
  async assigned(partitions: readonly TopicPartition[]): Promise<void> {
    for (const p of this.graph.processors) await p.assigned?.(partitions)
  }

  /** Partitions leave: finish their in-flight records, checkpoint, and drop their state. */
  async revoked(
    partitions: readonly TopicPartition[],
    commit: (offsets: readonly CommitOffset[]) => Promise<void>,
    prepare?: (offsets: readonly CommitOffset[]) => Promise<void>,
  ): Promise<void> {
    // Every record of these partitions goes through the graph first, however slow an async step: one
    // reaching a stateful operator after it dropped the partition would start from empty state and
    // write that to the changelog. Records only held (open windows, unwritten outputs) need not finish:
    // the processors' revoke emits or hands over what holds them.
    await this.tracker.processed(partitions)
    for (const p of this.graph.processors) await p.revoked?.(partitions)
    await this.tracker.idle(partitions)
    for (const s of this.graph.sinks) await s.revoked?.(partitions)
    try {
      await this.checkpoint(commit, prepare)
    } finally {
      // They leave whether or not the commit went through (a member fenced cannot commit): their state is
      // dropped already, and records past the last commit are read again by whoever gets them.
      this.tracker.drop(partitions)
    }
  }

  /**
   * See runCheckpoint: flush sinks → flush state changelogs → flush producer → commit offsets.
   * Exactly-once: from the call until the producer has fixed the transaction's content (step 3),
   * `holding()` asks the caller to feed no record; the checkpoint first waits until no record is
   * mid-processing, so the transaction holds the results of exactly the records whose offsets it
   * commits. Records then flow again while the transaction commits (their outputs wait in the producer
   * for the next one); processors' timers stay quiet until the commit.
   */
  async checkpoint(
    commit: (offsets: readonly CommitOffset[]) => Promise<void>,
    prepare?: (offsets: readonly CommitOffset[]) => Promise<void>,
  ): Promise<readonly CommitOffset[]> {
    if (this.#o.processing !== 'exactly-once') return this.#checkpoint(commit, prepare)
    this.#quiet = true
    let release!: () => void
    const holding = new Promise<void>((r) => {
      release = r
    })
    this.#holding = holding
    const sealed = () => {
      if (this.#holding === holding) this.#holding = undefined
      release()
    }
    try {
      await this.tracker.idle()
      return await this.#checkpoint(commit, prepare, sealed)
    } finally {
      sealed()
      this.#quiet = false
    }
  }

  /**
   * Exactly-once: settles when records may be fed again; undefined when they may now. Set from the
   * start of a checkpoint until its transaction's content is fixed.
   */
  holding(): Promise<void> | undefined {
    return this.#holding
  }

  #quiet = false
  #holding: Promise<void> | undefined
  #closed = false

  #checkpoint(
    commit: (offsets: readonly CommitOffset[]) => Promise<void>,
    prepare: ((offsets: readonly CommitOffset[]) => Promise<void>) | undefined,
    sealed?: () => void,
  ): Promise<readonly CommitOffset[]> {
    const started = performance.now()
    return runCheckpoint({
      tracker: this.tracker,
      sinks: this.graph.sinks as ReadonlyArray<Sink<unknown>>,
      processors: this.graph.processors,
      producer: this.#o.producer,
      commit,
      ...(prepare === undefined ? {} : { prepare }),
      ...(sealed === undefined ? {} : { sealed }),
    }).then(
      (offsets) => {
        this.metrics.checkpointSeconds.observe((performance.now() - started) / 1000)
        return offsets
      },
      (err: unknown) => {
        this.metrics.checkpointFailures.inc()
        throw toWeirError(err, ErrorCode.SINK_UNAVAILABLE)
      },
    )
  }

  /** The input is no longer read (stopping): processors stop taking quiet input for a lack of data. */
  inputPaused(): void {
    for (const p of this.graph.processors) p.inputPaused?.()
  }

  /** At a clean shutdown: processors emit what they hold (open wall-clock windows). */
  async drain(): Promise<void> {
    for (const p of this.graph.processors) await p.drain?.()
  }

  /** Backlog of every sink the task writes to. */
  backlog(): number {
    let n = this.#o.producer.backlog()
    for (const s of this.graph.sinks) n += s.backlog()
    return n
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const p of this.graph.processors) await p.close?.()
    for (const s of this.graph.sinks) await s.close()
  }
}

const NO_HANDLING: ErrorHandling = {}

interface Route {
  readonly labels: Labels
  readonly roots: ReadonlyArray<{
    readonly stage: string
    readonly run: (ctx: Context) => void | Promise<void>
  }>
}

/** Deserializes a raw record (the context's) and hands it to the source's step; re-run on retry. */
function deserializer(
  node: GraphNode & { kind: 'source' },
  next: Step,
): (ctx: Context) => void | Promise<void> {
  const keyCtx: SerdeContext = { topic: node.topic, isKey: true }
  const valueCtx: SerdeContext = { topic: node.topic, isKey: false }
  return (c) => {
    const raw = c.raw
    const key = node.key.deserialize(raw.key, keyCtx)
    const value = node.value.deserialize(raw.value, valueCtx)
    if (isPromise(key) || isPromise(value)) {
      return Promise.all([key, value]).then(([k, v]) => next(record(raw, k, v), c))
    }
    return next(record(raw, key, value), c)
  }
}

function record(raw: RawRecord, key: unknown, value: unknown): AnyRecord {
  return {
    key,
    value,
    headers: raw.headers,
    timestamp: raw.timestamp,
    topic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
  }
}

function serialize(
  serde: Serde<unknown>,
  value: unknown,
  ctx: SerdeContext,
): Buffer | null | Promise<Buffer | null> {
  return serde.serialize(value, ctx)
}

function origin(raw: AnyRecordOrigin): Record<string, unknown> {
  return { topic: raw.topic, partition: raw.partition, offset: raw.offset }
}

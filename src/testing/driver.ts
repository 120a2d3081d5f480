import type { CommitOffset } from '../connectors/contract.ts'
import { MemoryBroker } from '../connectors/memory/broker.ts'
import { memoryTransport } from '../connectors/memory/transport.ts'
import { VirtualClock } from '../core/clock.ts'
import type { MetricsRegistry } from '../core/metrics.ts'
import type { Headers, RawRecord, WeirRecord } from '../core/record.ts'
import { json, string, type Serde } from '../core/serde.ts'
import type { Pipeline } from '../dsl/stream.ts'
import type { Logger } from '../log/logger.ts'
import { silentLogger } from '../log/logger.ts'
import { createMetrics } from '../ops/metrics.ts'
import { readDeadLetter, type DeadLetterInfo, type DeadLetterValue } from '../runtime/dead-letter.ts'
import type { ErrorPolicy, RetryOptions } from '../runtime/error-policy.ts'
import { isPromise } from '../runtime/processor.ts'
import { Task } from '../runtime/task.ts'

export interface TestDriverOptions {
  /** Virtual time the test starts at (epoch ms). Default 2026-01-01T00:00:00Z. */
  readonly startTime?: number
  readonly deadLetterTopic?: string
  /** A dead letter's value instead of the original bytes, as `run`'s option of that name. */
  readonly deadLetterValue?: DeadLetterValue
  readonly errorPolicy?: ErrorPolicy
  readonly retry?: Partial<RetryOptions>
  readonly logger?: Logger
  readonly metrics?: MetricsRegistry
  /**
   * The broker to use. Give a second driver the first one's broker to restart the app: state is
   * restored from the changelogs the first one wrote.
   */
  readonly broker?: MemoryBroker
  /**
   * Partitions per input topic (default 1). `init()` assigns them, restoring their state, and internal
   * topics (changelogs) are created with as many.
   */
  readonly partitions?: number
  /**
   * Act as a source that tells how far it has read, as the Kafka source does: a partition counts as read
   * to its end only as of the last `caughtUp(...)`, and windows close on the wall clock only up to then
   * (a broker that cannot be reached, or a backlog, is a test that stops calling it). Default: the input
   * is always at hand, and quiet input closes windows as time passes.
   */
  readonly reportsCaughtUp?: boolean
}

export interface PipeOptions<K> {
  readonly key?: K
  readonly headers?: Headers
  /** Record timestamp; default: the virtual clock's now. */
  readonly timestamp?: number
  readonly partition?: number
  /** Input offset; default: one past the last one piped to the partition. Set it to re-read after a crash. */
  readonly offset?: number
}

export interface DeadLetter {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly info: DeadLetterInfo
}

/**
 * Runs a pipeline with no broker: pipe records in, move a virtual clock, read what came out.
 * Processing is synchronous where the pipeline is; `await driver.settle()` waits for async steps.
 *
 * @example
 * const driver = new TestDriver(p)
 * driver.input('traffic-raw').pipe({ speed: 50 })
 * assert.deepEqual(driver.output('traffic-events').values(), [...])
 */
export class TestDriver {
  readonly clock: VirtualClock
  readonly broker: MemoryBroker
  readonly task: Task
  readonly metrics: MetricsRegistry
  readonly #pipeline: Pipeline
  readonly #deadLetterTopic: string
  readonly #committed = new Map<string, number>()
  readonly #offsets = new Map<string, number>()
  readonly #partitions: number
  /** Internal topics the pipeline also reads (repartitioning), fed back into the task as they are written. */
  readonly #loops: readonly string[]
  readonly #loopPositions = new Map<string, number>()
  #initialised: Promise<void> | undefined
  #pending = new Set<Promise<void>>()
  readonly #caughtUp = new Map<string, number>()
  readonly #reachableSince = new Map<string, number>()

  constructor(pipeline: Pipeline, options: TestDriverOptions = {}) {
    this.#pipeline = pipeline
    this.clock = new VirtualClock(options.startTime ?? Date.UTC(2026, 0, 1))
    this.#deadLetterTopic = options.deadLetterTopic ?? `${pipeline.name}-dlq`
    this.metrics = options.metrics ?? createMetrics()
    this.broker = options.broker ?? new MemoryBroker()
    this.#partitions = options.partitions ?? 1
    const internal = new Set(pipeline.topology.topics().filter((t) => t.role === 'internal').map((t) => t.name))
    this.#loops = [...new Set(pipeline.topology.inputTopics())].filter((t) => internal.has(t))
    const transport = memoryTransport(this.broker, { clock: this.clock })
    this.task = new Task({
      appName: pipeline.name,
      topology: pipeline.topology,
      producer: transport.sink({ clientId: 'test-driver' }),
      readPartition: (tp, o) => transport.readPartition(tp, o),
      // Topics not written yet count as the driver's partitions (as the runner would create them).
      partitionCount: async (topic) => this.broker.partitionCount(topic) || this.#partitions,
      deadLetterTopic: this.#deadLetterTopic,
      deadLetterValue: options.deadLetterValue,
      errorPolicy: options.errorPolicy,
      retry: options.retry,
      clock: this.clock,
      logger: options.logger ?? silentLogger,
      metrics: this.metrics,
      sampleEvery: 1,
      ...(options.reportsCaughtUp
        ? {
            inputCaughtUpAt: (tp: string) => this.#caughtUpAt(tp),
            inputReachableSince: (tp: string) => this.#reachableSinceOf(tp),
          }
        : {}),
    })
  }

  /**
   * An internal (repartition) topic is fed back at once, so it is drained whenever what feeds it is: it
   * counts as caught up as of the least recent `caughtUp` of the driver's other inputs.
   */
  #caughtUpAt(tp: string): number | undefined {
    if (!this.#isLoop(tp)) return this.#caughtUp.get(tp)
    let least: number | undefined
    for (const input of this.#pipeline.topology.inputTopics()) {
      if (this.#loops.includes(input)) continue
      for (let p = 0; p < this.#partitions; p++) {
        const at = this.#caughtUp.get(`${input}:${p}`)
        if (at === undefined) return undefined
        if (least === undefined || at < least) least = at
      }
    }
    return least
  }

  /** An internal topic goes through the same broker: it was cut off whenever the driver's inputs were. */
  #reachableSinceOf(tp: string): number | undefined {
    if (!this.#isLoop(tp)) return this.#reachableSince.get(tp)
    let latest: number | undefined
    for (const [input, at] of this.#reachableSince)
      if (!this.#isLoop(input) && (latest === undefined || at > latest)) latest = at
    return latest
  }

  /** Is `tp` (`topic:partition`) a partition of an internal topic the driver feeds back? */
  #isLoop(tp: string): boolean {
    return this.#loops.includes(tp.slice(0, tp.lastIndexOf(':')))
  }

  /**
   * With `reportsCaughtUp`: the source has read everything there is on `topic` (every partition, or
   * `partition`) as of the clock's now.
   */
  caughtUp(topic: string, partition?: number): this {
    for (const tp of this.#partitionsOf(topic, partition)) this.#caughtUp.set(tp, this.clock.now())
    return this
  }

  /**
   * With `reportsCaughtUp`: the source reaches the broker again as of the clock's now, after an outage
   * (`topic`'s every partition, or `partition`). Quiet before it does not count: producers were cut off
   * too.
   */
  reconnected(topic: string, partition?: number): this {
    for (const tp of this.#partitionsOf(topic, partition)) this.#reachableSince.set(tp, this.clock.now())
    return this
  }

  /** `topic:partition` keys of `partition`, or of every partition of `topic`. */
  #partitionsOf(topic: string, partition?: number): string[] {
    const parts = partition === undefined ? Array.from({ length: this.#partitions }, (_, p) => p) : [partition]
    return parts.map((p) => `${topic}:${p}`)
  }

  /**
   * Initialises processors, then assigns the input partitions (stateful operators restore them from
   * their changelogs). Called by the first pipe; await it to surface errors, and before piping when
   * state must be restored first.
   */
  init(): Promise<void> {
    this.#initialised ??= this.#start()
    return this.#initialised
  }

  async #start(): Promise<void> {
    const topology = this.#pipeline.topology
    for (const t of topology.topics()) {
      if (t.role === 'internal') this.broker.createTopic(t.name, Math.max(t.partitions ?? 1, this.#partitions))
    }
    await this.task.init()
    const assigned = [...new Set(topology.inputTopics())].flatMap((topic) =>
      Array.from({ length: this.#partitions }, (_, partition) => ({ topic, partition })),
    )
    await this.task.assigned(assigned)
  }

  input<V = unknown, K = string | null>(topic: string): TestInput<K, V> {
    const roots = this.task.graph.roots.get(topic)
    if (roots === undefined) throw new Error(`the pipeline does not read topic "${topic}"`)
    const source = roots[0]!.node
    return new TestInput<K, V>(this, topic, source.key as Serde<K>, source.value as Serde<V>)
  }

  /** Feeds a raw record (bytes as they would come from Kafka). */
  pipeRaw(topic: string, value: Buffer | null, options: PipeOptions<Buffer | null> = {}): void {
    const partition = options.partition ?? 0
    if (partition >= this.#partitions && this.#pipeline.topology.topics().some((t) => t.role === 'internal')) {
      throw new Error(`pipe: partition ${partition} is beyond the driver's ${this.#partitions}; pass { partitions: ${partition + 1} } to the TestDriver`)
    }
    const key = `${topic}:${partition}`
    const offset = options.offset ?? this.#offsets.get(key) ?? 0
    this.#offsets.set(key, offset + 1)
    const raw: RawRecord = {
      topic,
      partition,
      offset,
      key: options.key ?? null,
      value,
      headers: options.headers ?? {},
      timestamp: options.timestamp ?? this.clock.now(),
    }
    void this.init()
    this.task.process(raw)
    this.#pump()
    const idle = this.task.tracker.idle()
    this.#pending.add(idle)
    void idle.then(() => this.#pending.delete(idle))
  }

  /** Waits until every piped record is fully processed (async operators, retries due on the clock). */
  async settle(): Promise<void> {
    await this.init()
    this.#pump()
    for (let i = 0; i < 100 && this.task.tracker.inFlight() > 0; i++) {
      await new Promise((r) => setImmediate(r))
      this.#pump()
    }
  }

  /** Processes what was written to internal topics the pipeline reads (from the committed offset on). */
  #pump(): void {
    if (this.#loops.length === 0) return
    for (let more = true; more; ) {
      more = false
      for (const topic of this.#loops) {
        for (let p = 0; p < this.broker.partitionCount(topic); p++) {
          const key = `${topic}:${p}`
          const from = this.#loopPositions.get(key) ?? this.broker.committed(this.#pipeline.name, topic, p) ?? 0
          const records = this.broker.read(topic, p, from, 1000)
          if (records.length === 0) continue
          this.#loopPositions.set(key, from + records.length)
          for (const r of records) this.task.process(r)
          more = true
        }
      }
    }
  }

  /** Moves virtual time forward, firing timers (window closes, retries) on the way. */
  async advance(ms: number): Promise<void> {
    await this.init()
    this.clock.advance(ms)
    await this.settle()
  }

  output<V = unknown, K = string | null>(topic: string, options: { key?: Serde<K>; value?: Serde<V> } = {}): TestOutput<K, V> {
    return new TestOutput<K, V>(
      this.broker,
      topic,
      options.key ?? (string() as unknown as Serde<K>),
      options.value ?? (json() as Serde<V>),
    )
  }

  /** Records sent to the dead-letter topic, with the reasons their headers carry. */
  deadLetters(): DeadLetter[] {
    return this.broker.all(this.#deadLetterTopic).map((r) => ({ key: r.key, value: r.value, info: readDeadLetter(r.headers) }))
  }

  /** Runs the checkpoint; returns the offsets it committed. */
  async checkpoint(): Promise<readonly CommitOffset[]> {
    await this.init()
    return this.task.checkpoint(async (offsets) => {
      for (const o of offsets) {
        this.#committed.set(`${o.topic}:${o.partition}`, o.offset)
        this.broker.commit(this.#pipeline.name, o.topic, o.partition, o.offset)
      }
    })
  }

  committed(topic: string, partition = 0): number | undefined {
    return this.#committed.get(`${topic}:${partition}`)
  }

  /** A clean stop: processors emit what they hold, then a final checkpoint. */
  async close(): Promise<void> {
    await this.settle()
    await this.task.drain()
    await this.settle()
    await this.checkpoint()
    await this.task.close()
  }
}

export class TestInput<K, V> {
  readonly #driver: TestDriver
  readonly #topic: string
  readonly #key: Serde<K>
  readonly #value: Serde<V>

  constructor(driver: TestDriver, topic: string, key: Serde<K>, value: Serde<V>) {
    this.#driver = driver
    this.#topic = topic
    this.#key = key
    this.#value = value
  }

  /** Serializes with the stream's serdes and feeds the record. */
  pipe(value: V, options: PipeOptions<K> = {}): this {
    const ctxV = { topic: this.#topic, isKey: false }
    const ctxK = { topic: this.#topic, isKey: true }
    const v = this.#value.serialize(value, ctxV)
    const k = options.key === undefined ? null : this.#key.serialize(options.key, ctxK)
    if (isPromise(v) || isPromise(k)) throw new Error('pipe: async serdes are not supported here; use pipeRaw')
    this.#driver.pipeRaw(this.#topic, v, { ...options, key: k })
    return this
  }

  pipeAll(values: Iterable<V>, options: PipeOptions<K> = {}): this {
    for (const v of values) this.pipe(v, options)
    return this
  }
}

export class TestOutput<K, V> {
  readonly #broker: MemoryBroker
  readonly #topic: string
  readonly #key: Serde<K>
  readonly #value: Serde<V>

  constructor(broker: MemoryBroker, topic: string, key: Serde<K>, value: Serde<V>) {
    this.#broker = broker
    this.#topic = topic
    this.#key = key
    this.#value = value
  }

  records(): Array<WeirRecord<K, V>> {
    return this.#broker.all(this.#topic).map((r) => {
      const key = this.#key.deserialize(r.key, { topic: this.#topic, isKey: true })
      const value = this.#value.deserialize(r.value, { topic: this.#topic, isKey: false })
      if (isPromise(key) || isPromise(value)) throw new Error('output: async serdes are not supported here')
      return { ...r, key, value }
    })
  }

  values(): V[] {
    return this.records().map((r) => r.value)
  }

  keyValues(): Array<[K, V]> {
    return this.records().map((r) => [r.key, r.value])
  }

  get size(): number {
    return this.#broker.all(this.#topic).length
  }
}

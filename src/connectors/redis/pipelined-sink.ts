import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Counter, Histogram, Labels } from '../../core/metrics.ts'
import { type Logger, silentLogger } from '../../log/logger.ts'
import type { ConnectorStatus, Sink } from '../contract.ts'
import { RespConnection } from './connection.ts'
import { isPermanentReply, rejected, unavailable } from './errors.ts'
import { type LatencySummary, LatencyWindow } from './latency.ts'
import { type RedisConnectionOptions, type ResolvedRedisOptions, resolveRedisOptions } from './options.ts'
import { type Reply, ReplyError, RespWriter } from './resp.ts'

/** Counters a Redis sink keeps for /metrics (see `redisMetricsJson`). */
export interface RedisSinkStats {
  /** Items Redis acknowledged (PUBLISH / SET / … answered without error). */
  readonly written: number
  /** Failed write attempts: pipelines that failed in part or whole, and flushes refused while disconnected. */
  readonly errors: number
  /** Items Redis refused for good and that were handed to `onRejected`. */
  readonly rejected: number
  readonly backlog: number
  readonly connected: boolean
  /** Round trip of each pipeline (one per chunk of up to `pipelineSize` items). */
  readonly latency: LatencySummary
  readonly lastError?: string
}

/** What a concrete Redis sink adds to the shared machinery: the commands for one item. */
export interface PipelinedSinkSpec<T> {
  /** Appends the commands for one item to the pipeline and returns how many it appended (≥ 1). */
  readonly write: (out: RespWriter, item: T) => number
  /** Items Redis refuses for good (WRONGTYPE, NOPERM, …); without it such an item blocks the sink. */
  readonly onRejected?: (item: T, err: WeirError) => void | Promise<void>
}

const TIMEOUT = Symbol('timeout')

/** Resolves to the promise's value, or to TIMEOUT after `ms`. */
async function within<V>(p: Promise<V>, ms: number): Promise<V | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, ms))
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The machinery every Redis sink shares. Items wait in one queue in `add` order; a pipeline always
 * carries the oldest ones, and only one is in flight at a time. When a pipeline fails part-way, the
 * items from the first failed one onwards stay at the head of the queue, so what Redis has is always a
 * prefix of what was added (order kept; an item after the failure that did get through is sent again:
 * at-least-once). A full chunk goes out in the background while buffering, so memory and flush time
 * stay small; `flush` sends the rest and waits, rejecting within `flushTimeoutMs` when Redis is down.
 */
export class RedisPipelinedSink<T> implements Sink<T> {
  readonly id: string
  readonly #opts: ResolvedRedisOptions
  readonly #spec: PipelinedSinkSpec<T>
  readonly #redis: RespConnection
  /** The pipeline being built or in flight (one at a time), reused from one to the next. */
  readonly #writer = new RespWriter()
  /** `open()` calls waiting for ready, or for an error reply to the handshake. */
  #opening: Array<(err: Error | undefined) => void> = []
  readonly #log: Logger
  #queue: T[] = []
  #head = 0
  #added = 0
  /** Items taken off the queue: written, or handed to onRejected. */
  #done = 0
  #inflight: Promise<WeirError | undefined> | undefined
  /** Set after a failed background send so `add` stops trying until the next flush or reconnect. */
  #paused = false
  #closed = false
  #lastError: string | undefined
  /** The last write failed because Redis was unreachable; cleared by `ready` or a write that succeeds. */
  #writeFailed = false
  #lost = false
  #written = 0
  #errors = 0
  #rejected = 0
  readonly #latency = new LatencyWindow()
  readonly #metrics:
    | { written: Counter; errors: Counter; rejected: Counter; seconds: Histogram; labels: Labels }
    | undefined

  constructor(kind: string, options: RedisConnectionOptions, spec: PipelinedSinkSpec<T>) {
    this.#opts = resolveRedisOptions(options)
    this.#spec = spec
    this.id = `redis-${kind}:${this.#opts.name}`
    this.#log = (options.logger ?? silentLogger).child({ sink: this.id, endpoint: this.#opts.endpoint })
    const m = options.metrics
    this.#metrics = m && {
      written: m.counter('weir_redis_written_total', 'Items Redis acknowledged, by sink'),
      errors: m.counter('weir_redis_write_errors_total', 'Failed Redis write attempts, by sink'),
      rejected: m.counter('weir_redis_rejected_total', 'Items Redis refused for good (sent to onRejected)'),
      seconds: m.histogram('weir_redis_pipeline_seconds', 'Round trip of one Redis pipeline'),
      labels: { sink: this.#opts.name },
    }
    this.#redis = new RespConnection(this.#opts.connection, {
      error: (err) => {
        if (this.#lastError !== err.message) this.#log.debug('redis error', { error: err })
        this.#lastError = err.message
        if (err instanceof ReplyError) this.#settleOpening(err)
      },
      close: () => {
        if (this.#closed || this.#lost) return
        this.#lost = true
        this.#lastError ??= 'connection closed'
        this.#log.warn('redis connection lost; reconnecting', { backlog: this.backlog() })
      },
      ready: () => {
        if (this.#lost) this.#log.info('redis reconnected', { backlog: this.backlog() })
        this.#lost = false
        this.#writeFailed = false
        this.#lastError = undefined
        this.#paused = false
        this.#settleOpening(undefined)
        this.#kick()
      },
    })
  }

  /** Connects and waits up to `connectTimeoutMs` for Redis to be ready; AUTH failures reject at once. */
  async open(): Promise<void> {
    if (this.#closed) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, `${this.id} is closed`)
    if (this.#redis.status === 'ready') return
    const ready = new Promise<Error | undefined>((resolve) => this.#opening.push(resolve))
    this.#redis.connect()
    const outcome = await within(ready, this.#opts.connectTimeoutMs)
    if (outcome === undefined) return
    const reason =
      outcome === TIMEOUT ? (this.#lastError ?? `not ready after ${this.#opts.connectTimeoutMs} ms`) : outcome
    throw unavailable(this.#opts.endpoint, reason, this.backlog())
  }

  add(item: T): void {
    if (this.#closed) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, `${this.id} is closed`)
    this.#queue.push(item)
    this.#added++
    if (this.#queue.length - this.#head >= this.#opts.pipelineSize) this.#kick()
  }

  async flush(): Promise<void> {
    if (this.#closed) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, `${this.id} is closed`)
    const target = this.#added
    if (this.#done >= target) return
    this.#paused = false
    const deadline = Date.now() + this.#opts.flushTimeoutMs
    while (this.#done < target) {
      if (this.#inflight === undefined && this.#redis.status !== 'ready') {
        this.#countError()
        throw unavailable(
          this.#opts.endpoint,
          this.#lastError ?? `connection ${this.#redis.status}`,
          this.backlog(),
        )
      }
      const outcome = await within(this.#inflight ?? this.#send(), deadline - Date.now())
      if (outcome === TIMEOUT) {
        this.#countError()
        throw unavailable(
          this.#opts.endpoint,
          `flush timed out after ${this.#opts.flushTimeoutMs} ms`,
          this.backlog(),
        )
      }
      if (outcome !== undefined) throw outcome
    }
  }

  backlog(): number {
    return this.#added - this.#done
  }

  /**
   * Does not flush: the runtime's final checkpoint does that. Items still buffered are dropped here;
   * their offsets were not committed, so they are read again after a restart.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#inflight) await within(this.#inflight, this.#opts.flushTimeoutMs)
    if (this.backlog() > 0)
      this.#log.warn('closing with unflushed items; they will be re-read', { backlog: this.backlog() })
    if (this.#redis.status === 'ready') await within(this.#redis.quit(), 1000)
    this.#redis.disconnect()
    this.#settleOpening(new Error('closed'))
  }

  status(): ConnectorStatus {
    if (this.#closed) return { connected: false, message: 'closed' }
    // A write that just failed for want of Redis outranks a client that has not noticed the close yet.
    if (this.#redis.status === 'ready' && !this.#writeFailed) return { connected: true }
    return { connected: false, message: this.#lastError ?? `redis ${this.#redis.status}` }
  }

  stats(): RedisSinkStats {
    const s = {
      written: this.#written,
      errors: this.#errors,
      rejected: this.#rejected,
      backlog: this.backlog(),
      connected: this.status().connected,
      latency: this.#latency.summary(),
    }
    return this.#lastError === undefined ? s : { ...s, lastError: this.#lastError }
  }

  #settleOpening(err: Error | undefined): void {
    const waiting = this.#opening
    this.#opening = []
    for (const settle of waiting) settle(err)
  }

  /** Sends the next full chunk in the background when Redis is ready and nothing is in flight. */
  #kick(): void {
    if (this.#inflight || this.#paused || this.#closed || this.#redis.status !== 'ready') return
    if (this.#queue.length - this.#head < this.#opts.pipelineSize) return
    void this.#send().then((err) => {
      if (err === undefined) this.#kick()
    })
  }

  #send(): Promise<WeirError | undefined> {
    const p = this.#sendChunk().then(
      (err) => err,
      (err: unknown) => this.#failed('unavailable', err),
    )
    this.#inflight = p.then((err) => {
      this.#inflight = undefined
      if (err) this.#paused = true
      return err
    })
    return this.#inflight
  }

  /** One pipeline with the oldest `pipelineSize` items; returns the error that stopped it, if any. */
  async #sendChunk(): Promise<WeirError | undefined> {
    const n = Math.min(this.#opts.pipelineSize, this.#queue.length - this.#head)
    if (n === 0) return undefined
    const out = this.#writer
    out.reset()
    const counts = new Array<number>(n)
    let invalid: Map<number, unknown> | undefined
    for (let i = 0; i < n; i++) {
      const before = out.length
      const commands = out.count
      try {
        counts[i] = this.#spec.write(out, this.#queue[this.#head + i]!)
      } catch (err) {
        out.truncate(before, commands)
        counts[i] = 0
        invalid ??= new Map()
        invalid.set(i, err)
      }
    }
    const started = performance.now()
    let results: Reply[]
    try {
      results = out.count === 0 ? [] : await this.#redis.exec(out.bytes(), out.count)
    } catch (err) {
      // The bytes may still sit in the failed socket's queue: the next pipeline gets new memory.
      out.discard()
      return this.#failed('unavailable', err)
    }
    const ms = performance.now() - started
    this.#latency.observe(ms)
    this.#metrics?.seconds.observe(ms / 1000, this.#metrics.labels)
    let r = 0
    let i = 0
    let written = 0
    let failure: { kind: 'unavailable' | 'rejected'; cause: unknown } | undefined
    for (; i < n; i++) {
      let err: unknown = invalid?.get(i)
      for (let c = 0; c < counts[i]!; c++) {
        const e = results[r++]
        if (e instanceof ReplyError && err === undefined) err = e
      }
      if (err === undefined) {
        written++
        continue
      }
      if (!isPermanentReply(err) && invalid?.has(i) !== true) {
        failure = { kind: 'unavailable', cause: err }
        break
      }
      if (this.#spec.onRejected === undefined) {
        failure = { kind: 'rejected', cause: err }
        break
      }
      try {
        await this.#spec.onRejected(this.#queue[this.#head + i]!, rejected(this.#opts.endpoint, err, 0))
        this.#rejected++
        this.#metrics?.rejected.inc(this.#metrics.labels)
      } catch (handlerErr) {
        failure = { kind: 'rejected', cause: handlerErr }
        break
      }
    }
    this.#written += written
    this.#metrics?.written.inc(this.#metrics.labels, written)
    this.#take(i)
    if (failure === undefined) this.#writeFailed = false
    return failure === undefined ? undefined : this.#failed(failure.kind, failure.cause)
  }

  /** Counts a failed attempt, remembers why, and builds the error flush rejects with. */
  #failed(kind: 'unavailable' | 'rejected', cause: unknown): WeirError {
    this.#countError()
    this.#lastError = cause instanceof Error ? cause.message : String(cause)
    if (kind === 'unavailable') this.#writeFailed = true
    return kind === 'unavailable'
      ? unavailable(this.#opts.endpoint, cause, this.backlog())
      : rejected(this.#opts.endpoint, cause, this.backlog())
  }

  #countError(): void {
    this.#errors++
    this.#metrics?.errors.inc(this.#metrics.labels)
  }

  /** Drops `n` items off the head of the queue, compacting it now and then. */
  #take(n: number): void {
    this.#head += n
    this.#done += n
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    } else if (this.#head >= 4096 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
  }
}

export type { RedisConnectionOptions }

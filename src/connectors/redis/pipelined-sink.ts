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
  /** Round trip of the pipeline each item went in; `count` is items, as the seed's per-message figure. */
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

/** A pipeline that got no replies (the connection failed). */
class Failed {
  readonly cause: unknown
  constructor(cause: unknown) {
    this.cause = cause
  }
}

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

/** Pipelines sent and not yet answered, at most. One connection answers them in order. */
const MAX_PIPELINES_IN_FLIGHT = 8

/**
 * The machinery every Redis sink shares. Items wait in one queue in `add` order; pipelines carry them
 * in that order, up to MAX_PIPELINES_IN_FLIGHT at once on the one connection, and their replies are
 * settled in the same order. When a pipeline fails part-way, the items from the first failed one
 * onwards stay at the head of the queue and the pipelines sent after it are disregarded, so what Redis
 * has is always a prefix of what was added (order kept; an item after the failure that did get through
 * is sent again: at-least-once). Full chunks go out in the background while buffering, so memory and
 * flush time stay small; `flush` sends the rest and waits, rejecting within `flushTimeoutMs` when Redis
 * is down.
 */
export class RedisPipelinedSink<T> implements Sink<T> {
  readonly id: string
  readonly #opts: ResolvedRedisOptions
  readonly #spec: PipelinedSinkSpec<T>
  readonly #redis: RespConnection
  /** Encoders of answered pipelines, for the next ones to reuse their memory. */
  readonly #writers: RespWriter[] = []
  /** `open()` calls waiting for ready, or for an error reply to the handshake. */
  #opening: Array<(err: Error | undefined) => void> = []
  readonly #log: Logger
  #queue: T[] = []
  #head = 0
  #added = 0
  /** Items taken off the queue: written, or handed to onRejected. */
  #done = 0
  /** Items at the head of the queue that are in pipelines sent and not settled yet. */
  #sent = 0
  /** Pipelines sent and not settled yet. */
  #inflight = 0
  /** Settles when every pipeline sent so far has been settled; never rejects. */
  #tail: Promise<void> = Promise.resolve()
  /** Bumped when a pipeline fails: pipelines sent after it (an older epoch) are disregarded. */
  #epoch = 0
  #failures = 0
  #lastFailure: WeirError | undefined
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
    const failures = this.#failures
    const deadline = Date.now() + this.#opts.flushTimeoutMs
    while (this.#done < target) {
      if (this.#inflight === 0 && this.#redis.status !== 'ready') {
        this.#countError()
        throw unavailable(
          this.#opts.endpoint,
          this.#lastError ?? `connection ${this.#redis.status}`,
          this.backlog(),
        )
      }
      while (this.#canSend() && this.#send(true)) {}
      const outcome = await within(this.#tail, deadline - Date.now())
      if (outcome === TIMEOUT) {
        this.#countError()
        throw unavailable(
          this.#opts.endpoint,
          `flush timed out after ${this.#opts.flushTimeoutMs} ms`,
          this.backlog(),
        )
      }
      if (this.#failures !== failures && this.#lastFailure !== undefined) throw this.#lastFailure
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
    if (this.#inflight > 0) await within(this.#tail, this.#opts.flushTimeoutMs)
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

  /** Sends full chunks in the background while Redis is ready and pipelines may be added. */
  #kick(): void {
    if (this.#paused || this.#closed) return
    while (this.#canSend() && this.#send(false)) {}
  }

  #canSend(): boolean {
    return this.#inflight < MAX_PIPELINES_IN_FLIGHT && this.#redis.status === 'ready'
  }

  /**
   * Sends the next `pipelineSize` unsent items (fewer only if `partial`); false if there were none.
   * The pipeline is settled after every pipeline sent before it.
   */
  #send(partial: boolean): boolean {
    const unsent = this.#queue.length - this.#head - this.#sent
    const n = Math.min(this.#opts.pipelineSize, unsent)
    if (n === 0 || (n < this.#opts.pipelineSize && !partial)) return false
    const from = this.#head + this.#sent
    this.#sent += n
    this.#inflight++
    const epoch = this.#epoch
    const out = this.#writers.pop() ?? new RespWriter()
    const counts = new Array<number>(n)
    let invalid: Map<number, unknown> | undefined
    for (let i = 0; i < n; i++) {
      const before = out.length
      const commands = out.count
      try {
        counts[i] = this.#spec.write(out, this.#queue[from + i]!)
      } catch (err) {
        out.truncate(before, commands)
        counts[i] = 0
        invalid ??= new Map()
        invalid.set(i, err)
      }
    }
    const started = performance.now()
    // Settled at once (never rejects), so a failure waiting for earlier pipelines is not "unhandled".
    const replies: Promise<Reply[] | Failed> = (
      out.count === 0 ? Promise.resolve([]) : this.#redis.exec(out.bytes(), out.count)
    ).then(
      (results) => {
        const ms = performance.now() - started
        this.#latency.observe(ms, n)
        this.#metrics?.seconds.observe(ms / 1000, this.#metrics.labels)
        out.reset()
        this.#writers.push(out)
        return results
      },
      (err: unknown) => {
        // The bytes may still sit in the failed socket's queue: this encoder gets new memory.
        out.discard()
        this.#writers.push(out)
        return new Failed(err)
      },
    )
    this.#tail = this.#tail
      .then(() => replies)
      .then((results) => {
        if (!(results instanceof Failed)) return this.#settle(epoch, n, counts, invalid, results)
        return epoch === this.#epoch ? this.#fail('unavailable', results.cause) : undefined
      })
      .then(
        (err) => {
          this.#inflight--
          if (err === undefined) this.#kick()
        },
        () => {
          this.#inflight--
        },
      )
    return true
  }

  /**
   * Takes a pipeline's items off the queue as its replies say: written, or refused for good and
   * handed to onRejected. Stops at the first item that failed otherwise; it and everything after it
   * will be sent again. A pipeline sent after a failed one (an older epoch) is disregarded.
   */
  async #settle(
    epoch: number,
    n: number,
    counts: readonly number[],
    invalid: Map<number, unknown> | undefined,
    results: readonly Reply[],
  ): Promise<WeirError | undefined> {
    if (epoch !== this.#epoch) return undefined
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
    this.#sent -= i
    if (failure === undefined) {
      this.#writeFailed = false
      return undefined
    }
    return this.#fail(failure.kind, failure.cause)
  }

  /** A pipeline failed: everything not taken is unsent again, and pipelines after it are disregarded. */
  #fail(kind: 'unavailable' | 'rejected', cause: unknown): WeirError {
    this.#epoch++
    this.#sent = 0
    this.#paused = true
    const err = this.#failed(kind, cause)
    this.#failures++
    this.#lastFailure = err
    return err
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

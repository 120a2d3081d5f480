import type { WeirError } from '../../core/errors.ts'
import type { OutgoingRecord } from '../../core/record.ts'

export interface SendQueueOptions {
  /** Sends one chunk; resolves once it is acknowledged. */
  readonly send: (chunk: readonly OutgoingRecord[]) => Promise<void>
  /** Turns what `send` threw into a WeirError; `retriable` decides between "keep and retry" and "refused". */
  readonly toError: (err: unknown) => WeirError
  /** How long `add()` waits for more records before sending. */
  readonly lingerMs: number
  readonly maxRecords: number
  /** Rough byte cap of one chunk (key + value + headers + overhead). */
  readonly maxBytes: number
  /** Gets a record the service refuses for good; without it such a record blocks every flush. */
  readonly onRejected?: (record: OutgoingRecord, err: WeirError) => void | Promise<void>
  /** Hears the outcome of every send (undefined: it worked), for status(). */
  readonly onOutcome?: (error: WeirError | undefined) => void
  /** After a retriable failure, background sends wait this long; a flush retries at once. Default 1000 ms. */
  readonly retryDelayMs?: number
}

interface Waiter {
  readonly upTo: number
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

/**
 * The buffer behind a batching sink. Records leave it only when acknowledged (or handed to
 * `onRejected`), so a failed send loses nothing: an outage keeps every record for the next flush, and a
 * chunk the service refuses is halved until the refused record is found. One send is in flight at a
 * time, so records keep their order.
 */
export class SendQueue {
  readonly #o: SendQueueOptions
  #pending: OutgoingRecord[] = []
  #added = 0
  #settled = 0
  #inflight: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #waiters: Waiter[] = []
  #retryAt = 0
  /** A refused record waits at the head for a flush (no onRejected). */
  #blocked = false
  /** While looking for a refused record: the chunk size limit and how many records it still covers. */
  #limit = Number.POSITIVE_INFINITY
  #limitLeft = 0
  /** Bumped by drop(): outcomes of sends started before it are ignored. */
  #epoch = 0

  constructor(options: SendQueueOptions) {
    this.#o = options
  }

  add(record: OutgoingRecord): void {
    this.#pending.push(record)
    this.#added++
    if (this.#pending.length >= this.#o.maxRecords) this.#kick(false)
    else this.#schedule()
  }

  /** Resolves when every record added before the call is acknowledged; rejects when a send fails. */
  flush(): Promise<void> {
    const upTo = this.#added
    if (upTo <= this.#settled) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ upTo, resolve, reject })
      this.#kick(true)
    })
  }

  backlog(): number {
    return this.#added - this.#settled
  }

  /** Forgets every record not yet acknowledged (a transaction abort) once the send in flight is over. */
  async drop(): Promise<number> {
    this.#epoch++
    clearTimeout(this.#timer)
    this.#timer = undefined
    const dropped = this.#pending.length
    this.#pending = []
    this.#settled = this.#added
    this.#blocked = false
    this.#limit = Number.POSITIVE_INFINITY
    this.#limitLeft = 0
    await this.#inflight?.catch(() => {})
    this.#settleWaiters()
    return dropped
  }

  /** Stops sending for good (the sink is closing): a send still in flight must not schedule another. */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #stopped = false

  #schedule(): void {
    if (this.#stopped || this.#timer !== undefined || this.#inflight || this.#blocked || this.#pending.length === 0) return
    const wait = Math.max(this.#o.lingerMs, this.#retryAt - Date.now())
    this.#timer = setTimeout(() => this.#kick(false), wait)
  }

  #kick(force: boolean): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#inflight || this.#pending.length === 0) return
    if (!force && (this.#blocked || Date.now() < this.#retryAt)) {
      this.#schedule()
      return
    }
    const n = this.#chunkSize()
    const chunk = this.#pending.slice(0, n)
    const epoch = this.#epoch
    const sent = this.#o.send(chunk).then(
      () => this.#onSent(epoch, n),
      (err: unknown) => this.#onFailed(epoch, chunk, this.#o.toError(err)),
    )
    this.#inflight = sent.finally(() => {
      this.#inflight = undefined
      this.#next()
    })
  }

  #chunkSize(): number {
    const limit = Math.min(this.#o.maxRecords, this.#limit, this.#pending.length)
    let bytes = 0
    let n = 0
    while (n < limit) {
      const r = this.#pending[n]!
      bytes += 24 + (r.key?.length ?? 0) + (r.value?.length ?? 0)
      if (r.headers) for (const k in r.headers) bytes += 8 + k.length + r.headers[k]!.length
      if (bytes > this.#o.maxBytes && n > 0) break
      n++
    }
    return n
  }

  #onSent(epoch: number, n: number): void {
    if (epoch !== this.#epoch) return
    this.#pending = this.#pending.slice(n)
    this.#settled += n
    this.#retryAt = 0
    this.#blocked = false
    this.#shrinkSearch(n)
    this.#o.onOutcome?.(undefined)
    this.#settleWaiters()
  }

  async #onFailed(epoch: number, chunk: readonly OutgoingRecord[], err: WeirError): Promise<void> {
    if (epoch !== this.#epoch) return
    if (!err.retriable) {
      this.#o.onOutcome?.(undefined)
      if (chunk.length > 1) {
        // Somewhere in the chunk is a record the service refuses: halve until it is alone.
        this.#limit = Math.ceil(chunk.length / 2)
        this.#limitLeft = Math.max(this.#limitLeft, chunk.length)
        return
      }
      const handler = this.#o.onRejected
      if (handler) {
        this.#pending = this.#pending.slice(1)
        this.#settled += 1
        this.#shrinkSearch(1)
        try {
          await handler(chunk[0]!, err)
        } catch {
          // the handler's own failure must not stop the queue
        }
        this.#settleWaiters()
        return
      }
      this.#blocked = true
    } else {
      this.#o.onOutcome?.(err)
      this.#retryAt = Date.now() + (this.#o.retryDelayMs ?? 1000)
    }
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w.reject(err)
  }

  /**
   * After a send settles: a waiting flush always gets an attempt (it came after the last failure was
   * reported); otherwise keep going while records are due, else wait for the linger timer.
   */
  #next(): void {
    if (this.#pending.length === 0) return
    const ready = !this.#blocked && Date.now() >= this.#retryAt
    const due = this.#pending.length >= this.#o.maxRecords || this.#limitLeft > 0
    if (this.#waiters.length > 0 || (ready && due)) this.#kick(true)
    else this.#schedule()
  }

  #shrinkSearch(n: number): void {
    if (this.#limitLeft <= 0) return
    this.#limitLeft -= n
    if (this.#limitLeft <= 0) this.#limit = Number.POSITIVE_INFINITY
  }

  #settleWaiters(): void {
    if (this.#waiters.length === 0) return
    const settled = this.#settled
    const done = this.#waiters.filter((w) => w.upTo <= settled)
    if (done.length === 0) return
    this.#waiters = this.#waiters.filter((w) => w.upTo > settled)
    for (const w of done) w.resolve()
  }
}

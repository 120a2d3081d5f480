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
  /** A record larger than `bytes` (counted as for `maxBytes`) is refused with `refusal` without being sent. */
  readonly recordLimit?: { readonly bytes: number; readonly refusal: (bytes: number) => WeirError }
  /** Gets a record the service refuses for good; without it such a record blocks every flush. */
  readonly onRejected?: (record: OutgoingRecord, err: WeirError) => void | Promise<void>
  /** Hears the outcome of every send (undefined: it worked), for status(). */
  readonly onOutcome?: (error: WeirError | undefined) => void
  /**
   * Hears a send the service refused (not retriable) after it was sent: part of its chunk may be
   * written (a request spans partitions), which a transaction cannot take back.
   */
  readonly onRefused?: (error: WeirError) => void
  /** After a retriable failure, background sends wait this long; a flush retries at once. Default 1000 ms. */
  readonly retryDelayMs?: number
}

/** Stands in for a record that was sent, in the slots before the head. */
const SENT: OutgoingRecord = Object.freeze({ topic: '', key: null, value: null })

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
 *
 * Batching: a send starts once a full chunk (`maxRecords` or `maxBytes`) is waiting, or once the oldest
 * waiting record has waited `lingerMs` (0: at the end of the current event-loop turn). While a send is
 * in flight, what arrives waits and goes in the next one, so under load chunks fill up by themselves.
 */
export class SendQueue {
  readonly #o: SendQueueOptions
  /** Records not yet acknowledged are `#pending[#head…]`; the head moves instead of copying the array. */
  #pending: OutgoingRecord[] = []
  #head = 0
  #added = 0
  #settled = 0
  #inflight: Promise<void> | undefined
  /** When the oldest record not yet in a send was added (performance.now()); -1: none waits. */
  #waitingSince = -1
  #timer: NodeJS.Timeout | undefined
  #immediate: NodeJS.Immediate | undefined
  #waiters: Waiter[] = []
  #retryAt = 0
  /** A refused record waits at the head for a flush (no onRejected). */
  #blocked = false
  /** While looking for a refused record: the chunk size limit and how many records it still covers. */
  #limit = Number.POSITIVE_INFINITY
  #limitLeft = 0
  /** Bumped by drop(): outcomes of sends started before it are ignored. */
  #epoch = 0
  /** Records numbered from here on (counted like `#added`) wait until `lift()`; see `fence()`. */
  #fence = Number.POSITIVE_INFINITY
  #stopped = false

  constructor(options: SendQueueOptions) {
    this.#o = options
  }

  add(record: OutgoingRecord): void {
    this.#pending.push(record)
    this.#added++
    if (this.#waitingSince < 0) this.#waitingSince = performance.now()
    if (this.#pending.length - this.#head >= this.#o.maxRecords) this.#kick(false)
    else if (this.#timer === undefined && this.#immediate === undefined) this.#schedule()
  }

  /**
   * Resolves when every record added before the call (while fenced: before the fence) is acknowledged;
   * rejects when a send fails.
   */
  flush(): Promise<void> {
    const upTo = Math.min(this.#added, this.#fence)
    if (upTo <= this.#settled) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ upTo, resolve, reject })
      this.#kick(true)
    })
  }

  backlog(): number {
    return this.#added - this.#settled
  }

  /**
   * Records added from now on are kept back, not sent, until `lift()`: a transaction's content is fixed
   * while it commits, and what is added meanwhile goes in the next one. Already fenced: no change.
   */
  fence(): void {
    if (this.#fence === Number.POSITIVE_INFINITY) this.#fence = this.#added
  }

  /** Sends what the fence kept back (the next transaction has begun or may begin). */
  lift(): void {
    if (this.#fence === Number.POSITIVE_INFINITY) return
    this.#fence = Number.POSITIVE_INFINITY
    if (this.#fullChunkWaits()) this.#kick(false)
    else this.#schedule()
  }

  /** Forgets every record not yet acknowledged (a transaction abort) once the send in flight is over. */
  async drop(): Promise<number> {
    this.#epoch++
    this.#clearTimers()
    const dropped = this.#pending.length - this.#head
    this.#pending = []
    this.#head = 0
    this.#waitingSince = -1
    this.#settled = this.#added
    this.#fence = Number.POSITIVE_INFINITY
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
    this.#clearTimers()
  }

  /** Records waiting to be sent (or in the send in flight) that the fence lets through. */
  get #count(): number {
    return Math.min(this.#pending.length - this.#head, this.#fence - this.#settled)
  }

  #clearTimers(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#timer = undefined
    this.#immediate = undefined
  }

  #schedule(): void {
    if (this.#stopped || this.#timer !== undefined || this.#immediate !== undefined) return
    if (this.#inflight || this.#blocked || this.#count === 0) return
    const now = performance.now()
    const lingered = this.#waitingSince < 0 ? 0 : now - this.#waitingSince
    const wait = Math.max(this.#o.lingerMs - lingered, this.#retryAt - Date.now())
    if (wait <= 0) {
      this.#immediate = setImmediate(() => {
        this.#immediate = undefined
        this.#kick(false)
      })
    } else {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        this.#kick(false)
      }, wait)
    }
  }

  #kick(force: boolean): void {
    this.#clearTimers()
    if (this.#inflight || this.#count === 0) return
    if (!force && (this.#blocked || Date.now() < this.#retryAt)) {
      this.#schedule()
      return
    }
    const n = this.#chunkSize()
    const epoch = this.#epoch
    let outcome: Promise<void>
    if (n === 0) {
      // The head record alone is over the record limit: refused here, as the service would refuse it.
      const head = this.#pending[this.#head]!
      const err = this.#o.recordLimit!.refusal(recordBytes(head))
      outcome = Promise.resolve().then(() => this.#onFailed(epoch, [head], err, false))
    } else {
      const chunk = this.#pending.slice(this.#head, this.#head + n)
      // Records left behind keep their (earlier) waiting time; with none left, the next add starts it anew.
      if (n === this.#count) this.#waitingSince = -1
      outcome = this.#o.send(chunk).then(
        () => this.#onSent(epoch, n),
        (err: unknown) => this.#onFailed(epoch, chunk, this.#o.toError(err), true),
      )
    }
    this.#inflight = outcome.finally(() => {
      this.#inflight = undefined
      this.#next()
    })
  }

  /**
   * How many records from the head the next chunk takes: up to maxRecords, maxBytes and the search limit,
   * and never a record over the record limit (0: the head is one).
   */
  #chunkSize(): number {
    const limit = Math.min(this.#o.maxRecords, this.#limit, this.#count)
    const pending = this.#pending
    const head = this.#head
    const maxBytes = this.#o.maxBytes
    const maxRecord = this.#o.recordLimit?.bytes ?? Number.POSITIVE_INFINITY
    let bytes = 0
    let n = 0
    while (n < limit) {
      const size = recordBytes(pending[head + n]!)
      if (size > maxRecord) break
      bytes += size
      if (bytes > maxBytes && n > 0) break
      n++
    }
    return n
  }

  /** Takes `n` acknowledged (or handed over) records off the head. */
  #advance(n: number): void {
    const q = this.#pending
    // Let go of what was sent now, not at the next compaction: the records hold their bytes.
    q.fill(SENT, this.#head, this.#head + n)
    this.#head += n
    this.#settled += n
    if (this.#head === q.length) {
      this.#pending = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#pending = q.slice(this.#head)
      this.#head = 0
    }
  }

  #onSent(epoch: number, n: number): void {
    if (epoch !== this.#epoch) return
    this.#advance(n)
    this.#retryAt = 0
    this.#blocked = false
    this.#shrinkSearch(n)
    this.#o.onOutcome?.(undefined)
    this.#settleWaiters()
  }

  async #onFailed(
    epoch: number,
    chunk: readonly OutgoingRecord[],
    err: WeirError,
    wasSent: boolean,
  ): Promise<void> {
    if (epoch !== this.#epoch) return
    // The chunk is back among the waiting records.
    this.#waitingSince = performance.now() - this.#o.lingerMs
    if (!err.retriable) {
      this.#o.onOutcome?.(undefined)
      if (wasSent) this.#o.onRefused?.(err)
      if (chunk.length > 1) {
        // Somewhere in the chunk is a record the service refuses: halve until it is alone.
        this.#limit = Math.ceil(chunk.length / 2)
        this.#limitLeft = Math.max(this.#limitLeft, chunk.length)
        return
      }
      const handler = this.#o.onRejected
      if (handler) {
        this.#advance(1)
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
   * reported); a full chunk (or a refused-record search) goes at once; otherwise wait for the linger.
   */
  #next(): void {
    if (this.#count === 0) return
    const ready = !this.#blocked && Date.now() >= this.#retryAt
    if (this.#waiters.length > 0 || (ready && (this.#limitLeft > 0 || this.#fullChunkWaits())))
      this.#kick(true)
    else this.#schedule()
  }

  /** True when the waiting records fill at least one chunk (by count or by bytes). */
  #fullChunkWaits(): boolean {
    const count = this.#count
    if (count >= this.#o.maxRecords) return true
    return this.#chunkSize() < count
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

/** A record's size as the chunk limits count it: key, value and headers plus a fixed overhead. */
function recordBytes(r: OutgoingRecord): number {
  let bytes = 24 + (r.key === null ? 0 : r.key.length) + (r.value === null ? 0 : r.value.length)
  const h = r.headers
  if (h !== undefined) for (const k in h) bytes += 8 + k.length + h[k]!.length
  return bytes
}

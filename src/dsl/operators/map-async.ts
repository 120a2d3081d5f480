import type { WeirRecord } from '../../core/record.ts'
import type { AnyRecord, Emit, Processor, RecordContext } from '../../runtime/processor.ts'

interface Pending {
  record: AnyRecord
  ctx: RecordContext
  settled: boolean
  value: unknown
  error: unknown
  failed: boolean
  resolve: (v: void | Promise<void>) => void
  reject: (e: unknown) => void
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null &&
  (typeof v === 'object' || typeof v === 'function') &&
  typeof (v as PromiseLike<unknown>).then === 'function'

/**
 * Calls an async function for each value with at most `concurrency` calls running, and emits the
 * results in input order, so per-partition ordering survives concurrency. Over the limit, `process`
 * returns a promise that settles later: the runtime counts the record as in flight and applies
 * backpressure.
 *
 * `fn` may also answer at once (a value, not a promise: a cache hit). With nothing earlier still
 * waiting, that record is emitted on the spot, like `map`: no promise, no queue entry, so a stage whose
 * lookups mostly hit its cache pays for the few that do not.
 */
export function mapAsync<K, V, R>(
  name: string,
  fn: (value: V, record: WeirRecord<K, V>) => R | Promise<R>,
  concurrency: number,
): Processor {
  const queue: Pending[] = []
  let running = 0
  const waiting: Array<() => void> = []

  const drainHead = () => {
    while (queue.length > 0 && queue[0]!.settled) {
      const head = queue.shift()!
      if (head.failed) head.reject(head.error)
      else {
        const r = head.record
        try {
          head.resolve(emitFrom(head.value, r, head.ctx))
        } catch (err) {
          head.reject(err)
        }
      }
    }
  }
  let downstream: Emit | undefined
  const emitFrom = (value: unknown, r: AnyRecord, ctx: RecordContext) =>
    downstream!(
      {
        key: r.key,
        value,
        headers: r.headers,
        timestamp: r.timestamp,
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
      },
      ctx,
    )

  const settle = (p: Pending, result: PromiseLike<unknown>) => {
    running++
    void Promise.resolve(result)
      .then(
        (v) => {
          p.value = v
        },
        (e) => {
          p.failed = true
          p.error = e
        },
      )
      .finally(() => {
        p.settled = true
        running--
        startWaiting()
        drainHead()
      })
  }
  // A call answered at once frees no slot (it never took one), so keep starting until one is taken.
  const startWaiting = () => {
    while (running < concurrency && waiting.length > 0) waiting.shift()!()
  }
  const start = (p: Pending, record: WeirRecord<K, V>) => {
    let result: R | Promise<R>
    try {
      result = fn(record.value, record)
    } catch (err) {
      result = Promise.reject(err)
    }
    if (isThenable(result)) settle(p, result)
    else {
      p.value = result
      p.settled = true
      drainHead()
    }
  }

  /** A record that waits in order for its result; `begin` starts (or queues) the call for it. */
  const enqueue = (record: AnyRecord, ctx: RecordContext, begin: (p: Pending) => void) =>
    new Promise<void>((resolve, reject) => {
      const p: Pending = {
        record,
        ctx,
        settled: false,
        value: undefined,
        error: undefined,
        failed: false,
        resolve,
        reject,
      }
      queue.push(p)
      begin(p)
    })

  return {
    name,
    process(record: WeirRecord<K, V>, ctx: RecordContext, emit: Emit) {
      downstream = emit
      if (queue.length === 0 && running < concurrency) {
        // Nothing earlier waits: an answer given at once goes straight on (a throw is this record's error).
        const result = fn(record.value, record)
        if (!isThenable(result)) return emitFrom(result, record, ctx)
        return enqueue(record, ctx, (p) => settle(p, result))
      }
      return enqueue(record, ctx, (p) => {
        if (running < concurrency) start(p, record)
        else waiting.push(() => start(p, record))
      })
    },
  }
}

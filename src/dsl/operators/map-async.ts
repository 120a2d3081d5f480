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

/**
 * Calls an async function for each value with at most `concurrency` calls running, and emits the
 * results in input order, so per-partition ordering survives concurrency. Over the limit, `process`
 * returns a promise that settles later: the runtime counts the record as in flight and applies
 * backpressure.
 */
export function mapAsync<K, V, R>(
  name: string,
  fn: (value: V, record: WeirRecord<K, V>) => Promise<R>,
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
          head.resolve(emitFrom(head, r))
        } catch (err) {
          head.reject(err)
        }
      }
    }
  }
  let downstream: Emit | undefined
  const emitFrom = (head: Pending, r: AnyRecord) =>
    downstream!(
      {
        key: r.key,
        value: head.value,
        headers: r.headers,
        timestamp: r.timestamp,
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
      },
      head.ctx,
    )

  const start = (p: Pending, record: WeirRecord<K, V>) => {
    running++
    void Promise.resolve()
      .then(() => fn(record.value, record))
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
        waiting.shift()?.()
        drainHead()
      })
  }

  return {
    name,
    process(record: WeirRecord<K, V>, ctx: RecordContext, emit: Emit) {
      downstream = emit
      return new Promise<void>((resolve, reject) => {
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
        if (running < concurrency) start(p, record)
        else waiting.push(() => start(p, record))
      })
    },
  }
}

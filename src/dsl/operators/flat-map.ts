import type { WeirRecord } from '../../core/record.ts'
import { isPromise, type Emit, type Processor, type RecordContext } from '../../runtime/processor.ts'

/** Turns each value into zero or more values, emitted in order with the input's key and time. */
export function flatMap<K, V, R>(
  name: string,
  fn: (value: V, record: WeirRecord<K, V>) => Iterable<R>,
): Processor {
  return {
    name,
    process(record: WeirRecord<K, V>, ctx: RecordContext, emit: Emit) {
      let pending: Promise<void>[] | undefined
      for (const value of fn(record.value, record)) {
        const r = emit(
          {
            key: record.key,
            value,
            headers: record.headers,
            timestamp: record.timestamp,
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
          },
          ctx,
        )
        if (isPromise<void>(r)) {
          pending ??= []
          pending.push(r)
        }
      }
      if (pending) return Promise.all(pending).then(() => undefined)
    },
  }
}

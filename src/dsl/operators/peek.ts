import type { WeirRecord } from '../../core/record.ts'
import type { Emit, Processor, RecordContext } from '../../runtime/processor.ts'

/** Calls `fn` for its side effect (logging, counting) and passes the record on unchanged. */
export function peek<K, V>(name: string, fn: (value: V, record: WeirRecord<K, V>) => void): Processor {
  return {
    name,
    process(record: WeirRecord<K, V>, ctx: RecordContext, emit: Emit) {
      fn(record.value, record)
      return emit(record, ctx)
    },
  }
}

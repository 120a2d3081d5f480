import type { WeirRecord } from '../../core/record.ts'
import type { Emit, Processor, RecordContext } from '../../runtime/processor.ts'

/** Keeps the records for which `predicate` is true. */
export function filter<K, V>(name: string, predicate: (value: V, record: WeirRecord<K, V>) => boolean): Processor {
  return {
    name,
    process(record: WeirRecord<K, V>, ctx: RecordContext, emit: Emit) {
      if (predicate(record.value, record)) return emit(record, ctx)
    },
  }
}

import type { Emit, AnyRecord, Processor, RecordContext } from '../../runtime/processor.ts'

/** Forwards records unchanged: the node behind `merge` and behind each named output of a router. */
export function passThrough(name: string): Processor {
  return {
    name,
    process: (record: AnyRecord, ctx: RecordContext, emit: Emit) => emit(record, ctx),
  }
}

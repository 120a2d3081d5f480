import type { WeirRecord } from '../../core/record.ts'
import type { Emit, Outputs, Processor, RecordContext } from '../../runtime/processor.ts'

/**
 * Routes each record to the first branch whose predicate matches, or to `default` if none does
 * (records matching nothing are dropped when there is no default branch).
 */
export function split<K, V>(
  name: string,
  branches: ReadonlyArray<readonly [string, (value: V, record: WeirRecord<K, V>) => boolean]>,
): Processor {
  return {
    name,
    process(record: WeirRecord<K, V>, ctx: RecordContext, _emit: Emit, outputs: Outputs) {
      for (const [branch, predicate] of branches) {
        if (predicate(record.value, record)) return outputs.port(branch)?.(record, ctx)
      }
      return outputs.port('default')?.(record, ctx)
    },
  }
}

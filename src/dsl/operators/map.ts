import type { WeirRecord } from '../../core/record.ts'
import type { Emit, Processor, RecordContext } from '../../runtime/processor.ts'

/** Replaces each value with `fn(value, record)`; key, headers and time are kept. */
export function mapValues<K, V, R>(name: string, fn: (value: V, record: WeirRecord<K, V>) => R): Processor {
  return {
    name,
    process(record: WeirRecord<K, V>, ctx: RecordContext, emit: Emit) {
      const value = fn(record.value, record)
      return emit(
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
    },
  }
}

/** What `mapRecord` may change about a record. */
export interface RecordUpdate<K, V> {
  readonly key: K
  readonly value: V
  readonly headers?: WeirRecord<K, V>['headers']
  readonly timestamp?: number
}

/** Replaces key and value (and optionally headers and timestamp) of each record. */
export function mapRecord<K, V, K2, V2>(
  name: string,
  fn: (record: WeirRecord<K, V>) => RecordUpdate<K2, V2>,
): Processor {
  return {
    name,
    process(record: WeirRecord<K, V>, ctx: RecordContext, emit: Emit) {
      const next = fn(record)
      return emit(
        {
          key: next.key,
          value: next.value,
          headers: next.headers ?? record.headers,
          timestamp: next.timestamp ?? record.timestamp,
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
        },
        ctx,
      )
    },
  }
}

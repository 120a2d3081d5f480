/** What every generator makes: one record for a topic, its key, a plain-object value and a timestamp. */
import { ErrorCode, WeirError } from '../core/errors.ts'

/** Which way a deliberately bad record is bad, and the (dotted) field that was spoiled. */
export interface Defect<K extends string> {
  readonly kind: K
  readonly field: string
}

interface Base<T extends string> {
  readonly topic: T
  readonly key: string
  /** Epoch ms: when the generator made the record (use it as the Kafka record timestamp). */
  readonly timestamp: number
}

export interface ValidRecord<V, T extends string = string> extends Base<T> {
  readonly value: V
  readonly defect?: undefined
}

/** A deliberately invalid record: `value` breaks the schema on purpose, `defect` says how. */
export interface InvalidRecord<K extends string, T extends string = string> extends Base<T> {
  readonly value: unknown
  readonly defect: Defect<K>
}

/** A generated record; narrow with `record.defect === undefined` to get the typed value. */
export type Generated<V, K extends string = never, T extends string = string> = [K] extends [never]
  ? ValidRecord<V, T>
  : ValidRecord<V, T> | InvalidRecord<K, T>

export interface RecordGenerator<R> {
  next(): R
  take(n: number): R[]
}

/** Shared options check: a share in [0, 1]. */
export function checkShare(name: string, share: number): number {
  if (!(share >= 0 && share <= 1))
    throw new WeirError(ErrorCode.CONFIG_INVALID, `${name} must be within 0..1, got ${share}`)
  return share
}

export function checkCount(name: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max)
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `${name} must be an integer within ${min}..${max}, got ${n}`,
    )
  return n
}

/** `take(n)` for any `next()`. */
export function takeFrom<R>(next: () => R, n: number): R[] {
  checkCount('take(n)', n, 0, 100_000_000)
  const out = new Array<R>(n)
  for (let i = 0; i < n; i++) out[i] = next()
  return out
}

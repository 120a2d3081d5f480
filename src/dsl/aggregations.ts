import { ErrorCode, WeirError } from '../core/errors.ts'

/**
 * An incremental aggregation: the typed reducer behind every window and grouped aggregate.
 * The accumulator `A` is what state keeps (JSON-serializable when the state is durable); `R` is what is
 * emitted. `add` may update `acc` in place and return it. `merge` combines two accumulators: session
 * windows need it to join sessions that a record bridges.
 *
 * @example
 * const spread: Aggregation<Reading, { lo: number; hi: number } | null, number> = reducer({
 *   init: () => null,
 *   add: (acc, r) => acc === null ? { lo: r.speed, hi: r.speed } : { lo: Math.min(acc.lo, r.speed), hi: Math.max(acc.hi, r.speed) },
 *   result: (acc) => acc === null ? 0 : acc.hi - acc.lo,
 * })
 */
export interface Aggregation<V, A, R> {
  init(): A
  /** `time` is the record's time in the window (event or processing time). */
  add(acc: A, value: V, time: number): A
  merge?(a: A, b: A): A
  result(acc: A): R
}

// biome-ignore lint/suspicious/noExplicitAny: the accumulator and result types are inferred per entry
type AnyAggregation<V> = Aggregation<V, any, any>
type AccOf<T> = T extends Aggregation<never, infer A, unknown> ? A : never
type ResultOf<T> = T extends Aggregation<never, unknown, infer R> ? R : never

/** A numeric field of a value; `null`, `undefined` and NaN are skipped, as SQL skips NULL. */
export type NumberOf<V> = (value: V) => number | null | undefined

function num(x: number | null | undefined): x is number {
  return typeof x === 'number' && !Number.isNaN(x)
}

function checkFn(fn: unknown, what: string): void {
  if (typeof fn !== 'function')
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `${what}: expected a function, got ${typeof fn}`)
}

/** Number of records. */
export function count<V = unknown>(): Aggregation<V, number, number> {
  return { init: () => 0, add: (n) => n + 1, merge: (a, b) => a + b, result: (n) => n }
}

/** Sum of a numeric field (0 for none). */
export function sum<V>(field: NumberOf<V>): Aggregation<V, number, number> {
  checkFn(field, 'sum')
  return {
    init: () => 0,
    add: (s, v) => {
      const x = field(v)
      return num(x) ? s + x : s
    },
    merge: (a, b) => a + b,
    result: (s) => s,
  }
}

/** Mean of a numeric field; null if no value counted. */
export function avg<V>(field: NumberOf<V>): Aggregation<V, { n: number; sum: number }, number | null> {
  checkFn(field, 'avg')
  return {
    init: () => ({ n: 0, sum: 0 }),
    add: (acc, v) => {
      const x = field(v)
      if (num(x)) {
        acc.n++
        acc.sum += x
      }
      return acc
    },
    merge: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum }),
    result: (acc) => (acc.n === 0 ? null : acc.sum / acc.n),
  }
}

function extreme<V>(
  field: NumberOf<V>,
  pick: (a: number, b: number) => number,
  what: string,
): Aggregation<V, number | null, number | null> {
  checkFn(field, what)
  return {
    init: () => null,
    add: (m, v) => {
      const x = field(v)
      return num(x) ? (m === null ? x : pick(m, x)) : m
    },
    merge: (a, b) => (a === null ? b : b === null ? a : pick(a, b)),
    result: (m) => m,
  }
}

/** Smallest value of a numeric field; null if none. */
export function min<V>(field: NumberOf<V>): Aggregation<V, number | null, number | null> {
  return extreme(field, Math.min, 'min')
}

/** Largest value of a numeric field; null if none. */
export function max<V>(field: NumberOf<V>): Aggregation<V, number | null, number | null> {
  return extreme(field, Math.max, 'max')
}

/** Welford's running moments: count, mean and sum of squared differences from the mean. */
export interface Moments {
  n: number
  mean: number
  m2: number
}

export interface VarianceOptions {
  /** Divide by n − 1 (sample variance) instead of n (population variance, the default). */
  readonly sample?: boolean
}

function moments<V>(field: NumberOf<V>, what: string): Omit<Aggregation<V, Moments, never>, 'result'> {
  checkFn(field, what)
  return {
    init: () => ({ n: 0, mean: 0, m2: 0 }),
    add: (m, v) => {
      const x = field(v)
      if (!num(x)) return m
      m.n++
      const d = x - m.mean
      m.mean += d / m.n
      m.m2 += d * (x - m.mean)
      return m
    },
    // Chan et al.'s parallel combination, so sessions can merge.
    merge: (a, b) => {
      if (a.n === 0) return { ...b }
      if (b.n === 0) return { ...a }
      const n = a.n + b.n
      const d = b.mean - a.mean
      return { n, mean: a.mean + (d * b.n) / n, m2: a.m2 + b.m2 + (d * d * a.n * b.n) / n }
    },
  }
}

/** null with no values; 0 for a single value (also as a sample, where n − 1 = 0). */
function varianceOf(m: Moments, sample: boolean): number | null {
  if (m.n === 0) return null
  const div = sample ? m.n - 1 : m.n
  return div <= 0 ? 0 : Math.max(0, m.m2 / div)
}

/** Variance of a numeric field (numerically stable, one pass); null if none. */
export function variance<V>(
  field: NumberOf<V>,
  options: VarianceOptions = {},
): Aggregation<V, Moments, number | null> {
  const sample = options.sample ?? false
  return { ...moments(field, 'variance'), result: (m) => varianceOf(m, sample) }
}

/** Standard deviation of a numeric field; null if none. */
export function stddev<V>(
  field: NumberOf<V>,
  options: VarianceOptions = {},
): Aggregation<V, Moments, number | null> {
  const sample = options.sample ?? false
  return {
    ...moments(field, 'stddev'),
    result: (m) => {
      const v = varianceOf(m, sample)
      return v === null ? null : Math.sqrt(v)
    },
  }
}

/** A value with the time it was seen at. */
export interface Timed<T> {
  t: number
  v: T
}

function byTime<V, T>(
  project: ((v: V) => T) | undefined,
  earliest: boolean,
  what: string,
): Aggregation<V, Timed<T> | null, T | null> {
  if (project !== undefined) checkFn(project, what)
  const better = earliest ? (t: number, than: number) => t < than : (t: number, than: number) => t >= than
  return {
    init: () => null,
    add: (acc, v, t) =>
      acc === null || better(t, acc.t)
        ? { t, v: project === undefined ? (v as unknown as T) : project(v) }
        : acc,
    merge: (a, b) => (a === null ? b : b === null ? a : better(b.t, a.t) ? b : a),
    result: (acc) => (acc === null ? null : acc.v),
  }
}

/** The value (or a projection of it) with the earliest time; on a tie, the first to arrive. */
export function first<V, T = V>(project?: (value: V) => T): Aggregation<V, Timed<T> | null, T | null> {
  return byTime(project, true, 'first')
}

/** The value (or a projection of it) with the latest time; on a tie, the last to arrive. */
export function latest<V, T = V>(project?: (value: V) => T): Aggregation<V, Timed<T> | null, T | null> {
  return byTime(project, false, 'latest')
}

/**
 * One value in `n`, in arrival order: the 1st, the (n+1)th, … of the window.
 *
 * @example
 * sample(10) // every tenth GPS ping of the window
 */
export function sample<V, T = V>(
  n: number,
  project?: (value: V) => T,
): Aggregation<V, { seen: number; picked: T[] }, T[]> {
  if (!Number.isInteger(n) || n < 1)
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `sample: n must be a positive integer, got ${n}`)
  if (project !== undefined) checkFn(project, 'sample')
  return {
    init: () => ({ seen: 0, picked: [] }),
    add: (acc, v) => {
      if (acc.seen++ % n === 0) acc.picked.push(project === undefined ? (v as unknown as T) : project(v))
      return acc
    },
    merge: (a, b) => ({ seen: a.seen + b.seen, picked: [...a.picked, ...b.picked] }),
    result: (acc) => acc.picked,
  }
}

/**
 * A custom typed reducer, checked. The accumulator must be JSON-serializable if the state is durable.
 *
 * @example
 * reducer({ init: () => [] as string[], add: (ids, v: Trip) => [...ids, v.id], result: (ids) => ids.length })
 */
export function reducer<V, A, R>(spec: Aggregation<V, A, R>): Aggregation<V, A, R> {
  if (spec === null || typeof spec !== 'object')
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      'reducer: give { init, add, result } (and merge for sessions)',
    )
  checkFn(spec.init, 'reducer init')
  checkFn(spec.add, 'reducer add')
  checkFn(spec.result, 'reducer result')
  if (spec.merge !== undefined) checkFn(spec.merge, 'reducer merge')
  return spec
}

/** Several aggregations over the same values at once. */
export type Combined<V, S extends Record<string, AnyAggregation<V>>> = Aggregation<
  V,
  { [k in keyof S]: AccOf<S[k]> },
  { [k in keyof S]: ResultOf<S[k]> }
>

/**
 * Computes several aggregations at once; the result is an object with one field per entry.
 *
 * @example
 * aggregations({ avg_speed: avg((r: Reading) => r.speed), speed_variance: variance((r: Reading) => r.speed), message_count: count() })
 * // → { avg_speed: number | null; speed_variance: number | null; message_count: number }
 */
export function aggregations<V, S extends Record<string, AnyAggregation<V>>>(specs: S): Combined<V, S> {
  const entries = Object.entries(specs) as Array<[string, AnyAggregation<V>]>
  if (entries.length === 0)
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'aggregations: give at least one aggregation')
  for (const [name, a] of entries) {
    if (a === null || typeof a !== 'object' || typeof a.add !== 'function') {
      throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `aggregations: "${name}" is not an aggregation`)
    }
  }
  const mergeable = entries.every(([, a]) => typeof a.merge === 'function')
  type Acc = Record<string, unknown>
  const combined: Aggregation<V, Acc, Acc> = {
    init: () => {
      const acc: Acc = {}
      for (const [name, a] of entries) acc[name] = a.init()
      return acc
    },
    add: (acc, v, t) => {
      for (const [name, a] of entries) acc[name] = a.add(acc[name], v, t)
      return acc
    },
    result: (acc) => {
      const out: Acc = {}
      for (const [name, a] of entries) out[name] = a.result(acc[name])
      return out
    },
  }
  if (mergeable) {
    combined.merge = (x, y) => {
      const out: Acc = {}
      for (const [name, a] of entries) out[name] = a.merge!(x[name], y[name])
      return out
    }
  }
  return combined as unknown as Combined<V, S>
}

/** Checks that a DSL argument is an aggregation. */
export function checkAggregation<V, A, R>(agg: Aggregation<V, A, R>): Aggregation<V, A, R> {
  if (
    agg === null ||
    typeof agg !== 'object' ||
    typeof agg.add !== 'function' ||
    typeof agg.init !== 'function'
  ) {
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      'aggregate: give an aggregation: count(), avg(…), reducer({…}), or several with aggregations({ name: avg(…), … })',
    )
  }
  return agg
}

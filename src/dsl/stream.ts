import type { Sink } from '../connectors/contract.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'
import type { WeirRecord } from '../core/record.ts'
import { json, string, type Serde } from '../core/serde.ts'
import type { Processor } from '../runtime/processor.ts'
import { type ErrorHandling, type GraphNode, Topology } from './graph.ts'
import { dedupeNode, type DedupeOptions, type GroupOptions, groupedBy, type GroupedStream } from './grouped.ts'
import { filter } from './operators/filter.ts'
import { flatMap } from './operators/flat-map.ts'
import { mapAsync } from './operators/map-async.ts'
import { mapRecord, mapValues, type RecordUpdate } from './operators/map.ts'
import { passThrough } from './operators/pass-through.ts'
import { peek } from './operators/peek.ts'
import { split } from './operators/split.ts'
import { validate, type Invalid, type Validator } from './operators/validate.ts'
import { type Keying, PARTITIONED } from './repartition.ts'
import { addStreamJoin, type JoinKind, type StreamJoinOptions } from './stream-join.ts'
import { addTableJoin, type GlobalTable, type JoinOptions, Table, type TableOptions } from './table.ts'

/** Options every operator takes: a stable name and its own error handling. */
export interface OperatorOptions extends ErrorHandling {
  readonly name?: string
}

export interface MapAsyncOptions extends OperatorOptions {
  /** Calls running at once; results are still emitted in input order. Default 16. */
  readonly concurrency?: number
}

export interface ToTopicOptions<K, V> extends OperatorOptions {
  readonly key?: Serde<K>
  readonly value?: Serde<V>
  /** Partitions to create the topic with if it does not exist (default: the pipeline's). */
  readonly partitions?: number
  readonly config?: Readonly<Record<string, string>>
}

export interface ToSinkOptions<K, V, T> extends OperatorOptions {
  /** Turns a record into the sink's item. */
  readonly map: (record: WeirRecord<K, V>) => T
}

/**
 * A typed, immutable stream of records. Every method checks its arguments, adds a node to the
 * pipeline's graph and returns a new stream; `this` is never changed.
 *
 * @example
 * const p = pipeline('traffic')
 * p.stream('traffic-raw', { value: json<Raw>() })
 *   .map(flatten)
 *   .filter((e) => e.speed > 0)
 *   .to('traffic-events')
 */
export class Stream<K, V> {
  readonly #topology: Topology
  readonly #node: GraphNode
  readonly #keying: Keying

  /** `keying`: whether the key may have changed since the records were partitioned (see Keying). */
  constructor(topology: Topology, node: GraphNode, keying: Keying = PARTITIONED) {
    this.#topology = topology
    this.#node = node
    this.#keying = keying
  }

  /** The operator name of the node this stream reads from. */
  get name(): string {
    return this.#node.name
  }

  map<R>(fn: (value: V, record: WeirRecord<K, V>) => R, options: OperatorOptions = {}): Stream<K, R> {
    checkFn(fn, 'map')
    return this.#then('map', options, (name) => mapValues(name, fn), this.#newValues())
  }

  /** Changes key and value at once (and optionally headers and timestamp). */
  mapRecord<K2, V2>(fn: (record: WeirRecord<K, V>) => RecordUpdate<K2, V2>, options: OperatorOptions = {}): Stream<K2, V2> {
    checkFn(fn, 'mapRecord')
    return this.#then('map-record', options, (name) => mapRecord(name, fn), { rekeyed: true })
  }

  selectKey<K2>(fn: (value: V, record: WeirRecord<K, V>) => K2, options: OperatorOptions = {}): Stream<K2, V> {
    checkFn(fn, 'selectKey')
    return this.#then(
      'select-key',
      options,
      (name) => mapRecord<K, V, K2, V>(name, (r) => ({ key: fn(r.value, r), value: r.value })),
      { rekeyed: true, value: this.#keying.value },
    )
  }

  filter<S extends V>(predicate: (value: V, record: WeirRecord<K, V>) => value is S, options?: OperatorOptions): Stream<K, S>
  filter(predicate: (value: V, record: WeirRecord<K, V>) => boolean, options?: OperatorOptions): Stream<K, V>
  filter(predicate: (value: V, record: WeirRecord<K, V>) => boolean, options: OperatorOptions = {}): Stream<K, V> {
    checkFn(predicate, 'filter')
    return this.#then('filter', options, (name) => filter(name, predicate))
  }

  flatMap<R>(fn: (value: V, record: WeirRecord<K, V>) => Iterable<R>, options: OperatorOptions = {}): Stream<K, R> {
    checkFn(fn, 'flatMap')
    return this.#then('flat-map', options, (name) => flatMap(name, fn), this.#newValues())
  }

  peek(fn: (value: V, record: WeirRecord<K, V>) => void, options: OperatorOptions = {}): Stream<K, V> {
    checkFn(fn, 'peek')
    return this.#then('peek', options, (name) => peek(name, fn))
  }

  /**
   * An async map with bounded concurrency; output order is input order. `fn` may return a value instead
   * of a promise (a cache hit): with nothing earlier waiting it goes on at once.
   */
  mapAsync<R>(fn: (value: V, record: WeirRecord<K, V>) => R | Promise<R>, options: MapAsyncOptions = {}): Stream<K, R> {
    checkFn(fn, 'mapAsync')
    const concurrency = options.concurrency ?? 16
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `mapAsync: concurrency must be a positive integer, got ${concurrency}`)
    }
    return this.#then('map-async', options, (name) => mapAsync(name, fn, concurrency), this.#newValues())
  }

  /**
   * Splits the stream by predicates; a record goes to the first branch that matches, or to `default`.
   *
   * @example
   * const { fast, slow } = s.split({ fast: (v) => v.speed > 60, slow: () => true })
   */
  split<B extends string>(
    branches: Record<B, (value: V, record: WeirRecord<K, V>) => boolean>,
    options: OperatorOptions = {},
  ): Record<B | 'default', Stream<K, V>> {
    const entries = Object.entries(branches) as Array<[B, (value: V, record: WeirRecord<K, V>) => boolean]>
    if (entries.length === 0) throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'split: give at least one branch')
    for (const [b, fn] of entries) {
      checkFn(fn, `split branch "${b}"`)
      if (b === 'default') throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'split: "default" is reserved for unmatched records')
    }
    const router = this.#then<K, V>('split', options, (name) => split(name, entries))
    const out = {} as Record<B | 'default', Stream<K, V>>
    for (const b of [...entries.map(([b]) => b), 'default' as const]) {
      out[b] = router.#port(b)
    }
    return out
  }

  /** Two-way split: `[matching, rest]`. */
  branch(predicate: (value: V, record: WeirRecord<K, V>) => boolean, options: OperatorOptions = {}): [Stream<K, V>, Stream<K, V>] {
    const { match, default: rest } = this.split({ match: predicate }, options)
    return [match, rest]
  }

  /** One stream of the records of this and the others. */
  merge(...others: Stream<K, V>[]): Stream<K, V> {
    const topology = this.#topology
    for (const o of others) {
      if (o.#topology !== topology) throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'merge: streams belong to different pipelines')
    }
    const parents = [this.#node.id, ...others.map((o) => o.#node.id)]
    const name = topology.nameFor('merge', undefined)
    const node = topology.add((id) => ({
      kind: 'processor' as const,
      id,
      name,
      parents,
      create: () => passThrough(name),
      errors: {},
    }))
    const all = [this.#keying, ...others.map((o) => o.#keying)]
    const same = (f: 'key' | 'value') => (all.every((k) => k[f] === all[0]![f]) ? all[0]![f] : undefined)
    return new Stream(topology, node, { rekeyed: all.some((k) => k.rekeyed), key: same('key'), value: same('value') })
  }

  /**
   * Validates each value. `valid` is typed as the validator's output; `invalid` carries every violation.
   * If nothing reads `invalid`, invalid records go to the error policy (dead-letter topic by default).
   */
  validate<T>(validator: Validator<V, T>, options: OperatorOptions = {}): { valid: Stream<K, T>; invalid: Stream<K, Invalid<V>> } {
    if (validator === null || (typeof validator !== 'function' && typeof validator.safeParse !== 'function')) {
      throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'validate: give a zod-like schema (with safeParse) or a function')
    }
    const router = this.#then<K, T>('validate', options, (name) => validate(name, validator), this.#newValues())
    return { valid: router, invalid: router.#port('invalid') }
  }

  /** Writes to a Kafka topic (created at start if missing). Default serdes: string key, JSON value. */
  to(topic: string, options: ToTopicOptions<K, V> = {}): void {
    if (typeof topic !== 'string' || topic.length === 0) throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'to: topic must be a non-empty string')
    const topology = this.#topology
    const name = topology.nameFor(`to-${topic}`, options.name)
    topology.declareTopic({ name: topic, role: 'output', partitions: options.partitions, config: options.config })
    const parent = this.#node.id
    topology.add((id) => ({
      kind: 'topic-sink' as const,
      id,
      name,
      parents: [parent],
      topic,
      key: (options.key ?? string()) as Serde<unknown>,
      value: (options.value ?? json()) as Serde<unknown>,
      errors: { onError: options.onError, retry: options.retry },
    }))
  }

  /** Writes to an external sink (Redis, PostgreSQL, …); its flush is part of the checkpoint. */
  toSink<T>(sink: Sink<T>, options: ToSinkOptions<K, V, T>): void {
    checkFn(options.map, 'toSink map')
    const topology = this.#topology
    const name = topology.nameFor(`sink-${sink.id}`, options.name)
    const parent = this.#node.id
    topology.add((id) => ({
      kind: 'external-sink' as const,
      id,
      name,
      parents: [parent],
      sink: sink as Sink<unknown>,
      toItem: options.map as (r: WeirRecord<unknown, unknown>) => unknown,
      errors: { onError: options.onError, retry: options.retry },
    }))
  }

  /**
   * Groups records by a key computed from each one; window or aggregate next. By default the records go
   * through the internal topic `<app>-<name>-repartition` keyed by the new key, so each group's records
   * meet on one partition and results are right with any number of instances. Pass
   * `{ repartition: false }` to group per input partition in place (the input is already partitioned by
   * that key, or per-partition partial results are wanted).
   *
   * @example
   * s.groupBy((r) => r.driverId, { name: 'by-driver' }).count({ name: 'trips-per-driver' })
   * s.groupBy((r) => r.sensor_id, { repartition: false }) // input keyed by sensor_id already
   */
  groupBy<K2, O extends GroupOptions<K2, V> = GroupOptions<K2, V>>(
    fn: (value: V, record: WeirRecord<K, V>) => K2,
    options?: O,
  ): GroupedStream<K2, V, O extends { repartition: false } ? K : K2> {
    checkFn(fn, 'groupBy')
    const key = fn as (value: unknown, record: WeirRecord<unknown, unknown>) => unknown
    return groupedBy(this.#topology, this.#node.id, key, (options ?? {}) as GroupOptions, this.#keying)
  }

  /**
   * Groups records by their record key: in place, unless the key was changed (`selectKey`, `mapRecord`)
   * since the records were partitioned; then through a repartition topic, as `groupBy` (`repartition:
   * false` keeps it in place).
   */
  groupByKey(options: GroupOptions<K, V> = {}): GroupedStream<K, V, K> {
    return groupedBy(this.#topology, this.#node.id, undefined, options as GroupOptions, this.#keying)
  }

  /**
   * Drops repeats of a key seen within a time span; memory-bounded (TTL and `maxKeys`), durable if asked.
   *
   * @example
   * s.dedupe({ key: (_v, r) => `${r.topic}:${r.partition}:${r.offset}`, within: '60s' })
   */
  dedupe(options: DedupeOptions<K, V>): Stream<K, V> {
    return new Stream(this.#topology, dedupeNode(this.#topology, this.#node.id, options), this.#keying)
  }

  /**
   * Joins each record with the table's value for its key (the record key, or `options.key`), as the
   * table stands when the record is processed; records with no table value are dropped. A partitioned
   * table needs the stream partitioned like its topic: a stream re-keyed since it was read (`selectKey`,
   * `mapRecord`) goes through `<app>-<name>-repartition` first, keyed with the table's key serde and with
   * the table topic's partition count (`repartition: false` looks up in place). A global table needs none
   * of this.
   *
   * @example
   * orders.join(products, (order, product) => ({ ...order, product }), { key: (o) => o.productId })
   */
  join<TK, TV, R>(
    table: Table<TK, TV>,
    joiner: (value: V, tableValue: TV, record: WeirRecord<K, V>) => R,
    options?: JoinOptions<V>,
  ): Stream<K, R>
  /**
   * A windowed join of two streams keyed alike: each record meets every record of the other stream with
   * the same key whose timestamp is within `within` of its own, whichever arrives first. Both sides are
   * buffered durably (changelog `<app>-<name>-changelog`) until past the window and its grace. A side
   * re-keyed since it was read goes through `<app>-<name>-left|right-repartition` first.
   *
   * @example
   * clicks.join(views, (click, view) => ({ click, view }), { name: 'click-view', within: '5m', grace: '30s' })
   */
  join<V2, R>(
    other: Stream<K, V2>,
    joiner: (left: V, right: V2, record: WeirRecord<K, V>) => R,
    options: StreamJoinOptions,
  ): Stream<K, R>
  join(
    other: unknown,
    anyJoiner: (...args: never[]) => unknown,
    options?: JoinOptions<V> | StreamJoinOptions,
  ): Stream<K, unknown> {
    const joiner = anyJoiner as Joiner
    if (other instanceof Stream) return this.#streamJoined(other as Stream<unknown, unknown>, joiner, 'inner', options as StreamJoinOptions)
    return this.#joined(other as Table<unknown, unknown>, joiner, true, (options ?? {}) as JoinOptions<V>)
  }

  /** As `join` with a table, but a record with no table value passes with `undefined` as the table value. */
  leftJoin<TK, TV, R>(
    table: Table<TK, TV>,
    joiner: (value: V, tableValue: TV | undefined, record: WeirRecord<K, V>) => R,
    options?: JoinOptions<V>,
  ): Stream<K, R>
  /**
   * As the windowed `join` of two streams, and a record of this stream that met no record of the other
   * by the time its window closed (the other side's time passed it by `within` + `grace`) is emitted
   * once with `undefined` as the right value.
   *
   * @example
   * orders.leftJoin(payments, (o, pay) => ({ ...o, paid: pay !== undefined }), { name: 'order-payment', within: '10m' })
   */
  leftJoin<V2, R>(
    other: Stream<K, V2>,
    joiner: (left: V, right: V2 | undefined, record: WeirRecord<K, V>) => R,
    options: StreamJoinOptions,
  ): Stream<K, R>
  leftJoin(
    other: unknown,
    anyJoiner: (...args: never[]) => unknown,
    options?: JoinOptions<V> | StreamJoinOptions,
  ): Stream<K, unknown> {
    const joiner = anyJoiner as Joiner
    if (other instanceof Stream) return this.#streamJoined(other as Stream<unknown, unknown>, joiner, 'left', options as StreamJoinOptions)
    return this.#joined(other as Table<unknown, unknown>, joiner, false, (options ?? {}) as JoinOptions<V>)
  }

  /**
   * As `leftJoin` of two streams, both ways: an unmatched record of either side is emitted once its
   * window closes, with `undefined` for the side it never met.
   *
   * @example
   * a.outerJoin(b, (x, y) => ({ x: x ?? null, y: y ?? null }), { name: 'a-b', within: '1m' })
   */
  outerJoin<V2, R>(
    other: Stream<K, V2>,
    joiner: (left: V | undefined, right: V2 | undefined, record: WeirRecord<K, V>) => R,
    options: StreamJoinOptions,
  ): Stream<K, R> {
    if (!(other instanceof Stream)) {
      throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'outerJoin: give a stream (tables: table.outerJoin(otherTable, …))')
    }
    return this.#streamJoined(other as Stream<unknown, unknown>, joiner as Joiner, 'outer', options)
  }

  #streamJoined<R>(other: Stream<unknown, unknown>, joiner: Joiner, kind: JoinKind, options: StreamJoinOptions): Stream<K, R> {
    if (other.#topology !== this.#topology) throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'join: streams belong to different pipelines')
    const left = { id: this.#node.id, keying: this.#keying }
    const right = { id: other.#node.id, keying: other.#keying }
    const { id, keying } = addStreamJoin(this.#topology, left, right, joiner, kind, options)
    return new Stream(this.#topology, this.#topology.nodes()[id]!, keying)
  }

  #joined<R>(table: Table<unknown, unknown>, joiner: Joiner, inner: boolean, options: JoinOptions<V>): Stream<K, R> {
    const { id, keying } = addTableJoin(this.#topology, this.#node.id, this.#keying, table, joiner, inner, options as JoinOptions<unknown>)
    return new Stream(this.#topology, this.#topology.nodes()[id]!, keying)
  }

  /**
   * Adds a custom processor (the extension point behind stateful operators). Its output counts as
   * re-keyed only if its input was; the serdes the stream was read with no longer apply.
   */
  process<K2, V2>(kind: string, create: (name: string) => Processor, options: OperatorOptions = {}): Stream<K2, V2> {
    return this.#then(kind, options, create, { rekeyed: this.#keying.rekeyed })
  }

  /** Keying after an operator that changes values but not keys. */
  #newValues(): Keying {
    return { rekeyed: this.#keying.rekeyed, key: this.#keying.key }
  }

  #then<K2, V2>(
    kind: string,
    options: OperatorOptions,
    create: (name: string) => Processor,
    keying: Keying = this.#keying,
  ): Stream<K2, V2> {
    const topology = this.#topology
    const name = topology.nameFor(kind, options.name)
    const parent = this.#node.id
    const node = topology.add((id) => ({
      kind: 'processor' as const,
      id,
      name,
      parents: [parent],
      create: () => create(name),
      errors: { onError: options.onError, retry: options.retry },
    }))
    return new Stream(topology, node, keying)
  }

  #port<K2, V2>(port: string): Stream<K2, V2> {
    const topology = this.#topology
    const of = this.#node.id
    const name = topology.nameFor(`${this.#node.name}.${port}`, undefined)
    const node = topology.add((id) => ({
      kind: 'processor' as const,
      id,
      name,
      parents: [of],
      create: () => passThrough(name),
      errors: {},
      port: { of, name: port },
    }))
    return new Stream(topology, node, this.#keying)
  }
}

type Joiner = (value: unknown, tableValue: unknown, record: WeirRecord<unknown, unknown>) => unknown

function checkFn(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `${what}: expected a function, got ${typeof fn}`)
}

export interface StreamOptions<K, V> {
  readonly key?: Serde<K>
  readonly value?: Serde<V>
  readonly name?: string
  readonly partitions?: number
}

/**
 * A pipeline under construction: its streams, and the graph they build.
 *
 * @example
 * const p = pipeline('traffic')
 * p.stream('traffic-raw').map((v) => v).to('traffic-events')
 * await run(p, { transport: kafkaTransport({ brokers: ['127.0.0.1:9092'] }) })
 */
export class Pipeline {
  readonly topology: Topology

  constructor(name: string) {
    this.topology = new Topology(name)
  }

  get name(): string {
    return this.topology.name
  }

  /** A stream of the records of a topic. Default serdes: string key, JSON value. */
  stream<V = unknown, K = string | null>(topic: string, options: StreamOptions<K, V> = {}): Stream<K, V> {
    if (typeof topic !== 'string' || topic.length === 0) throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'stream: topic must be a non-empty string')
    const t = this.topology
    const name = t.nameFor(`source-${topic}`, options.name)
    t.declareTopic({ name: topic, role: 'input', partitions: options.partitions })
    const node = t.add((id) => ({
      kind: 'source' as const,
      id,
      name,
      topic,
      key: (options.key ?? string()) as Serde<unknown>,
      value: (options.value ?? json()) as Serde<unknown>,
    }))
    return new Stream<K, V>(t, node, { rekeyed: false, key: node.key, value: node.value })
  }

  /**
   * A table of the latest value per key of a compacted topic (a null value deletes the key), held per
   * partition by the instance that owns the joined stream's partition. Created compacted if missing.
   *
   * @example
   * const customers = p.table<Customer>('customers', { name: 'customers' })
   */
  table<V = unknown, K = string>(topic: string, options: TableOptions<K, V>): Table<K, V> {
    const table = new Table<K, V>(topic, options, false, this.topology)
    this.topology.declareTopic({ name: topic, role: 'input', config: { 'cleanup.policy': 'compact' } })
    return table
  }

  /**
   * A table every instance holds whole, loaded before any record is processed and kept up to date:
   * small reference data, joined with a key taken from each record.
   *
   * @example
   * const cities = p.globalTable<City>('cities', { name: 'cities' })
   * s.join(cities, (trip, city) => ({ ...trip, city }), { key: (t) => t.cityId })
   */
  globalTable<V = unknown, K = string>(topic: string, options: TableOptions<K, V>): GlobalTable<K, V> {
    const table = new Table<K, V>(topic, options, true) as GlobalTable<K, V>
    this.topology.declareTopic({ name: topic, role: 'input', config: { 'cleanup.policy': 'compact' } })
    return table
  }
}

export function pipeline(name: string): Pipeline {
  return new Pipeline(name)
}

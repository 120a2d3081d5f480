import { ErrorCode, WeirError } from '../core/errors.ts'
import type { WeirRecord } from '../core/record.ts'
import type { AnyRecord, Processor } from '../runtime/processor.ts'
import { changelogTopic } from '../state/changelog.ts'
import type { TimeOptions } from '../time/event-time.ts'
import { type Duration, toMillis } from '../time/duration.ts'
import type { WindowSpec } from '../time/windows.ts'
import { type Aggregation, checkAggregation, count as countAgg, reducer } from './aggregations.ts'
import type { ErrorHandling, ProcessorNode, Topology } from './graph.ts'
import type { Serde } from '../core/serde.ts'
import { GroupAggregate } from './operators/aggregate.ts'
import { Dedupe } from './operators/dedupe.ts'
import { addRepartition, type Keying, serdeFor } from './repartition.ts'
import { Stream } from './stream.ts'
import { WindowedStream } from './windowed.ts'

/** How a grouped stream reaches the graph: where it hangs and how it groups. */
export interface GroupSource {
  readonly topology: Topology
  readonly parent: number
  /** The grouping key; undefined groups by the record key (groupByKey). */
  readonly key: ((value: unknown, record: AnyRecord) => unknown) | undefined
  readonly name: string | undefined
  /**
   * Set when the grouping goes through a repartition topic: built when the first aggregation asks
   * (`resolveGroup`), named after the grouping, or else after that aggregation.
   */
  readonly repartition?: { readonly keySerde: Serde<unknown>; readonly valueSerde: Serde<unknown> }
}

export interface GroupOptions<K = unknown, V = unknown> {
  /**
   * Names the grouping: the repartition topic is `<app>-<name>-repartition` (else it is named after the
   * aggregation), and unnamed operators built on it are numbered after it (`<name>-window-1`).
   */
  readonly name?: string
  /**
   * Default true: re-key through the internal topic `<app>-<name>-repartition`, so each group's records
   * meet on one partition whatever the input is keyed by: correct with any number of instances and
   * input partitions (`groupByKey` repartitions only a stream re-keyed by `selectKey`/`mapRecord`).
   * `false` groups per input partition in place: right only when the input is already partitioned by
   * the grouping key, or when per-partition partial results are what you want.
   */
  readonly repartition?: boolean
  /** Serde of the key in the repartition topic. Default: the stream's own (groupByKey), else JSON. */
  readonly key?: Serde<K>
  /** Serde of the value in the repartition topic. Default: the one the stream was read with if its values are unchanged, else JSON. */
  readonly value?: Serde<V>
}

/** Builds `stream.groupBy(fn, options)` / `groupByKey(options)`: in place, or through a repartition topic. */
export function groupedBy<K2, V, K0>(
  topology: Topology,
  parent: number,
  fn: ((value: unknown, record: AnyRecord) => unknown) | undefined,
  options: GroupOptions,
  keying: Keying,
): GroupedStream<K2, V, K0> {
  const inPlace = options.repartition === false || (fn === undefined && !keying.rekeyed)
  if (inPlace) return new GroupedStream({ topology, parent, key: fn, name: options.name })
  return new GroupedStream({
    topology,
    parent,
    key: fn,
    name: options.name,
    repartition: {
      keySerde: serdeFor(options.key as Serde<unknown> | undefined, fn === undefined ? keying.key : undefined),
      valueSerde: serdeFor(options.value as Serde<unknown> | undefined, keying.value),
    },
  })
}

/**
 * Where an aggregation named `operator` reads its grouped records, and by what key: the grouping's
 * parent and key function, or the source of its repartition topic (then keyed by the record key).
 */
export function resolveGroup(
  src: GroupSource,
  operator: string,
): { parent: number; key: ((value: unknown, record: AnyRecord) => unknown) | undefined } {
  if (src.repartition === undefined) return { parent: src.parent, key: src.key }
  const parent = addRepartition(src.topology, {
    name: src.name ?? operator,
    parent: src.parent,
    key: src.key,
    keySerde: src.repartition.keySerde,
    valueSerde: src.repartition.valueSerde,
  })
  return { parent, key: undefined }
}

export interface GroupAggregateOptions extends ErrorHandling {
  /** Stable name: the changelog topic `<app>-<name>-changelog` derives from it. Required when durable. */
  readonly name?: string
  /** Keep state in a changelog so it survives restarts. Default true. */
  readonly durable?: boolean
  /** Forget a key after this long with no record (memory stays bounded). Default: never. */
  readonly ttl?: Duration
}

/**
 * A stream grouped by a key: the only things to do with it are to window it or aggregate it.
 *
 * State is kept per partition of what the aggregation reads. By default a grouping on a new key reads a
 * repartition topic keyed by it, so every record of a group meets on one partition. With
 * `repartition: false` it reads the input in place: right when the input is already partitioned by the
 * grouping key (the traffic-windows app: readings keyed by sensor_id), else each partition holds a
 * partial result per group (a grouping key that differs from the record key is logged once).
 *
 * @example
 * readings.groupBy((r) => r.sensor_id).aggregate(avg((r) => r.speed), { name: 'avg-speed' })
 */
export class GroupedStream<K, V, K0 = unknown> {
  readonly #src: GroupSource

  constructor(source: GroupSource) {
    this.#src = source
  }

  /**
   * Windows the grouped stream; aggregate next.
   *
   * @example
   * grouped.window(tumbling({ size: '5m', grace: '30s' }), { timestamp: (r) => Date.parse(r.ts) })
   */
  window(spec: WindowSpec, options: TimeOptions<V> = {}): WindowedStream<K, V, K0> {
    if (
      spec === null ||
      typeof spec !== 'object' ||
      !['tumbling', 'hopping', 'sliding', 'session'].includes(spec.kind)
    ) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        'window: give tumbling(…), hopping(…), sliding(…) or session(…)',
      )
    }
    return new WindowedStream<K, V, K0>(this.#src, spec, options as TimeOptions<unknown>)
  }

  /**
   * A running aggregate per key: emits the key's new result on every record.
   */
  aggregate<A, R>(aggregation: Aggregation<V, A, R>, options: GroupAggregateOptions): Stream<K, R> {
    const agg = checkAggregation(aggregation as Aggregation<unknown, unknown, unknown>)
    const src = this.#src
    const durable = options.durable ?? true
    if (durable && options.name === undefined) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        'aggregate: durable state needs a stable `name` (its changelog topic is named from it), or pass durable: false',
      )
    }
    const ttl = options.ttl === undefined ? 0 : toMillis(options.ttl, 'aggregate ttl')
    const name = operatorName(src, 'aggregate', options.name)
    const changelog = durable ? declareChangelog(src.topology, name) : undefined
    const input = resolveGroup(src, name)
    const sourceTopics = sourceTopicsOf(src.topology, input.parent)
    const node = addProcessor(
      src.topology,
      input.parent,
      name,
      options,
      () =>
        new GroupAggregate({
          name,
          aggregation: agg,
          key: input.key,
          changelog,
          signature: 'aggregate',
          sourceTopics,
          ttl,
        }),
    )
    return new Stream(src.topology, node)
  }

  /** Records per key so far. */
  count(options: GroupAggregateOptions): Stream<K, number> {
    return this.aggregate(countAgg<V>(), options)
  }

  /** Combines each key's values pairwise: `fn(sofar, next)`. */
  reduce(fn: (acc: V, value: V) => V, options: GroupAggregateOptions): Stream<K, V> {
    return this.aggregate(reduceOf(fn), options)
  }
}

/** `reduce(fn)` as an aggregation: the first value, then `fn(acc, value)` for each next one. */
export function reduceOf<V>(fn: (acc: V, value: V) => V): Aggregation<V, { v: V } | null, V> {
  if (typeof fn !== 'function')
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'reduce: expected a function (acc, value) => acc')
  return reducer<V, { v: V } | null, V>({
    init: () => null,
    add: (acc, value) => ({ v: acc === null ? value : fn(acc.v, value) }),
    merge: (a, b) => (a === null ? b : b === null ? a : { v: fn(a.v, b.v) }),
    result: (acc) => acc!.v,
  })
}

export interface DedupeOptions<K, V> extends ErrorHandling {
  /** What makes two records repeats of each other. */
  readonly key: (value: V, record: WeirRecord<K, V>) => unknown
  /** How long after a key is first seen its repeats are dropped. */
  readonly within: Duration
  /** Required when durable (names the changelog topic). */
  readonly name?: string
  /** Keep the seen keys in a changelog so a restart remembers them. Default false. */
  readonly durable?: boolean
  /** Keys remembered per input partition (least recently seen forgotten first). Default 100,000. */
  readonly maxKeys?: number
  /** `processing` (default): wall time; `event`: record timestamps. */
  readonly time?: 'processing' | 'event'
  /**
   * What happens to a repeat: `drop` (default), or `{ deadLetter: violation }`: it fails as
   * VALIDATION_FAILED with that violation as details, so the error policy sends it to the dead-letter
   * topic saying why (the data-quality `duplicate` rule).
   */
  readonly repeats?: 'drop' | { readonly deadLetter: { readonly rule: string; readonly field: string; readonly type?: string } }
}

/** Builds `stream.dedupe(options)`: see Stream.dedupe. */
export function dedupeNode<K, V>(
  topology: Topology,
  parent: number,
  options: DedupeOptions<K, V>,
): ProcessorNode {
  if (options === null || typeof options !== 'object' || typeof options.key !== 'function') {
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'dedupe: give { key: (value, record) => …, within }')
  }
  const within = toMillis(options.within, 'dedupe within')
  const maxKeys = options.maxKeys ?? 100_000
  if (!Number.isInteger(maxKeys) || maxKeys < 1)
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      `dedupe: maxKeys must be a positive integer, got ${maxKeys}`,
    )
  const time = options.time ?? 'processing'
  if (time !== 'processing' && time !== 'event')
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `dedupe: time must be 'processing' or 'event'`)
  const durable = options.durable ?? false
  if (durable && options.name === undefined) {
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      'dedupe: durable state needs a stable `name` (its changelog topic is named from it)',
    )
  }
  const name = topology.nameFor('dedupe', options.name)
  const changelog = durable ? declareChangelog(topology, name) : undefined
  const sourceTopics = sourceTopicsOf(topology, parent)
  const key = options.key as (value: unknown, record: AnyRecord) => unknown
  return addProcessor(
    topology,
    parent,
    name,
    options,
    () =>
      new Dedupe({
        name,
        key,
        within,
        maxKeys,
        time,
        changelog,
        sourceTopics,
        ...(options.repeats && options.repeats !== 'drop' ? { deadLetter: options.repeats.deadLetter } : {}),
      }),
  )
}

/** The name of a stateful operator: the given one, else numbered after the group's name or the kind. */
export function operatorName(src: GroupSource, kind: string, given: string | undefined): string {
  return src.topology.nameFor(src.name === undefined ? kind : `${src.name}-${kind}`, given)
}

/** Declares the compacted changelog topic of a durable operator; returns its name. */
export function declareChangelog(topology: Topology, operator: string): string {
  const topic = changelogTopic(topology.name, operator)
  topology.declareTopic({ name: topic, role: 'internal', config: { 'cleanup.policy': 'compact' } })
  return topic
}

/** Adds a processor node under `parent`. */
export function addProcessor(
  topology: Topology,
  parent: number,
  name: string,
  errors: ErrorHandling,
  create: () => Processor,
): ProcessorNode {
  return topology.add((id) => ({
    kind: 'processor' as const,
    id,
    name,
    parents: [parent],
    create,
    errors: { onError: errors.onError, retry: errors.retry },
  }))
}

/** The input topics whose records reach a node (its state partitions follow theirs). */
export function sourceTopicsOf(topology: Topology, id: number): ReadonlySet<string> {
  const nodes = topology.nodes()
  const out = new Set<string>()
  const seen = new Set<number>()
  const stack = [id]
  while (stack.length > 0) {
    const n = nodes[stack.pop()!]
    if (n === undefined || seen.has(n.id)) continue
    seen.add(n.id)
    if (n.kind === 'source') out.add(n.topic)
    else stack.push(...n.parents)
  }
  return out
}

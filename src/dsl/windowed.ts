import { ErrorCode, WeirError } from '../core/errors.ts'
import { type ResolvedTime, resolveTime, type TimeOptions } from '../time/event-time.ts'
import { type WindowSpec, windowSignature } from '../time/windows.ts'
import { type Aggregation, checkAggregation, count as countAgg } from './aggregations.ts'
import type { ErrorHandling } from './graph.ts'
import {
  addProcessor,
  declareChangelog,
  type GroupSource,
  operatorName,
  reduceOf,
  resolveGroup,
  sourceTopicsOf,
} from './grouped.ts'
import { passThrough } from './operators/pass-through.ts'
import { type WindowLogic, WindowOperator } from './operators/window-core.ts'
import { fixedWindows } from './operators/window-fixed.ts'
import { sessionWindows } from './operators/window-session.ts'
import { slidingWindows } from './operators/window-sliding.ts'
import { Stream } from './stream.ts'

/** Which window of which key. Windows are `[start, end)`; sessions and sliding windows are `[start, end]`. */
export interface WindowKey<K> {
  readonly key: K
  readonly start: number
  readonly end: number
}

/** What a window emits: its key and bounds, and the aggregation's result. The record key is `key`. */
export interface WindowResult<K, R> extends WindowKey<K> {
  readonly value: R
}

export interface WindowAggregateOptions<K0, V> extends ErrorHandling {
  /** Stable name: the changelog topic `<app>-<name>-changelog` derives from it. Required when durable. */
  readonly name?: string
  /**
   * `final`: one result per window, when it closes (end + grace passed). `update`: a result each time a
   * record changes the window (at most one per `updateEveryMs` per window if set). `end` (tumbling and
   * hopping windows; Flink's event-time trigger with allowed lateness): a result when the watermark
   * passes the window's end and a corrected one for each record that arrives within grace; state is
   * dropped at end + grace, and windows restored after a restart fire again. Meant for upserting sinks:
   * every result replaces the previous one.
   */
  readonly emit: 'final' | 'update' | 'end'
  readonly updateEveryMs?: number
  /**
   * Records later than the grace period:
   * `dlq` (default): through the error policy as LATE_RECORD (the dead-letter topic by default);
   * `drop`: dropped; a function: it receives the stream of late records to route them (`(late) => late.to('late')`).
   * All are counted in `weir_window_late_records_total`.
   */
  readonly late?: 'dlq' | 'drop' | ((late: Stream<K0, V>) => void)
  /**
   * Durable (default for event time): window state goes to a compacted changelog and is restored after a
   * restart or rebalance, so offsets commit while windows are open. Memory-only (default for processing
   * time): nothing is written, and input offsets stay uncommitted until the window holding them is emitted.
   */
  readonly durable?: boolean
}

/**
 * A grouped, windowed stream: aggregate it. Results are records keyed by the group key whose value is
 * a `WindowResult` (key, start, end, value).
 *
 * @example
 * p.stream<Reading>('traffic-raw')
 *   .groupBy((r) => r.sensor_id)
 *   .window(tumbling({ size: '5m', grace: '1m' }), { timestamp: (r) => Date.parse(r.timestamp) })
 *   .aggregate(aggregations({ avg_speed: avg((r) => r.speed_mph), message_count: count() }), { name: 'traffic-5m', emit: 'final' })
 *   .map((w) => ({ sensor_id: w.key, window_start: w.start, window_end: w.end, ...w.value }))
 *   .to('traffic-aggregates')
 */
export class WindowedStream<K, V, K0 = unknown> {
  readonly #src: GroupSource
  readonly #spec: WindowSpec
  readonly #time: ResolvedTime<unknown>

  constructor(source: GroupSource, spec: WindowSpec, options: TimeOptions<unknown>) {
    this.#src = source
    this.#spec = spec
    this.#time = resolveTime(options, spec.kind === 'session' ? spec.gap : spec.size)
  }

  /**
   * Aggregates each window with an aggregation: `count()`, `avg(…)`, a custom `reducer({…})`, or
   * several at once with `aggregations({ avg_speed: avg(…), n: count() })`.
   */
  aggregate<A, R>(
    aggregation: Aggregation<V, A, R>,
    options: WindowAggregateOptions<K0, V>,
  ): Stream<K, WindowResult<K, R>> {
    const agg = checkAggregation(aggregation as Aggregation<unknown, unknown, unknown>)
    const src = this.#src
    const spec = this.#spec
    const time = this.#time
    if (
      options === null ||
      typeof options !== 'object' ||
      (options.emit !== 'final' && options.emit !== 'update' && options.emit !== 'end')
    ) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        "aggregate: choose when windows emit: { emit: 'final' } (once, at close), { emit: 'update' } (on every change) or { emit: 'end' } (at the window's end, then on late records)",
      )
    }
    if (options.emit === 'end' && spec.kind !== 'tumbling' && spec.kind !== 'hopping') {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `aggregate: emit 'end' needs windows with fixed bounds (tumbling or hopping), not ${spec.kind}`,
      )
    }
    const updateEveryMs = options.updateEveryMs ?? 0
    if (!Number.isInteger(updateEveryMs) || updateEveryMs < 0) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `aggregate: updateEveryMs must be a whole number of ms ≥ 0, got ${updateEveryMs}`,
      )
    }
    if (updateEveryMs > 0 && options.emit !== 'update') {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        "aggregate: updateEveryMs rate-limits emit: 'update'; with emit: 'final' each window emits once anyway",
      )
    }
    const late = options.late ?? 'dlq'
    if (late !== 'dlq' && late !== 'drop' && typeof late !== 'function') {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        "aggregate: late must be 'dlq', 'drop' or a function receiving the late stream",
      )
    }
    const durable = options.durable ?? time.mode === 'event'
    if (durable && options.name === undefined) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        'aggregate: durable window state needs a stable `name` (its changelog topic is named from it), or pass durable: false',
      )
    }
    if (spec.kind === 'session' && typeof agg.merge !== 'function') {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        'aggregate: session windows merge sessions, so the aggregation needs a merge function',
      )
    }
    if (spec.kind === 'sliding' && !durable) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        'aggregate: sliding windows keep their records in durable state; durable: false is not supported',
      )
    }
    const topology = src.topology
    const name = operatorName(src, 'window', options.name)
    const changelog = durable ? declareChangelog(topology, name) : undefined
    const input = resolveGroup(src, name)
    const sourceTopics = sourceTopicsOf(topology, input.parent)
    const signature = windowSignature(spec)
    const processing = time.mode === 'processing'
    const node = addProcessor(topology, input.parent, name, options, () => {
      const logic = logicFor(spec, agg, processing)
      return new WindowOperator({
        name,
        logic,
        key: input.key,
        time,
        grace: processing ? 0 : spec.grace,
        changelog,
        signature,
        sourceTopics,
        emit: options.emit,
        updateEveryMs,
        late: typeof late === 'function' ? 'port' : late,
      })
    })
    if (typeof late === 'function') {
      const portName = topology.nameFor(`${name}.late`, undefined)
      const port = topology.add((id) => ({
        kind: 'processor' as const,
        id,
        name: portName,
        parents: [node.id],
        create: () => passThrough(portName),
        errors: {},
        port: { of: node.id, name: 'late' },
      }))
      late(new Stream<K0, V>(topology, port))
    }
    return new Stream(topology, node)
  }

  /** Records per window. */
  count(options: WindowAggregateOptions<K0, V>): Stream<K, WindowResult<K, number>> {
    return this.aggregate(countAgg<V>(), options)
  }

  /** Combines a window's values pairwise: `fn(sofar, next)`. */
  reduce(fn: (acc: V, value: V) => V, options: WindowAggregateOptions<K0, V>): Stream<K, WindowResult<K, V>> {
    return this.aggregate(reduceOf(fn), options)
  }
}

function logicFor(
  spec: WindowSpec,
  agg: Aggregation<unknown, unknown, unknown>,
  processing: boolean,
): WindowLogic<unknown> {
  switch (spec.kind) {
    case 'tumbling':
    case 'hopping':
      return fixedWindows(spec, agg, processing) as WindowLogic<unknown>
    case 'session':
      return sessionWindows(spec, agg, processing) as WindowLogic<unknown>
    case 'sliding':
      return slidingWindows(spec, agg, processing) as WindowLogic<unknown>
  }
}

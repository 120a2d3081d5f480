import { ErrorCode, WeirError } from '../core/errors.ts'
import type { WeirRecord } from '../core/record.ts'
import { json, type Serde, string } from '../core/serde.ts'
import type { AnyRecord } from '../runtime/processor.ts'
import type { TableSource } from '../state/table-store.ts'
import type { ErrorHandling, Topology } from './graph.ts'
import { sourceTopicsOf } from './grouped.ts'
import { TableJoin } from './operators/table-join.ts'
import { type AnyTable, type JoinableTable, JoinedTable, joinTables, nullable, type TableJoinOptions } from './joined-table.ts'
import { addRepartition, type Keying, serdeFor } from './repartition.ts'

type TableJoiner = (left: unknown, right: unknown, key: unknown) => unknown

export interface TableOptions<K, V> {
  /** The table's name: its interactive-query store name (`GET /state/<name>/<key>`). */
  readonly name: string
  readonly key?: Serde<K>
  readonly value?: Serde<V>
  /** How often the table reads what was appended to its topic. Default 500 ms. */
  readonly refreshMs?: number
}

export interface JoinOptions<V> extends ErrorHandling {
  readonly name?: string
  /**
   * The table key to look up, from the stream record. Default: the record key. For a (partitioned)
   * table the stream must be keyed by the table key already; a global table takes any key.
   */
  readonly key?: (value: V, record: WeirRecord<unknown, V>) => unknown
  /**
   * Partitioned tables: default true, a stream re-keyed since it was read (`selectKey`, `mapRecord`)
   * goes through `<app>-<name>-repartition`, keyed with the table's key serde so each record lands on
   * the partition holding its key. `false` looks up in the stream's own partition (it is partitioned
   * like the table already).
   */
  readonly repartition?: boolean
  /** Serde of the stream's value in the repartition topic. Default: the one it was read with if unchanged, else JSON. */
  readonly value?: Serde<unknown>
}

/**
 * A table built from a compacted topic: the latest value per key, a null value (tombstone) deleting it.
 * Partitioned like its topic; join a stream keyed and partitioned alike (`stream.join(table, …)`).
 *
 * @example
 * const products = p.table<Product>('products', { name: 'products' })
 * p.stream<Order>('orders').join(products, (order, product) => ({ ...order, product })).to('orders-enriched')
 */
export class Table<K, V> implements JoinableTable {
  readonly source: TableSource
  readonly global: boolean
  readonly refreshMs: number
  /** The pipeline a (partitioned) table joins other tables in; undefined for a global table. */
  readonly topology: Topology | undefined

  constructor(topic: string, options: TableOptions<K, V>, global: boolean, topology?: Topology) {
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `${global ? 'globalTable' : 'table'}: topic must be a non-empty string`,
      )
    }
    if (typeof options?.name !== 'string' || options.name.length === 0) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `${global ? 'globalTable' : 'table'} "${topic}": give a stable { name } (its store name)`,
      )
    }
    const refreshMs = options.refreshMs ?? 500
    if (!Number.isFinite(refreshMs) || refreshMs <= 0) {
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `table "${options.name}": refreshMs must be a positive number, got ${refreshMs}`,
      )
    }
    this.source = {
      name: options.name,
      topic,
      key: (options.key ?? string()) as Serde<unknown>,
      value: (options.value ?? json()) as Serde<unknown>,
    }
    this.global = global
    this.refreshMs = refreshMs
    this.topology = global ? undefined : topology
  }

  get name(): string {
    return this.source.name
  }

  /**
   * Table–table inner join (Kafka Streams' KTable–KTable join): a table of `joiner(left, right, key)`
   * for each key both tables hold, updated as either changes. Both tables keyed and partitioned alike.
   *
   * @example
   * const profiles = users.join(addresses, (u, a) => ({ ...u, city: a.city }), { name: 'profiles' })
   * profiles.toStream().to('profiles')
   */
  join<V2, R>(other: AnyTable<K, V2>, joiner: (left: V, right: V2, key: K) => R, options: TableJoinOptions): JoinedTable<K, R> {
    return joinTables(this, other, joiner as TableJoiner, 'inner', options)
  }

  /** Table–table left join: a result for each key this table holds (`right` undefined if the other does not). */
  leftJoin<V2, R>(
    other: AnyTable<K, V2>,
    joiner: (left: V, right: V2 | undefined, key: K) => R,
    options: TableJoinOptions,
  ): JoinedTable<K, R> {
    return joinTables(this, other, joiner as TableJoiner, 'left', options)
  }

  /** Table–table outer join: a result for each key either table holds. */
  outerJoin<V2, R>(
    other: AnyTable<K, V2>,
    joiner: (left: V | undefined, right: V2 | undefined, key: K) => R,
    options: TableJoinOptions,
  ): JoinedTable<K, R> {
    return joinTables(this, other, joiner as TableJoiner, 'outer', options)
  }

  /** A source node reading the table's topic as a stream of changes (a null value deletes the key). */
  changes(): number {
    const topology = this.topology
    if (topology === undefined) throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `table "${this.name}": a global table has no change stream to join`)
    const src = this.source
    return topology.add((id) => ({
      kind: 'source' as const,
      id,
      name: topology.nameFor(`${src.name}-changes`, undefined),
      topic: src.topic,
      key: src.key,
      value: nullable(src.value),
    })).id
  }

  /** Phantom fields so `Table<K, V>` keeps its types. */
  declare readonly _key: K
  declare readonly _value: V
}

/** Every instance holds the whole table: small reference data, joined by a key taken from the record. */
export type GlobalTable<K, V> = Table<K, V> & { readonly global: true }

/** Adds a stream–table join node under `parent` (repartitioning first if needed); returns its id. */
export function addTableJoin(
  topology: Topology,
  parent: number,
  keying: Keying,
  table: Table<unknown, unknown>,
  joiner: (value: unknown, tableValue: unknown, record: AnyRecord) => unknown,
  inner: boolean,
  options: JoinOptions<unknown>,
): { id: number; keying: Keying } {
  const what = inner ? 'join' : 'leftJoin'
  if (table instanceof JoinedTable)
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      `${what}: "${table.name}" is a joined table; write it to a compacted topic (toStream().to(topic)) and join p.table(topic)`,
    )
  if (!(table instanceof Table))
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `${what}: expected a table from p.table() or p.globalTable()`)
  if (typeof joiner !== 'function') throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `${what}: joiner must be a function`)
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `${what}: key must be a function`)
  }
  const name = topology.nameFor(`${inner ? 'join' : 'left-join'}-${table.source.name}`, options.name)
  const keyOf = options.key as ((value: unknown, record: AnyRecord) => unknown) | undefined
  const repartition = !table.global && options.repartition !== false && keying.rekeyed
  const from = !repartition
    ? parent
    : addRepartition(topology, {
        name,
        parent,
        keySerde: table.source.key,
        valueSerde: serdeFor(options.value as Serde<unknown> | undefined, keying.value),
        partitionsLike: [table.source.topic],
      })
  const sourceTopics = sourceTopicsOf(topology, from)
  const node = topology.add((id) => ({
    kind: 'processor' as const,
    id,
    name,
    parents: [from],
    create: () =>
      new TableJoin({
        name,
        table: table.source,
        global: table.global,
        inner,
        keyOf,
        joiner,
        sourceTopics,
        refreshMs: table.refreshMs,
      }),
    errors: { onError: options.onError, retry: options.retry },
  }))
  // The record key is kept; after a repartition the stream is partitioned by it, in the table's serde.
  return { id: node.id, keying: repartition ? { rekeyed: false, key: table.source.key } : { rekeyed: keying.rekeyed, key: keying.key } }
}

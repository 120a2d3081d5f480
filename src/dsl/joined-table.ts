import { ErrorCode, WeirError } from '../core/errors.ts'
import type { Serde } from '../core/serde.ts'
import type { ErrorHandling, Topology } from './graph.ts'
import { addProcessor, declareChangelog, sourceTopicsOf } from './grouped.ts'
import { mapValues } from './operators/map.ts'
import type { Sided } from './operators/stream-join.ts'
import { TableTableJoin } from './operators/table-table-join.ts'
import type { JoinKind } from './stream-join.ts'
import { Stream } from './stream.ts'
import type { Table } from './table.ts'

export interface TableJoinOptions extends ErrorHandling {
  /** Stable name: the joined table's store (`GET /state/<name>/<key>`) and changelog `<app>-<name>-changelog`. */
  readonly name: string
}

/** Either kind of partitioned table a table–table join takes. */
export type AnyTable<K, V> = Table<K, V> | JoinedTable<K, V>

/**
 * A table derived by joining two tables (`table.join(other, …)`): the joined value per key, kept up to
 * date as either side changes. Read it with `toStream()` (its changes; a null value deletes the key),
 * query it as store `<name>`, or join it with another table.
 *
 * @example
 * const accounts = customers.leftJoin(balances, (c, b) => ({ ...c, balance: b?.amount ?? 0 }), { name: 'accounts' })
 * accounts.toStream().to('accounts')
 */
export class JoinedTable<K, V> implements JoinableTable {
  readonly name: string
  readonly topology: Topology
  readonly #node: number

  constructor(topology: Topology, node: number, name: string) {
    this.topology = topology
    this.#node = node
    this.name = name
  }

  /** The table's changes as a stream: the new joined value of a key, or null when its result is gone. */
  toStream(): Stream<K, V | null> {
    return new Stream(this.topology, this.topology.nodes()[this.#node]!)
  }

  /** Inner join: a key has a result while both tables hold it. */
  join<V2, R>(
    other: AnyTable<K, V2>,
    joiner: (left: V, right: V2, key: K) => R,
    options: TableJoinOptions,
  ): JoinedTable<K, R> {
    return joinTables(this, other, joiner as TableJoiner, 'inner', options)
  }

  /** Left join: a key has a result while this table holds it (`right` undefined when the other does not). */
  leftJoin<V2, R>(
    other: AnyTable<K, V2>,
    joiner: (left: V, right: V2 | undefined, key: K) => R,
    options: TableJoinOptions,
  ): JoinedTable<K, R> {
    return joinTables(this, other, joiner as TableJoiner, 'left', options)
  }

  /** Outer join: a key has a result while either table holds it. */
  outerJoin<V2, R>(
    other: AnyTable<K, V2>,
    joiner: (left: V | undefined, right: V2 | undefined, key: K) => R,
    options: TableJoinOptions,
  ): JoinedTable<K, R> {
    return joinTables(this, other, joiner as TableJoiner, 'outer', options)
  }

  changes(): number {
    return this.#node
  }
}

type TableJoiner = (left: unknown, right: unknown, key: unknown) => unknown

/** What a table–table join needs of each side: its pipeline and the node emitting its changes. */
export interface JoinableTable {
  readonly name: string
  /** Undefined for a global table (it takes no table joins). */
  readonly topology: Topology | undefined
  /** The node emitting the table's changes (a null value deletes the key). */
  changes(): number
}

/** Builds `left.join(right, …)` (or leftJoin/outerJoin) of two tables: tags each side's changes, then one join node. */
export function joinTables(
  left: JoinableTable,
  right: unknown,
  joiner: TableJoiner,
  kind: JoinKind,
  options: TableJoinOptions,
): JoinedTable<never, never> {
  const what = kind === 'inner' ? 'join' : `${kind}Join`
  if (!isJoinable(right))
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      `table ${what}: the other side must be a table (p.table() or a joined table)`,
    )
  for (const t of [left, right])
    if (t.topology === undefined)
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `table ${what}: "${t.name}" is a global table; join a stream with it instead`,
      )
  const topology = left.topology!
  if (right.topology !== topology)
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `table ${what}: the tables belong to different pipelines`)
  if (typeof joiner !== 'function')
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `table ${what}: joiner must be a function`)
  if (
    options === null ||
    typeof options !== 'object' ||
    typeof options.name !== 'string' ||
    options.name === ''
  ) {
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      `table ${what}: give { name } (the joined table's store and changelog)`,
    )
  }
  const name = topology.nameFor('table-join', options.name)
  const changelog = declareChangelog(topology, name)
  const tag = (table: JoinableTable, side: 0 | 1) => {
    const from = table.changes()
    const tagName = topology.nameFor(`${name}-${side === 0 ? 'left' : 'right'}`, undefined)
    return addProcessor(topology, from, tagName, {}, () => mapValues(tagName, (v): Sided => ({ side, v }))).id
  }
  const parents = [tag(left, 0), tag(right, 1)]
  const sourceTopics = new Set(parents.flatMap((p) => [...sourceTopicsOf(topology, p)]))
  const node = topology.add((id) => ({
    kind: 'processor' as const,
    id,
    name,
    parents,
    create: () =>
      new TableTableJoin({
        name,
        outer: [kind !== 'inner', kind === 'outer'],
        joiner,
        changelog,
        sourceTopics,
      }),
    errors: { onError: options.onError, retry: options.retry },
  }))
  return new JoinedTable(topology, node.id, name)
}

function isJoinable(t: unknown): t is JoinableTable {
  return typeof t === 'object' && t !== null && typeof (t as JoinableTable).changes === 'function'
}

/** A serde that reads a tombstone (null) as null: a table's change stream carries deletes. */
export function nullable<T>(serde: Serde<T>): Serde<T | null> {
  return {
    name: `nullable(${serde.name})`,
    serialize: (value, ctx) => (value === null ? null : serde.serialize(value, ctx)),
    deserialize: (data, ctx) => (data === null ? null : serde.deserialize(data, ctx)),
  }
}

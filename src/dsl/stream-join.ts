import { ErrorCode, WeirError } from '../core/errors.ts'
import type { WeirRecord } from '../core/record.ts'
import type { AnyRecord } from '../runtime/processor.ts'
import { type Duration, toMillis } from '../time/duration.ts'
import type { ErrorHandling, Topology } from './graph.ts'
import { addProcessor, declareChangelog, sourceTopicsOf } from './grouped.ts'
import { mapValues } from './operators/map.ts'
import { type Sided, StreamJoin } from './operators/stream-join.ts'
import { addRepartition, type Keying, serdeFor } from './repartition.ts'

export interface StreamJoinOptions extends ErrorHandling {
  /** Stable name: the buffers' changelog is `<app>-<name>-changelog`. */
  readonly name: string
  /** Records join when their timestamps are at most this far apart (`'5m'`, ms). */
  readonly within: Duration
  /** How long past the newest record time a record may still arrive and join. Default 0. */
  readonly grace?: Duration
  /**
   * Default true: a side re-keyed since it was read (`selectKey`, `mapRecord`) goes through
   * `<app>-<name>-left-repartition` / `-right-repartition` first, partitioned like the other side.
   * `false`: both sides are partitioned alike already.
   */
  readonly repartition?: boolean
}

/** `inner`: matches only; `left`: also this side's unmatched records; `outer`: both sides' unmatched. */
export type JoinKind = 'inner' | 'left' | 'outer'

interface JoinSide {
  readonly id: number
  readonly keying: Keying
}

/**
 * Adds `left.join(right, joiner, { within })` (or leftJoin/outerJoin): repartitions a re-keyed side,
 * tags each side, then one join node reads both.
 */
export function addStreamJoin(
  topology: Topology,
  left: JoinSide,
  right: JoinSide,
  joiner: (left: unknown, right: unknown, record: WeirRecord<unknown, unknown>) => unknown,
  kind: JoinKind,
  options: StreamJoinOptions,
): { id: number; keying: Keying } {
  const what = kind === 'inner' ? 'join' : `${kind}Join`
  if (typeof joiner !== 'function')
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `${what}: joiner must be a function`)
  if (
    options === null ||
    typeof options !== 'object' ||
    typeof options.name !== 'string' ||
    options.name === ''
  ) {
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      `${what} of two streams: give { name, within } (the name names its changelog)`,
    )
  }
  const within = toMillis(options.within, `join "${options.name}" within`)
  const grace =
    options.grace === undefined
      ? 0
      : toMillis(options.grace, `join "${options.name}" grace`, { allowZero: true })
  const name = topology.nameFor('stream-join', options.name)
  const changelog = declareChangelog(topology, name)
  const [l, r] = copartitioned(topology, name, left, right, options.repartition !== false)
  const sourceTopics = new Set([...sourceTopicsOf(topology, l), ...sourceTopicsOf(topology, r)])
  const tag = (parent: number, side: 0 | 1) => {
    const tagName = topology.nameFor(`${name}-${side === 0 ? 'left' : 'right'}`, undefined)
    return addProcessor(topology, parent, tagName, {}, () => mapValues(tagName, (v): Sided => ({ side, v })))
      .id
  }
  const parents = [tag(l, 0), tag(r, 1)]
  const node = topology.add((id) => ({
    kind: 'processor' as const,
    id,
    name,
    parents,
    create: () =>
      new StreamJoin({
        name,
        within,
        grace,
        joiner: joiner as (l: unknown, r: unknown, record: AnyRecord) => unknown,
        changelog,
        sourceTopics,
        outer: [kind !== 'inner', kind === 'outer'],
      }),
    errors: { onError: options.onError, retry: options.retry },
  }))
  const key = left.keying.rekeyed ? right.keying.key : left.keying.key
  return { id: node.id, keying: { rekeyed: false, key } }
}

/**
 * The nodes the join reads: each side as it is, or a re-keyed side through its repartition topic,
 * keyed with the other side's key serde (so a key lands where the other side's records of it are) and
 * with the other side's partition count; both re-keyed: the widest of all their inputs.
 */
function copartitioned(
  topology: Topology,
  name: string,
  left: JoinSide,
  right: JoinSide,
  repartition: boolean,
): [number, number] {
  if (!repartition || (!left.keying.rekeyed && !right.keying.rekeyed)) return [left.id, right.id]
  const both = [...sourceTopicsOf(topology, left.id), ...sourceTopicsOf(topology, right.id)]
  const keySerde = serdeFor(
    undefined,
    left.keying.rekeyed ? (right.keying.rekeyed ? undefined : right.keying.key) : left.keying.key,
  )
  const side = (s: JoinSide, other: JoinSide, which: 'left' | 'right') =>
    !s.keying.rekeyed
      ? s.id
      : addRepartition(topology, {
          name: `${name}-${which}`,
          parent: s.id,
          keySerde,
          valueSerde: serdeFor(undefined, s.keying.value),
          partitionsLike: other.keying.rekeyed ? both : [...sourceTopicsOf(topology, other.id)],
        })
  return [side(left, right, 'left'), side(right, left, 'right')]
}

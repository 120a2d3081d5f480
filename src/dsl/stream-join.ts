import { ErrorCode, WeirError } from '../core/errors.ts'
import type { WeirRecord } from '../core/record.ts'
import type { AnyRecord } from '../runtime/processor.ts'
import { type Duration, toMillis } from '../time/duration.ts'
import type { ErrorHandling, Topology } from './graph.ts'
import { addProcessor, declareChangelog, sourceTopicsOf } from './grouped.ts'
import { mapValues } from './operators/map.ts'
import { type Sided, StreamJoin } from './operators/stream-join.ts'

export interface StreamJoinOptions extends ErrorHandling {
  /** Stable name: the buffers' changelog is `<app>-<name>-changelog`. */
  readonly name: string
  /** Records join when their timestamps are at most this far apart (`'5m'`, ms). */
  readonly within: Duration
  /** How long past the newest record time a record may still arrive and join. Default 0. */
  readonly grace?: Duration
}

/** Adds `left.join(right, joiner, { within })`: tags each side, then one join node reading both. */
export function addStreamJoin(
  topology: Topology,
  left: number,
  right: number,
  joiner: (left: unknown, right: unknown, record: WeirRecord<unknown, unknown>) => unknown,
  options: StreamJoinOptions,
): number {
  if (typeof joiner !== 'function')
    throw new WeirError(ErrorCode.TOPOLOGY_INVALID, 'join: joiner must be a function')
  if (
    options === null ||
    typeof options !== 'object' ||
    typeof options.name !== 'string' ||
    options.name === ''
  ) {
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      'join of two streams: give { name, within } (the name names its changelog)',
    )
  }
  const within = toMillis(options.within, `join "${options.name}" within`)
  const grace =
    options.grace === undefined
      ? 0
      : toMillis(options.grace, `join "${options.name}" grace`, { allowZero: true })
  const name = topology.nameFor('stream-join', options.name)
  const changelog = declareChangelog(topology, name)
  const sourceTopics = new Set([...sourceTopicsOf(topology, left), ...sourceTopicsOf(topology, right)])
  const tag = (parent: number, side: 0 | 1) => {
    const tagName = topology.nameFor(`${name}-${side === 0 ? 'left' : 'right'}`, undefined)
    return addProcessor(topology, parent, tagName, {}, () => mapValues(tagName, (v): Sided => ({ side, v })))
      .id
  }
  const parents = [tag(left, 0), tag(right, 1)]
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
      }),
    errors: { onError: options.onError, retry: options.retry },
  }))
  return node.id
}

import { json, type Serde } from '../core/serde.ts'
import type { AnyRecord } from '../runtime/processor.ts'
import type { Topology } from './graph.ts'
import { addProcessor, sourceTopicsOf } from './grouped.ts'
import { mapRecord } from './operators/map.ts'

/**
 * What a stream knows about its key. `rekeyed`: a key-changing operator (`selectKey`, `mapRecord`) ran
 * since the stream was last partitioned by its key, so records of one key may sit on several
 * partitions; grouping or joining it by key goes through a repartition topic first. `key`/`value`: the
 * serdes that still fit the stream's key and value (those it was read with, until an operator changes
 * them), carried over to a repartition topic.
 */
export interface Keying {
  readonly rekeyed: boolean
  readonly key?: Serde<unknown>
  readonly value?: Serde<unknown>
}

export const PARTITIONED: Keying = { rekeyed: false }

export interface RepartitionSpec {
  /** Names the topic `<app>-<name>-repartition` and the nodes around it. */
  readonly name: string
  readonly parent: number
  /** The new key; undefined writes the record key as it is (a stream re-keyed earlier). */
  readonly key?: (value: unknown, record: AnyRecord) => unknown
  /** Also decides the partition (Kafka's murmur2 of the key bytes): a join passes its table's key serde. */
  readonly keySerde: Serde<unknown>
  readonly valueSerde: Serde<unknown>
  /** The topic takes the widest partition count of these (default: the topics feeding `parent`). */
  readonly partitionsLike?: readonly string[]
}

/**
 * Repartition topics keep records until the app has read them: their timestamps are event times, which
 * may be old (a replay), so time-based retention must not delete records not read yet.
 */
const REPARTITION_CONFIG = { 'cleanup.policy': 'delete', 'retention.ms': '-1' } as const

export function repartitionTopic(app: string, name: string): string {
  return `${app}-${name}-repartition`
}

/**
 * Routes a stream through `<app>-<name>-repartition` (as Kafka Streams does): written keyed by the new
 * key, so every record of a key lands on one partition, then read back by the same consumer group like
 * any input, so its offsets commit with the checkpoint (in the same transaction under exactly-once).
 * Records keep their timestamp and headers. Returns the id of the source node reading the topic.
 */
export function addRepartition(topology: Topology, spec: RepartitionSpec): number {
  const topic = repartitionTopic(topology.name, spec.name)
  return topology.repartition(topic, spec.parent, spec.key, () => {
    topology.declareTopic({
      name: topic,
      role: 'internal',
      partitionsLike: spec.partitionsLike ?? [...sourceTopicsOf(topology, spec.parent)],
      config: REPARTITION_CONFIG,
    })
    let from = spec.parent
    const key = spec.key
    if (key !== undefined) {
      const rekey = topology.nameFor(`${spec.name}-rekey`, undefined)
      from = addProcessor(topology, from, rekey, {}, () =>
        mapRecord<unknown, unknown, unknown, unknown>(rekey, (r) => ({
          key: key(r.value, r),
          value: r.value,
        })),
      ).id
    }
    const parent = from
    topology.add((id) => ({
      kind: 'topic-sink' as const,
      id,
      name: topology.nameFor(`${spec.name}-to-repartition`, undefined),
      parents: [parent],
      topic,
      key: spec.keySerde,
      value: spec.valueSerde,
      errors: {},
    }))
    return topology.add((id) => ({
      kind: 'source' as const,
      id,
      name: topology.nameFor(`${spec.name}-from-repartition`, undefined),
      topic,
      key: spec.keySerde,
      value: spec.valueSerde,
    })).id
  })
}

/** The serde for a repartition topic: the one given, else the one carried, else JSON. */
export function serdeFor(
  given: Serde<unknown> | undefined,
  carried: Serde<unknown> | undefined,
): Serde<unknown> {
  return given ?? carried ?? json()
}

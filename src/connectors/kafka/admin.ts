import {
  Admin as ClientAdmin,
  FetchIsolationLevels,
  type FetchIsolationLevelValue,
  findErrorBy,
  ListOffsetTimestamps,
} from '@platformatic/kafka'
import type { Admin, CommitOffset, GroupMembers, TopicSpec } from '../../connectors/contract.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import { describe, isRetriable, sleep } from './convert.ts'
import { decodeMemberData } from './member-data.ts'
import { baseClientOptions, type KafkaOptions } from './options.ts'

/** Partition offsets keyed by `topic:partition` (see tpKey). */
export type OffsetMap = Map<string, number>

function adminError(what: string, err: unknown): WeirError {
  return new WeirError(ErrorCode.SOURCE_UNAVAILABLE, `kafka admin ${what}: ${describe(err)}`, {
    cause: err,
    retriable: isRetriable(err),
  })
}

/**
 * Topic administration: the runtime creates declared topics; lag needs end and committed offsets.
 *
 * @example
 * const admin = kafkaTransport({ brokers: ['127.0.0.1:9092'] }).admin()
 * await admin.ensureTopics([{ name: 'rides', partitions: 3, replicationFactor: 1 }])
 */
export class KafkaAdmin implements Admin {
  readonly #client: ClientAdmin

  constructor(kafka: KafkaOptions, clientId = `${kafka.clientId ?? 'weir'}-admin`) {
    this.#client = new ClientAdmin(baseClientOptions(kafka, clientId))
  }

  /** Creates each topic that does not exist yet; an existing topic is left as it is. */
  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    if (topics.length === 0) return
    const existing = new Set(await this.listTopics())
    for (const t of topics) {
      if (existing.has(t.name)) continue
      try {
        await this.#client.createTopics({
          topics: [t.name],
          partitions: t.partitions,
          replicas: t.replicationFactor,
          configs: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        })
      } catch (err) {
        if (err instanceof Error && findErrorBy(err, 'apiId', 'TOPIC_ALREADY_EXISTS')) continue
        throw adminError(`create topic ${t.name}`, err)
      }
    }
    await this.#waitForTopics(topics.map((t) => t.name))
  }

  async listTopics(): Promise<string[]> {
    try {
      return await this.#client.listTopics()
    } catch (err) {
      throw adminError('list topics', err)
    }
  }

  async deleteRecords(before: readonly CommitOffset[]): Promise<void> {
    const topics = new Map<string, Array<{ partition: number; offset: bigint }>>()
    for (const o of before)
      topics.set(o.topic, [
        ...(topics.get(o.topic) ?? []),
        { partition: o.partition, offset: BigInt(o.offset) },
      ])
    if (topics.size === 0) return
    try {
      await this.#client.deleteRecords({
        topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      })
    } catch (err) {
      throw adminError('delete records', err)
    }
  }

  /** Partition count of each topic. */
  async partitions(topics: readonly string[]): Promise<Map<string, number>> {
    try {
      const meta = await this.#client.metadata({ topics: [...topics], forceUpdate: true })
      const out = new Map<string, number>()
      for (const name of topics) {
        const t = meta.topics.get(name)
        if (t) out.set(name, t.partitionsCount)
      }
      return out
    } catch (err) {
      throw adminError('metadata', err)
    }
  }

  /** The last stable offset of each partition (the high watermark minus open transactions). */
  async endOffsets(topics: readonly string[]): Promise<OffsetMap> {
    return this.#listOffsets(topics, ListOffsetTimestamps.LATEST)
  }

  /** The high watermark of each partition: its end, records of open transactions included. */
  async highWatermarks(topics: readonly string[]): Promise<OffsetMap> {
    return this.#listOffsets(topics, ListOffsetTimestamps.LATEST, FetchIsolationLevels.READ_UNCOMMITTED)
  }

  async beginningOffsets(topics: readonly string[]): Promise<OffsetMap> {
    return this.#listOffsets(topics, ListOffsetTimestamps.EARLIEST)
  }

  /** The group's committed offsets (next offset to read) for these topics; partitions never committed are absent. */
  async committedOffsets(groupId: string, topics: readonly string[]): Promise<OffsetMap> {
    const wanted = new Set(topics)
    const out: OffsetMap = new Map()
    try {
      const groups = await this.#client.listConsumerGroupOffsets({ groups: [{ groupId, topics: null }] })
      for (const g of groups) {
        for (const t of g.topics) {
          if (!wanted.has(t.name)) continue
          for (const p of t.partitions) {
            if (p.committedOffset >= 0n) out.set(`${t.name}:${p.partitionIndex}`, Number(p.committedOffset))
          }
        }
      }
    } catch (err) {
      if (err instanceof Error && findErrorBy(err, 'apiId', 'GROUP_ID_NOT_FOUND')) return out
      throw adminError(`committed offsets of ${groupId}`, err)
    }
    return out
  }

  /**
   * The group's members from its coordinator (DescribeGroups): each member's advertised address (the
   * userData of its subscription, see KafkaSource) and its assigned partitions. An unknown group has
   * no members (state `Dead`).
   */
  async groupMembers(groupId: string): Promise<GroupMembers> {
    try {
      const groups = await this.#client.describeGroups({ groups: [groupId] })
      const g = groups.get(groupId)
      if (g === undefined) return { state: 'Dead', members: [] }
      return {
        state: g.state,
        members: [...g.members.values()].map((m) => ({
          memberId: m.id,
          address: decodeMemberData(m.metadata?.metadata),
          partitions: [...(m.assignments?.values() ?? [])].flatMap((a) =>
            a.partitions.map((partition) => ({ topic: a.topic, partition })),
          ),
        })),
      }
    } catch (err) {
      throw adminError(`describe group ${groupId}`, err)
    }
  }

  /** Deletes topics; missing ones are ignored. */
  async deleteTopics(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return
    try {
      await this.#client.deleteTopics({ topics: [...topics] })
    } catch (err) {
      if (err instanceof Error && findErrorBy(err, 'apiId', 'UNKNOWN_TOPIC_OR_PARTITION')) return
      throw adminError('delete topics', err)
    }
  }

  /** Deletes consumer groups (tests); missing or non-empty groups are ignored. */
  async deleteGroups(groups: readonly string[]): Promise<void> {
    if (groups.length === 0) return
    await this.#client.deleteGroups({ groups: [...groups] }).catch(() => {})
  }

  async close(): Promise<void> {
    await this.#client.close().catch(() => {})
  }

  async #listOffsets(
    topics: readonly string[],
    timestamp: bigint,
    isolationLevel: FetchIsolationLevelValue = FetchIsolationLevels.READ_COMMITTED,
  ): Promise<OffsetMap> {
    const out: OffsetMap = new Map()
    if (topics.length === 0) return out
    const counts = await this.partitions(topics)
    const request = [...counts].map(([name, n]) => ({
      name,
      partitions: Array.from({ length: n }, (_, partitionIndex) => ({ partitionIndex, timestamp })),
    }))
    if (request.length === 0) return out
    try {
      const listed = await this.#client.listOffsets({
        topics: request,
        isolationLevel,
      })
      for (const t of listed) {
        for (const p of t.partitions) out.set(`${t.name}:${p.partitionIndex}`, Number(p.offset))
      }
    } catch (err) {
      throw adminError('list offsets', err)
    }
    return out
  }

  /** New topics take a moment to have leaders; wait so that a producer right after does not fail. */
  async #waitForTopics(names: readonly string[]): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        const meta = await this.#client.metadata({ topics: [...names], forceUpdate: true })
        const ready = names.every((n) => {
          const t = meta.topics.get(n)
          return t?.partitions.every((p) => p !== undefined && p.leader >= 0) === true
        })
        if (ready) return
      } catch {
        // not there yet
      }
      await sleep(100)
    }
    throw adminError('create topics', new Error(`topics ${names.join(', ')} have no leader after 5s`))
  }
}

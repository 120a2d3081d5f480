/**
 * The offsets the dead-letter tools need, for either transport: end and beginning offsets of a topic and
 * a group's committed offsets. Kafka's admin has them all; the in-process broker answers from memory.
 */
import type { Transport } from '../connectors/contract.ts'
import type { MemoryBroker } from '../connectors/memory/broker.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'

/** Offsets keyed by partition number. */
export type PartitionOffsets = Map<number, number>

export interface OffsetReader {
  endOffsets(topic: string): Promise<PartitionOffsets>
  beginningOffsets(topic: string): Promise<PartitionOffsets>
  /** Next offset to read per partition; partitions the group never committed are absent. */
  committedOffsets(group: string, topic: string): Promise<PartitionOffsets>
  close(): Promise<void>
}

interface KafkaLikeAdmin {
  endOffsets(topics: readonly string[]): Promise<Map<string, number>>
  beginningOffsets(topics: readonly string[]): Promise<Map<string, number>>
  committedOffsets(group: string, topics: readonly string[]): Promise<Map<string, number>>
  close(): Promise<void>
}

function byPartition(topic: string, offsets: Map<string, number>): PartitionOffsets {
  const out: PartitionOffsets = new Map()
  for (const [key, offset] of offsets) {
    const i = key.lastIndexOf(':')
    if (key.slice(0, i) === topic) out.set(Number(key.slice(i + 1)), offset)
  }
  return out
}

function isKafkaLike(admin: object): admin is KafkaLikeAdmin {
  const a = admin as Partial<KafkaLikeAdmin>
  return typeof a.beginningOffsets === 'function' && typeof a.committedOffsets === 'function'
}

export function offsetReader(transport: Transport): OffsetReader {
  const broker = (transport as { broker?: MemoryBroker }).broker
  if (transport.kind === 'memory' && broker !== undefined) return memoryOffsets(broker)
  const admin = transport.admin()
  if (!isKafkaLike(admin)) {
    void admin.close()
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `the ${transport.kind} transport cannot list committed offsets`,
    )
  }
  return {
    endOffsets: async (topic) => byPartition(topic, await admin.endOffsets([topic])),
    beginningOffsets: async (topic) => byPartition(topic, await admin.beginningOffsets([topic])),
    committedOffsets: async (group, topic) =>
      byPartition(topic, await admin.committedOffsets(group, [topic])),
    close: () => admin.close(),
  }
}

function memoryOffsets(broker: MemoryBroker): OffsetReader {
  const each = (topic: string, f: (p: number) => number | undefined): PartitionOffsets => {
    const out: PartitionOffsets = new Map()
    for (let p = 0; p < broker.partitionCount(topic); p++) {
      const v = f(p)
      if (v !== undefined) out.set(p, v)
    }
    return out
  }
  return {
    endOffsets: async (topic) => each(topic, (p) => broker.endOffset(topic, p)),
    beginningOffsets: async (topic) =>
      each(topic, (p) => broker.read(topic, p, 0, 1)[0]?.offset ?? broker.endOffset(topic, p)),
    committedOffsets: async (group, topic) => each(topic, (p) => broker.committed(group, topic, p)),
    close: async () => {},
  }
}

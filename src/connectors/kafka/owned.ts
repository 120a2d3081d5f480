import type { TopicPartition } from '../../core/record.ts'

/**
 * The partitions a consumer-group member owns, each with the next offset to hand out (-1: not known
 * yet). Looked up by topic, then by partition number, so the per-record check builds no string key.
 */
export class OwnedPartitions {
  readonly list: readonly TopicPartition[]
  readonly #next = new Map<string, Array<number | undefined>>()

  constructor(list: readonly TopicPartition[] = []) {
    this.list = list
    for (const tp of list) {
      let byPartition = this.#next.get(tp.topic)
      if (byPartition === undefined) {
        byPartition = []
        this.#next.set(tp.topic, byPartition)
      }
      while (byPartition.length <= tp.partition) byPartition.push(undefined)
      byPartition[tp.partition] = -1
    }
  }

  get size(): number {
    return this.list.length
  }

  has(tp: TopicPartition): boolean {
    return this.next(tp.topic, tp.partition) !== undefined
  }

  /** The next offset to hand out, -1 when not known yet, undefined when the partition is not owned. */
  next(topic: string, partition: number): number | undefined {
    return this.#next.get(topic)?.[partition]
  }

  /** Notes the next offset to hand out; ignored for a partition not owned. */
  advance(topic: string, partition: number, next: number): void {
    const byPartition = this.#next.get(topic)
    if (byPartition !== undefined && byPartition[partition] !== undefined) byPartition[partition] = next
  }
}

import type { GroupPartitionsAssigner, GroupPartitionsAssignments } from '@platformatic/kafka'

/**
 * Assigns partition p of every subscribed topic to the same member (members sorted, p mod their count),
 * as Kafka Streams assigns a task: co-partitioned topics (both sides of a stream–stream or table–table
 * join, whose state for partition p meets records of partition p of each) stay together on one instance.
 * The client's round-robin assignor deals partitions out across topics in one sequence, which gives
 * `orders:1` and `payments:1` to different members and splits a join's two sides.
 */
export const copartitionedAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const ids = [...members.keys()].sort()
  const out: GroupPartitionsAssignments[] = ids.map((memberId) => ({ memberId, assignments: new Map() }))
  if (out.length === 0) return out
  for (const topic of [...topics].sort()) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0
    for (let p = 0; p < count; p++) {
      const member = out[p % out.length]!
      const a = member.assignments.get(topic) ?? { topic, partitions: [] }
      a.partitions.push(p)
      member.assignments.set(topic, a)
    }
  }
  return out
}

import type { GroupPartitionsAssigner, GroupPartitionsAssignments } from '@platformatic/kafka'

/**
 * The group leader's assignor: round-robin over members as before, but the partitions of co-partitioned
 * topics that share a number go to one member together (Kafka Streams' tasks). Operators whose state
 * is fed by several topics (a merge of two streams keyed alike, a stream–table join) keep partition p
 * of each in one place, so state partition p has one owner, one changelog writer, and one instance an
 * interactive query for a key of partition p is sent to. Topics in no group are assigned one partition
 * at a time, exactly as the round-robin assignor did.
 *
 * Units (a lone topic-partition, or partition p of every topic in a group) go round-robin to members
 * sorted by id, so every leader computes the same assignment.
 */
export function copartitionedAssigner(groups: ReadonlyArray<readonly string[]>): GroupPartitionsAssigner {
  const groupOf = new Map<string, number>()
  groups.forEach((topics, i) => {
    for (const t of topics) groupOf.set(t, i)
  })
  return (_leader, members, topics, metadata) => {
    const out: GroupPartitionsAssignments[] = [...members.keys()]
      .sort()
      .map((memberId) => ({ memberId, assignments: new Map() }))
    if (out.length === 0) return out
    const units = new Map<string, Array<{ topic: string; partition: number }>>()
    for (const topic of [...topics].sort()) {
      const count = metadata.topics.get(topic)?.partitionsCount ?? 0
      const group = groupOf.get(topic)
      for (let partition = 0; partition < count; partition++) {
        const id = group === undefined ? `${topic}\u0000${partition}` : `\u0001${group}\u0000${partition}`
        const unit = units.get(id)
        if (unit === undefined) units.set(id, [{ topic, partition }])
        else unit.push({ topic, partition })
      }
    }
    let next = 0
    for (const unit of units.values()) {
      const member = out[next++ % out.length]!
      for (const { topic, partition } of unit) {
        const a = member.assignments.get(topic)
        if (a === undefined) member.assignments.set(topic, { topic, partitions: [partition] })
        else a.partitions.push(partition)
      }
    }
    return out
  }
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClusterMetadata, ExtendedGroupProtocolSubscription } from '@platformatic/kafka'
import { copartitionedAssigner } from '../../src/connectors/kafka/copartitioned-assigner.ts'

/** The cluster metadata the assignor reads: partition counts only. */
function cluster(counts: Record<string, number>): ClusterMetadata {
  return {
    topics: new Map(Object.entries(counts).map(([t, n]) => [t, { partitionsCount: n }])),
  } as unknown as ClusterMetadata
}

function assign(groups: string[][], members: string[], counts: Record<string, number>) {
  const subs = new Map(members.map((m) => [m, { memberId: m } as ExtendedGroupProtocolSubscription]))
  const out = copartitionedAssigner(groups)(members[0]!, subs, new Set(Object.keys(counts)), cluster(counts))
  return Object.fromEntries(
    out.map((m) => [
      m.memberId,
      [...m.assignments.values()].flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)).sort(),
    ]),
  )
}

describe('kafka: the co-partitioned assignor', () => {
  it('puts partition p of every co-partitioned topic on one member', () => {
    const a = assign([['gps', 'status']], ['m1', 'm2'], { gps: 4, status: 4 })
    assert.deepEqual(a, {
      m1: ['gps:0', 'gps:2', 'status:0', 'status:2'],
      m2: ['gps:1', 'gps:3', 'status:1', 'status:3'],
    })
  })

  it('assigns topics in no group one partition at a time, round-robin (as before)', () => {
    const a = assign([['gps', 'status']], ['m2', 'm1'], { gps: 1, status: 1, trips: 1, surge: 1 })
    // Units: gps+status:0, surge:0, trips:0 → m1, m2, m1 (members sorted by id).
    assert.deepEqual(a, { m1: ['gps:0', 'status:0', 'trips:0'], m2: ['surge:0'] })
    const none = assign([], ['m1', 'm2'], { t: 4 })
    assert.deepEqual(none, { m1: ['t:0', 't:2'], m2: ['t:1', 't:3'] })
  })

  it('every partition is assigned exactly once, also when co-partitioned topics differ in size', () => {
    const a = assign([['x', 'y']], ['m1', 'm2', 'm3'], { x: 5, y: 3, z: 2 })
    const all = Object.values(a).flat().sort()
    const expected = [
      ...Array.from({ length: 5 }, (_, p) => `x:${p}`),
      ...Array.from({ length: 3 }, (_, p) => `y:${p}`),
      ...Array.from({ length: 2 }, (_, p) => `z:${p}`),
    ].sort()
    assert.deepEqual(all, expected)
    for (let p = 0; p < 3; p++) {
      const owner = Object.entries(a).find(([, tps]) => tps.includes(`x:${p}`))?.[0]
      assert.ok(owner !== undefined && a[owner]?.includes(`y:${p}`), `x:${p} and y:${p} together`)
    }
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClusterMetadata, ExtendedGroupProtocolSubscription } from '@platformatic/kafka'
import { copartitionedAssigner } from '../../src/connectors/kafka/assignor.ts'

const metadata = (counts: Record<string, number>) =>
  ({
    topics: new Map(Object.entries(counts).map(([name, partitionsCount]) => [name, { partitionsCount }])),
  }) as unknown as ClusterMetadata

const members = (...ids: string[]) => new Map(ids.map((id) => [id, {} as ExtendedGroupProtocolSubscription]))

const owned = (assigned: ReturnType<typeof copartitionedAssigner>) =>
  Object.fromEntries(
    assigned.map((m) => [
      m.memberId,
      [...m.assignments.values()].flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)).sort(),
    ]),
  )

describe('co-partitioned assignor', () => {
  it('gives partition p of every topic to one member, so both sides of a join meet', () => {
    const out = owned(
      copartitionedAssigner(
        '',
        members('b', 'a'),
        new Set(['orders', 'payments']),
        metadata({ orders: 3, payments: 3 }),
      ),
    )
    assert.deepEqual(out, {
      a: ['orders:0', 'orders:2', 'payments:0', 'payments:2'],
      b: ['orders:1', 'payments:1'],
    })
  })

  it('assigns every partition once, whatever the counts', () => {
    const out = owned(
      copartitionedAssigner('', members('a', 'b', 'c'), new Set(['x', 'y']), metadata({ x: 5, y: 1 })),
    )
    const all = Object.values(out).flat().sort()
    assert.deepEqual(all, ['x:0', 'x:1', 'x:2', 'x:3', 'x:4', 'y:0'])
  })
})

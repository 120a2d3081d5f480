/**
 * A documented limit (issue 16, "Rebalancing"): Weir's rebalances are eager. When a member joins, every
 * member gives up *all* its partitions (flushing and committing them first), and only then gets its new
 * assignment, so the partitions a member keeps also pause for the whole rebalance.
 *
 * Why not cooperative-sticky or KIP-848, checked against @platformatic/kafka 2.12.1 (the newest on npm,
 * 2026-12-04):
 * - KIP-848 (`groupProtocol: 'consumer'`): partitions are revoked inside the heartbeat handler
 *   (`#revokePartitions`), which pauses the streams, runs the client's own autocommit and moves on. No
 *   user hook is awaited, so Weir could not flush sinks and changelogs and commit before a revoked
 *   partition starts on another member: outputs duplicated and two writers on one changelog partition.
 * - Classic cooperative-sticky (`protocols: [{ name: 'cooperative-sticky' }]`): after a SyncGroup that
 *   takes partitions away, the client pauses, autocommits and rejoins; the only awaited hook is
 *   `protocolsMetadata` before that JoinGroup (the one Weir revokes in today). It would take, in Weir:
 *   revoking only the difference between the owned set and `consumer.assignments` in that hook (today it
 *   revokes all), keeping the fetch positions of kept partitions across the `consumer:group:join` event
 *   (today each join rebuilds them from the committed offsets, which would re-read uncommitted records
 *   of kept partitions into live state), and a two-step rolling upgrade (both protocols, then
 *   cooperative only). Upstream, an awaited `onPartitionsRevoked(partitions)` callback would make it
 *   safe without relying on the join hook.
 *
 * This test asserts today's eager behaviour. When the rebalance becomes cooperative it fails, and should
 * be turned around: kept partitions are neither revoked nor re-assigned.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RebalanceListener } from '../../src/connectors/contract.ts'
import { type TopicPartition, tpKey } from '../../src/core/record.ts'
import { waitUntil } from './helpers/apps.ts'
import { createTopic, testKafka, uniqueName } from './helpers/kafka.ts'

const kafka = testKafka()

function recorder() {
  const owned = new Set<string>()
  const events: Array<{ kind: 'assigned' | 'revoked'; partitions: string[] }> = []
  const listener: RebalanceListener = {
    assigned: async (ps: readonly TopicPartition[]) => {
      for (const p of ps) owned.add(tpKey(p))
      events.push({ kind: 'assigned', partitions: ps.map(tpKey).sort() })
    },
    revoked: async (ps: readonly TopicPartition[]) => {
      for (const p of ps) owned.delete(tpKey(p))
      events.push({ kind: 'revoked', partitions: ps.map(tpKey).sort() })
    },
  }
  return { owned, events, listener }
}

test('rebalance is eager (documented limit): a member joining makes the others revoke every partition, also those they keep', async (t) => {
  const topic = await createTopic(t, { partitions: 4 })
  const groupId = uniqueName('eager')
  const a = recorder()
  const b = recorder()
  const sa = kafka.source({ groupId, clientId: 'a', topics: [topic], fromBeginning: true })
  t.after(() => sa.close())
  await sa.open(a.listener)
  await waitUntil('a owns all 4 partitions', async () => a.owned.size === 4, 30_000, 50)
  const all = [0, 1, 2, 3].map((p) => `${topic}:${p}`)

  const sb = kafka.source({ groupId, clientId: 'b', topics: [topic], fromBeginning: true })
  t.after(() => sb.close())
  await sb.open(b.listener)
  await waitUntil(
    'a and b split the partitions',
    async () => a.owned.size === 2 && b.owned.size === 2,
    30_000,
    50,
  )
  const kept = [...a.owned].sort()
  // Eager: a gave up all four, the two it keeps included, and got its two back afterwards.
  assert.deepEqual(
    a.events.map((e) => e.kind),
    ['assigned', 'revoked', 'assigned'],
  )
  assert.deepEqual(a.events[1]?.partitions, all, 'every partition revoked, not only the two that moved')
  assert.deepEqual(a.events[2]?.partitions, kept)
  for (const p of kept) assert.ok(a.events[1]?.partitions.includes(p), `${p} paused although a keeps it`)
})

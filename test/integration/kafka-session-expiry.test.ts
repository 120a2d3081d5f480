/**
 * A member the group dropped (its session expired: the process stalled, or the broker was frozen for
 * longer than the session timeout) rejoins. The runtime's periodic commit comes due at that moment and
 * finds the member fenced; its revocation then waits for that commit and commits what it handed out.
 * - No commit may wait for a rejoin: @platformatic/kafka rejoins from inside a failed commit, and that
 *   join runs the join hook, whose revocation waits for the commit. Before the fix every session expiry
 *   ran the revocation into the group's timeout, and the partitions came back before the runtime had
 *   dropped their state (late records and lost windows after the fault suite's 15 s broker freeze).
 * - The listener hears of the partitions leaving before they arrive again, never both at once.
 * - Records flow again afterwards: the source keeps the partitions of a join that completed meanwhile.
 * The source-level race behind the second point (a join completing during a revocation, quick with a
 * private broker resumed after a freeze) is reproduced by test/faults/broker-outage-windows.test.ts.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RebalanceListener } from '../../src/connectors/contract.ts'
import { type TopicPartition, tpKey } from '../../src/core/record.ts'
import { waitUntil } from './helpers/apps.ts'
import { createTopic, testKafka, uniqueName } from './helpers/kafka.ts'
import { sleep } from './helpers/services.ts'

test('session expired: the rejoin revokes before it assigns, and records flow again', async (t) => {
  const kafka = testKafka({ consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 } })
  const topic = await createTopic(t, { partitions: 2, kafka })
  const sink = kafka.sink({ clientId: uniqueName('producer') })
  await sink.open()
  t.after(() => sink.close())
  const write = async (from: number, n: number) => {
    for (let i = from; i < from + n; i++)
      sink.add({ topic, partition: i % 2, key: null, value: Buffer.from(String(i)), headers: {} })
    await sink.flush()
  }
  await write(0, 20)

  const next = new Map<string, number>()
  const handedOut = (ps: readonly TopicPartition[]) =>
    ps.flatMap((p) => {
      const offset = next.get(tpKey(p))
      return offset === undefined ? [] : [{ ...p, offset }]
    })
  let periodic: Promise<unknown> = Promise.resolve()
  const events: string[] = []
  let revoking = false
  let overlapped = 0
  let givenUpCount = 0
  const source = kafka.source({
    groupId: uniqueName('expiry'),
    groupInstanceId: uniqueName('instance'),
    clientId: 'c',
    topics: [topic],
    fromBeginning: true,
  })
  const listener: RebalanceListener = {
    assigned: async (ps: readonly TopicPartition[]) => {
      if (revoking) overlapped++
      events.push(`assigned ${ps.map(tpKey).sort().join(',')}`)
    },
    revoked: async (ps: readonly TopicPartition[], givenUp?: AbortSignal) => {
      // Given up (past the group's timeouts), the source moves on without it: no overlap to count then.
      revoking = true
      givenUp?.addEventListener('abort', () => {
        revoking = false
        givenUpCount++
      })
      events.push(`revoked ${ps.map(tpKey).sort().join(',')}`)
      try {
        // As the runtime's checkpoint before revocation: after the periodic one under way, commit what
        // was handed out.
        await periodic
        await source.commit(handedOut(ps)).catch(() => {})
        await sleep(200)
      } finally {
        revoking = false
      }
    },
  }
  t.after(() => source.close())
  await source.open(listener)
  const seen = new Set<string>()
  const reading = (async () => {
    for await (const batch of source.batches())
      for (const r of batch) {
        seen.add(r.value!.toString())
        next.set(`${r.topic}:${r.partition}`, r.offset + 1)
      }
  })()
  t.after(async () => {
    await source.stop()
    await reading
  })
  await waitUntil('the first 20 records handed out', async () => seen.size === 20, 30_000, 50)

  // The process stalls past the session timeout: no heartbeat, and the group drops the member.
  const stalledUntil = Date.now() + 7500
  while (Date.now() < stalledUntil) {}
  // The runtime's periodic commit comes due right away: it finds the member fenced and rejoins, while the
  // heartbeat's failure makes the client rejoin too. One of the joins revokes; the other must wait.
  periodic = source.commit(handedOut(source.assignment())).catch(() => {})
  await waitUntil('the rejoin revoked', async () => events.some((e) => e.startsWith('revoked')), 30_000, 50)

  await write(20, 20)
  await waitUntil('the records written after the rejoin handed out', async () => seen.size === 40, 30_000, 50)
  assert.equal(
    givenUpCount,
    0,
    `a revocation overran (its commit waited for the rejoin): ${events.join(' → ')}`,
  )
  assert.equal(overlapped, 0, `assigned() ran during revoked(): ${events.join(' → ')}`)
  assert.equal(events[0]?.startsWith('assigned'), true)
  for (let i = 1; i < events.length; i++)
    assert.notEqual(
      events[i]!.split(' ')[0],
      events[i - 1]!.split(' ')[0],
      `alternating: ${events.join(' → ')}`,
    )
})

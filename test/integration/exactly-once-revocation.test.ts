/**
 * A revocation that cannot finish before the group's deadline (a record stuck in a slow async call):
 * the source gives the partitions up, their new owner starts from the last commit, and under
 * exactly-once the late transaction must never commit, or the new owner's records would count twice.
 * Found as a flake of tables-joins (counts doubled after a rebalance behind a slow mapAsync).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RebalanceListener } from '../../src/connectors/contract.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/metrics.ts'
import { run } from '../../src/runtime/runner.ts'
import { readAll, waitUntil } from './helpers/apps.ts'
import { createTopic, testKafka, uniqueName } from './helpers/kafka.ts'

// The broker's minimum session: the source gives a revocation max(1 s, 6 s − 2 s) = 4 s.
const kafka = testKafka({ consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 } })
const produce = async (topic: string, values: readonly string[]) => {
  const sink = kafka.sink({ clientId: 'weir-test-revocation' })
  await sink.open()
  try {
    for (const [i, v] of values.entries())
      sink.add({ topic, key: Buffer.from(`k${i}`), value: Buffer.from(JSON.stringify(v)), partition: i % 2 })
    await sink.flush()
  } finally {
    await sink.close()
  }
}

test('a revocation past its deadline aborts the source listener’s givenUp signal before the partitions move', async (t) => {
  const topic = await createTopic(t, { partitions: 2 })
  const groupId = uniqueName('overrun')
  const events: string[] = []
  let signal: AbortSignal | undefined
  let release!: () => void
  const stuck = new Promise<void>((r) => {
    release = r
  })
  t.after(() => release())
  const sa = kafka.source({ groupId, clientId: 'a', topics: [topic], fromBeginning: true })
  t.after(() => sa.close())
  let aAssigned = 0
  const a: RebalanceListener = {
    assigned: async () => {
      aAssigned++
    },
    revoked: async (_ps, givenUp) => {
      signal = givenUp
      givenUp?.addEventListener('abort', () => events.push('a given up'))
      await stuck
    },
  }
  await sa.open(a)
  await waitUntil('a assigned', async () => aAssigned === 1, 30_000, 50)
  const sb = kafka.source({ groupId, clientId: 'b', topics: [topic], fromBeginning: true })
  t.after(() => sb.close())
  await sb.open({
    assigned: async (ps) => {
      if (ps.length > 0) events.push('b assigned')
    },
    revoked: async () => {},
  })
  await waitUntil('b assigned', async () => events.includes('b assigned'), 30_000, 50)
  assert.ok(signal, 'revoked() received a givenUp signal')
  assert.deepEqual(events, ['a given up', 'b assigned'])
})

test('exactly-once: a revocation that overruns aborts the open transaction and stops; the new owner counts each record once', async (t) => {
  const input = await createTopic(t, { partitions: 2 })
  const output = await createTopic(t, { partitions: 1 })
  const app = uniqueName('overrun-app')
  const values = Array.from({ length: 40 }, (_, i) => (i === 7 ? 'stall' : `v${i}`))
  await produce(input, values)

  // Instance a is stuck on 'stall' (partition 1) until the test ends; b answers at once.
  let release!: () => void
  const stuck = new Promise<void>((r) => {
    release = r
  })
  t.after(() => release())
  const build = (slowOnStall: boolean) => {
    const p = pipeline(app)
    p.stream<string>(input)
      .mapAsync(async (v) => {
        if (slowOnStall && v === 'stall') await stuck
        return v
      })
      .to(output)
    return p
  }
  const options = {
    transport: kafka,
    processing: 'exactly-once',
    metrics: createMetrics(),
    logger: silentLogger,
  } as const
  const a = await run(build(true), { ...options, groupInstanceId: 'a' })
  t.after(() => a.stop())
  const aDone = a.done.then(
    () => undefined,
    (err: unknown) => err,
  )
  await waitUntil('a owns both partitions', async () => a.assignment().length === 2, 30_000, 50)
  const b = await run(build(false), { ...options, groupInstanceId: 'b' })
  t.after(() => b.stop())

  await waitUntil(
    'every record written once the partitions settle on b',
    async () => (await readAll(kafka, output)).length >= values.length,
    30_000,
    100,
  )
  // Only now does a's stuck call return: a late commit of its transaction would show its records twice.
  release()
  await new Promise((r) => setTimeout(r, 2000))
  const got = (await readAll(kafka, output))
    .map((r) => JSON.parse(r.value?.toString() ?? 'null') as string)
    .sort()
  assert.deepEqual(got, [...values].sort())
  const failure = await aDone
  assert.ok(failure instanceof WeirError, `a stopped with a WeirError, got ${String(failure)}`)
  assert.equal(failure.code, ErrorCode.TRANSACTION_ABORTED)
})

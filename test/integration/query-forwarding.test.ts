import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { WeirApp } from '../../src/apps/app.ts'
import { keyPartition } from '../../src/connectors/kafka/murmur2.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { type RunningService, startService } from '../../src/service/service.ts'
import { waitUntil } from './helpers/apps.ts'
import { deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'
import { type Cleanup, testCleanup } from './helpers/services.ts'

const kafka = testKafka()

/** A count per key over a 2-partition topic, queryable as `counts`; ops server on a free port. */
function countsApp(input: string, groupId: string): WeirApp {
  return {
    name: 'counts-app',
    description: 'counts per key (interactive-query test)',
    env: [],
    create: () => {
      const p = pipeline(groupId)
      p.stream<unknown, string>(input).groupByKey().count({ name: 'counts' }).to(`${input}-out`)
      return {
        pipeline: p,
        kafka: { brokers: kafkaBrokers() },
        http: { host: '127.0.0.1', port: 0 },
        run: { groupId, topics: { partitions: 2 } },
      }
    },
  }
}

async function startInstance(
  app: WeirApp,
  cleanup: Cleanup,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const s = await startService(app, {
    env: { LOG_LEVEL: 'ERROR', ...env },
    logger: silentLogger,
    handleSignals: false,
    transport: () => kafka,
  })
  cleanup(() => s.stop('test over'))
  return s
}

async function produce(
  topic: string,
  records: ReadonlyArray<{ key: string; value: unknown }>,
): Promise<void> {
  const sink = kafka.sink({ clientId: 'weir-test-query' })
  await sink.open()
  try {
    for (const r of records)
      sink.add({ topic, key: Buffer.from(r.key), value: Buffer.from(JSON.stringify(r.value)) })
    await sink.flush()
  } finally {
    await sink.close()
  }
}

/** Keys k0…k(n-1), key i sent i % 3 + 1 times, and the partition (of 2) each lands on. */
function keyedInput(n: number) {
  const keys = Array.from({ length: n }, (_, i) => ({
    key: `k${i}`,
    times: (i % 3) + 1,
    partition: keyPartition(Buffer.from(`k${i}`)) % 2,
  }))
  const records = keys.flatMap((k) =>
    Array.from({ length: k.times }, (_, j) => ({ key: k.key, value: { j } })),
  )
  return { keys, records }
}

async function groupState(groupId: string): Promise<string> {
  const admin = kafka.admin()
  try {
    return (await admin.groupMembers(groupId)).state
  } finally {
    await admin.close()
  }
}

describe('interactive queries across instances (real Kafka, two instances)', { timeout: 120_000 }, () => {
  it("a key owned by B queried on A returns B's value; a key nobody holds is 404", async (t) => {
    const cleanup = testCleanup(t)
    const base = uniqueName('iq')
    const input = `${base}-in`
    cleanup(() => deleteTopics([input, `${input}-out`, `${base}-counts-changelog`, `${base}-dlq`]))
    const app = countsApp(input, base)
    const a = await startInstance(app, cleanup)
    const b = await startInstance(app, cleanup)
    await waitUntil(
      'each instance owns one partition of a stable group',
      async () =>
        a.running.assignment().length === 1 &&
        b.running.assignment().length === 1 &&
        a.running.store('counts')?.get('-').state === 'missing' && // restored, not restoring
        b.running.store('counts')?.get('-').state === 'missing' &&
        (await groupState(base)) === 'Stable',
      60_000,
    )
    const { keys, records } = keyedInput(20)
    await produce(input, records)
    const holds = (s: RunningService, key: string, times: number) => {
      const r = s.running.store('counts')?.get(key)
      return r?.state === 'found' && r.value === times
    }
    await waitUntil('every count is in the state of A or B', async () =>
      keys.every((k) => holds(a, k.key, k.times) || holds(b, k.key, k.times)),
    )

    const bPartition = b.running.assignment()[0]?.partition
    const onB = keys.filter((k) => k.partition === bPartition)
    assert.ok(onB.length > 0, 'some keys land on the partition B owns')
    for (const k of keys) {
      const res = await fetch(`${a.address?.url}/state/counts/${k.key}`)
      assert.equal(res.status, 200, `${k.key}: ${await res.clone().text()}`)
      const body = (await res.json()) as { key: string; value: number }
      assert.deepEqual({ key: body.key, value: body.value }, { key: k.key, value: k.times })
      const servedBy = res.headers.get('x-weir-served-by')
      if (k.partition === bPartition) {
        // A does not hold it: B answered, through A.
        assert.equal(a.running.store('counts')?.get(k.key).state, 'missing')
        assert.equal(servedBy, `127.0.0.1:${b.address?.port}`)
      } else {
        assert.equal(servedBy, null, `${k.key} is A's own`)
      }
    }
    // And the other way round: B answers for A's keys too.
    const onA = keys.find((k) => k.partition !== bPartition)
    assert.ok(onA)
    const viaB = await fetch(`${b.address?.url}/state/counts/${onA.key}`)
    assert.equal(viaB.status, 200)
    assert.equal(((await viaB.json()) as { value: number }).value, onA.times)

    const none = await fetch(`${a.address?.url}/state/counts/no-such-key`)
    assert.equal(none.status, 404)
    // A forwarded query is answered from local state only (no loops, no second hop).
    const local = await fetch(`${a.address?.url}/state/counts/${onB[0]?.key}`, {
      headers: { 'x-weir-forwarded-by': 'test' },
    })
    assert.equal(local.status, 404)
    // A store another instance asks for but this one has not opened: starting, not absent.
    assert.equal((await fetch(`${a.address?.url}/state/not-here/k0`)).status, 404)
    const starting = await fetch(`${a.address?.url}/state/not-here/k0`, {
      headers: { 'x-weir-forwarded-by': 'test' },
    })
    assert.equal(starting.status, 503)
    assert.equal(starting.headers.get('retry-after'), '1')
  })

  it('a member that advertises no address owns a key: 503 with Retry-After, not a wrong 404', async (t) => {
    const cleanup = testCleanup(t)
    const base = uniqueName('iq-noaddr')
    const input = `${base}-in`
    cleanup(() => deleteTopics([input, `${input}-out`, `${base}-counts-changelog`, `${base}-dlq`]))
    const a = await startInstance(countsApp(input, base), cleanup)
    // A plain member of the same group (no APPLICATION_SERVER): it takes a partition, answers nothing.
    const silent = kafka.source({
      groupId: base,
      clientId: `${base}-silent`,
      topics: [input],
      fromBeginning: true,
    })
    cleanup(() => silent.close())
    await silent.open({ assigned: async () => {}, revoked: async () => {} })
    await waitUntil(
      'the silent member owns a partition of a stable group',
      async () =>
        silent.assignment().length === 1 &&
        a.running.assignment().length === 1 &&
        a.running.store('counts')?.get('-').state === 'missing' && // restored, not restoring
        (await groupState(base)) === 'Stable',
      60_000,
    )
    const silentPartition = silent.assignment()[0]?.partition
    const key = keyedInput(20).keys.find((k) => k.partition === silentPartition)
    assert.ok(key)
    const res = await fetch(`${a.address?.url}/state/counts/${key.key}`)
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '1')
    assert.match(((await res.json()) as { error: string }).error, /advertised no address/)
  })
})

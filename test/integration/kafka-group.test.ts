import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { RebalanceListener } from '../../src/connectors/contract.ts'
import { type TopicPartition, tpKey } from '../../src/core/record.ts'
import { collect, createTopic, kafkaAvailable, testKafka, uniqueName } from './helpers/kafka.ts'

const quiet: RebalanceListener = { assigned: async () => {}, revoked: async () => {} }

async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A listener that records every call and the partitions currently owned. */
function recorder(name: string, log: string[]) {
  const owned = new Map<string, TopicPartition>()
  const listener: RebalanceListener = {
    async assigned(ps) {
      log.push(`${name} assigned ${ps.map(tpKey).join(',')}`)
      for (const p of ps) owned.set(tpKey(p), p)
    },
    async revoked(ps) {
      log.push(`${name} revoked ${ps.map(tpKey).join(',')}`)
      for (const p of ps) owned.delete(tpKey(p))
    },
  }
  return { listener, owned }
}

describe('kafka consumer groups', { timeout: 180_000 }, () => {
  const kafka = testKafka()
  const admin = kafka.admin()

  before(async () => {
    assert.ok(
      await kafkaAvailable(kafka),
      'Kafka is not reachable on KAFKA_BROKERS: run `bash scripts/services.sh up`',
    )
  })
  after(() => admin.close())

  async function produce(topic: string, count: number, partitions = 1, from = 0, pad = 0): Promise<void> {
    const sink = kafka.sink({ clientId: uniqueName('p') })
    await sink.open()
    try {
      for (let i = from; i < from + count; i++) {
        const value =
          pad > 0 ? Buffer.concat([Buffer.from(`v${i}`), Buffer.alloc(pad)]) : Buffer.from(`v${i}`)
        sink.add({ topic, partition: i % partitions, key: Buffer.from(`k${i}`), value })
      }
      await sink.flush()
    } finally {
      await sink.close()
    }
  }

  test('a new member of the group resumes exactly after the committed offset', async (t) => {
    const topic = await createTopic(t)
    const groupId = uniqueName('g')
    await produce(topic, 10)

    const first = kafka.source({ groupId, clientId: 'first', topics: [topic], fromBeginning: true })
    await first.open(quiet)
    const got = await collect(first.batches(), 10)
    assert.equal(got.length, 10)
    // Processed offsets 0..5: the next offset to read is 6.
    await first.commit([{ topic, partition: 0, offset: 6 }])
    await first.close()
    assert.deepEqual(await admin.committedOffsets(groupId, [topic]), new Map([[`${topic}:0`, 6]]))

    const second = kafka.source({ groupId, clientId: 'second', topics: [topic], fromBeginning: true })
    await second.open(quiet)
    t.after(() => second.close())
    const rest = await collect(second.batches(), 4)
    assert.deepEqual(
      rest.map((r) => r.offset),
      [6, 7, 8, 9],
    )
    assert.deepEqual(
      rest.map((r) => r.value?.toString()),
      ['v6', 'v7', 'v8', 'v9'],
    )
    // Nothing more arrives.
    assert.equal((await collect(second.batches(), 1, 1500)).length, 0)
  })

  test('commit() skips partitions the member does not own', async (t) => {
    const topic = await createTopic(t)
    const groupId = uniqueName('g')
    const source = kafka.source({ groupId, clientId: 'c', topics: [topic], fromBeginning: true })
    await source.open(quiet)
    t.after(() => source.close())
    await eventually(() => source.assignment().length === 1, 'assignment')
    await source.commit([
      { topic, partition: 0, offset: 0 },
      { topic: 'not-subscribed', partition: 0, offset: 5 },
    ])
    assert.deepEqual(
      await admin.committedOffsets(groupId, [topic, 'not-subscribed']),
      new Map([[`${topic}:0`, 0]]),
    )
  })

  test('two members share the partitions, hear assigned/revoked, and one takes over when the other leaves', async (t) => {
    const topic = await createTopic(t, { partitions: 4 })
    const groupId = uniqueName('g')
    const log: string[] = []
    const a = recorder('a', log)
    const b = recorder('b', log)
    const sa = kafka.source({ groupId, clientId: 'a', topics: [topic], fromBeginning: true })
    const sb = kafka.source({ groupId, clientId: 'b', topics: [topic], fromBeginning: true })
    t.after(() => sa.close())
    t.after(() => sb.close())

    await sa.open(a.listener)
    await eventually(() => a.owned.size === 4, 'a owns all 4 partitions')

    await sb.open(b.listener)
    await eventually(
      () => a.owned.size > 0 && b.owned.size > 0 && a.owned.size + b.owned.size === 4,
      'a and b split the partitions',
    )
    assert.ok(log.includes(`a revoked ${[0, 1, 2, 3].map((p) => `${topic}:${p}`).join(',')}`), log.join('\n'))
    const all = new Set([...a.owned.keys(), ...b.owned.keys()])
    assert.equal(all.size, 4, 'no partition owned twice, none missing')
    assert.deepEqual(new Set(sa.assignment().map(tpKey)), new Set(a.owned.keys()))
    assert.deepEqual(new Set(sb.assignment().map(tpKey)), new Set(b.owned.keys()))

    // Each member reads only its own partitions.
    await produce(topic, 40, 4)
    const [ra, rb] = await Promise.all([
      collect(sa.batches(), 10 * a.owned.size),
      collect(sb.batches(), 10 * b.owned.size),
    ])
    assert.ok(ra.every((r) => a.owned.has(tpKey(r))))
    assert.ok(rb.every((r) => b.owned.has(tpKey(r))))
    assert.equal(ra.length + rb.length, 40)
    await sa.commit([...a.owned.values()].map((p) => ({ ...p, offset: 10 })))

    // b leaves: a gets everything back, and resumes b's partitions from the beginning (b committed nothing)
    // and its own after the commit.
    await sb.close()
    await eventually(() => a.owned.size === 4, 'a owns all 4 partitions again')
    await produce(topic, 4, 4, 40)
    const taken = await collect(sa.batches(), rb.length + 4, 20_000)
    assert.equal(taken.length, rb.length + 4)
    const bPartitions = new Set(rb.map((r) => r.partition))
    assert.deepEqual(
      taken
        .filter((r) => r.offset < 10)
        .map((r) => `${r.partition}:${r.offset}`)
        .sort(),
      rb.map((r) => `${r.partition}:${r.offset}`).sort(),
      'b’s uncommitted records are read again',
    )
    assert.ok(taken.filter((r) => r.offset < 10).every((r) => bPartitions.has(r.partition)))
    assert.equal(taken.filter((r) => r.offset === 10).length, 4, 'the 4 new records, one per partition')
  })

  test('revoked() is awaited before the partitions move to another member', async (t) => {
    const topic = await createTopic(t, { partitions: 2 })
    const groupId = uniqueName('g')
    const events: string[] = []
    let releaseRevoke!: () => void
    const revokeGate = new Promise<void>((r) => {
      releaseRevoke = r
    })
    const sa = kafka.source({ groupId, clientId: 'a', topics: [topic], fromBeginning: true })
    const sb = kafka.source({ groupId, clientId: 'b', topics: [topic], fromBeginning: true })
    t.after(() => sa.close())
    t.after(() => sb.close())
    let aAssignments = 0
    await sa.open({
      assigned: async () => {
        aAssignments++
      },
      revoked: async (ps) => {
        events.push('a revoke started')
        await revokeGate
        // The runtime commits what it drained before giving the partitions up.
        await sa.commit(ps.map((p) => ({ ...p, offset: 3 })))
        events.push('a revoke finished')
      },
    })
    await eventually(() => aAssignments === 1, 'a assigned')
    const bOpened = sb.open({
      assigned: async (ps) => {
        if (ps.length > 0) events.push('b assigned')
      },
      revoked: async () => {},
    })
    await eventually(() => events.includes('a revoke started'), 'a revoke started')
    await new Promise((r) => setTimeout(r, 2000))
    assert.deepEqual(events, ['a revoke started'], 'b gets nothing while a is still revoking')
    releaseRevoke()
    await bOpened
    await eventually(() => events.includes('b assigned'), 'b assigned')
    assert.deepEqual(events, ['a revoke started', 'a revoke finished', 'b assigned'])
    assert.deepEqual(
      await admin.committedOffsets(groupId, [topic]),
      new Map([
        [`${topic}:0`, 3],
        [`${topic}:1`, 3],
      ]),
    )
  })

  test('a slow reader does not make the source buffer without bound', async (t) => {
    const topic = await createTopic(t)
    // 30 MB of 1 kB records: far more than one fetch (1 MiB per partition) or the high-water mark.
    await produce(topic, 30_000, 1, 0, 1000)
    const source = kafka.source({
      groupId: uniqueName('g'),
      clientId: 'slow',
      topics: [topic],
      fromBeginning: true,
      maxBatch: 100,
    })
    await source.open(quiet)
    t.after(() => source.close())
    const it = source.batches()[Symbol.asyncIterator]()
    const first = await it.next()
    assert.equal(first.value?.length, 100)
    const before = process.memoryUsage().heapUsed
    await new Promise((r) => setTimeout(r, 2000))
    // The client holds at most its high-water mark (2048) plus one fetch response (~1000 such records).
    const buffered = source.bufferedRecords()
    assert.ok(buffered > 0 && buffered <= 2048 + 1100, `buffered ${buffered}`)
    assert.ok(process.memoryUsage().heapUsed - before < 64 * 1024 * 1024)
    let n = 100
    while (n < 30_000) {
      const r = await it.next()
      if (r.done) break
      n += r.value.length
    }
    assert.equal(n, 30_000)
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, type TestContext, test } from 'node:test'
import type { RebalanceListener } from '../../src/connectors/contract.ts'
import type { KafkaTransport } from '../../src/connectors/kafka/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import type { OutgoingRecord } from '../../src/core/record.ts'
import {
  collect,
  createTopic,
  kafkaAvailable,
  kafkaSaslBrokers,
  testKafka,
  uniqueName,
} from './helpers/kafka.ts'

const quiet: RebalanceListener = { assigned: async () => {}, revoked: async () => {} }

/** An opened sink of `transport`, closed when the test ends. */
async function openSink(t: TestContext, transport: KafkaTransport, clientId = uniqueName('sink')) {
  const sink = transport.sink({ clientId })
  await sink.open()
  t.after(() => sink.close())
  return sink
}

/** The first `count` records of `topic`, read from its start by a new group; the source closes with the test. */
async function readFromStart(
  t: TestContext,
  transport: KafkaTransport,
  topic: string,
  count: number,
  clientId: string,
) {
  const source = transport.source({
    groupId: uniqueName('g'),
    clientId,
    topics: [topic],
    fromBeginning: true,
  })
  await source.open(quiet)
  t.after(() => source.close())
  return { source, got: await collect(source.batches(), count) }
}

describe('kafka topics and records', { timeout: 120_000 }, () => {
  const kafka = testKafka()
  const admin = kafka.admin()

  before(async () => {
    assert.ok(
      await kafkaAvailable(kafka),
      'Kafka is not reachable on KAFKA_BROKERS: run `bash scripts/services.sh up`',
    )
  })
  after(() => admin.close())

  test('ensureTopics creates a missing topic with its partitions and config, and accepts an existing one', async (t) => {
    const name = uniqueName('admin')
    t.after(() => admin.deleteTopics([name]))
    const spec = { name, partitions: 3, replicationFactor: 1, config: { 'cleanup.policy': 'compact' } }
    await admin.ensureTopics([spec])
    await admin.ensureTopics([spec])
    assert.equal((await admin.partitions([name])).get(name), 3)
    assert.ok((await admin.listTopics()).includes(name))
    assert.deepEqual(
      await admin.endOffsets([name]),
      new Map([
        [`${name}:0`, 0],
        [`${name}:1`, 0],
        [`${name}:2`, 0],
      ]),
    )
  })

  test('records come back with exact offsets, keys, values, headers and timestamps', async (t) => {
    // One record carries a header named "__proto__": it must come back as a header, not as a prototype.
    const headersOf = (i: number): Record<string, Buffer> => {
      const h: Record<string, Buffer> = { trace: Buffer.from(`t${i}`), bin: Buffer.from([0, 255, i]) }
      if (i === 11)
        Object.defineProperty(h, '__proto__', {
          value: Buffer.from('odd'),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      return h
    }
    const topic = await createTopic(t, { partitions: 2 })
    const sink = await openSink(t, kafka)
    const base = Date.UTC(2026, 0, 1)
    const sent: OutgoingRecord[] = []
    for (let i = 0; i < 50; i++) {
      sent.push({
        topic,
        partition: i % 2,
        key: i === 7 ? null : Buffer.from(`key-${i}`),
        value: i === 9 ? null : Buffer.from(JSON.stringify({ i })),
        headers: headersOf(i),
        timestamp: base + i * 1000,
      })
    }
    for (const r of sent) sink.add(r)
    assert.equal(sink.backlog(), 50)
    await sink.flush()
    assert.equal(sink.backlog(), 0)
    assert.deepEqual(sink.status(), { connected: true })

    const { source, got } = await readFromStart(t, kafka, topic, 50, 'io')
    assert.equal(got.length, 50)
    for (const partition of [0, 1]) {
      const mine = got.filter((r) => r.partition === partition)
      assert.deepEqual(
        mine.map((r) => r.offset),
        Array.from({ length: 25 }, (_, i) => i),
        'per-partition offsets in order',
      )
    }
    for (const r of got) {
      const i = r.offset * 2 + r.partition
      const s = sent[i]!
      assert.equal(r.topic, topic)
      assert.deepEqual(r.key, s.key)
      assert.deepEqual(r.value, s.value)
      assert.equal(r.timestamp, s.timestamp)
      assert.deepEqual(r.headers, s.headers)
    }
    assert.equal(source.status().connected, true)
    assert.deepEqual(
      await admin.endOffsets([topic]),
      new Map([
        [`${topic}:0`, 25],
        [`${topic}:1`, 25],
      ]),
    )
  })

  test('timestamps weeks apart in one produce request come back exact', async (t) => {
    // One batch whose timestamps are 2^31 ms (24.8 days) and more apart: the client's 64-bit varints wrote
    // such deltas wrongly (patches/@platformatic+dynamic-buffer+0.3.1.patch); replayed dead letters and
    // late backfills mix times like these.
    const topic = await createTopic(t, { partitions: 1 })
    const sink = await openSink(t, kafka)
    const day = 86_400_000
    const now = Date.now()
    const times = [now - 80 * day, now, now - 40 * day, now - 25 * day, now - 80 * day + 1]
    for (const [i, timestamp] of times.entries())
      sink.add({ topic, partition: 0, key: null, value: Buffer.from(`r${i}`), timestamp })
    await sink.flush()
    const { got } = await readFromStart(t, kafka, topic, times.length, 'io')
    assert.deepEqual(
      got.map((r) => [r.value?.toString(), r.timestamp]),
      times.map((timestamp, i) => [`r${i}`, timestamp]),
    )
  })

  test('a source that does not start from the beginning reads only what is produced after it joined', async (t) => {
    const topic = await createTopic(t)
    const sink = await openSink(t, kafka)
    sink.add({ topic, key: null, value: Buffer.from('old') })
    await sink.flush()
    const source = kafka.source({
      groupId: uniqueName('g'),
      clientId: 'latest',
      topics: [topic],
      fromBeginning: false,
    })
    let assigned!: () => void
    const ready = new Promise<void>((r) => {
      assigned = r
    })
    await source.open({ assigned: async () => assigned(), revoked: async () => {} })
    t.after(() => source.close())
    await ready
    const batches = source.batches()
    // The stream positions itself at the end when the assignment arrives; give it that moment.
    const first = collect(batches, 1, 15_000)
    await new Promise((r) => setTimeout(r, 1500))
    sink.add({ topic, key: null, value: Buffer.from('new') })
    await sink.flush()
    const got = await first
    assert.deepEqual(
      got.map((r) => r.value?.toString()),
      ['new'],
    )
  })

  test('stop() ends batches() and close() leaves the group', async (t) => {
    const topic = await createTopic(t)
    const source = kafka.source({
      groupId: uniqueName('g'),
      clientId: 'stop',
      topics: [topic],
      fromBeginning: true,
    })
    await source.open(quiet)
    const iterating = (async () => {
      let n = 0
      for await (const b of source.batches()) n += b.length
      return n
    })()
    await source.stop()
    assert.equal(await iterating, 0)
    await source.close()
    assert.equal(source.status().connected, false)
  })

  test('the sink sends in chunks and flush() covers everything added before it', async (t) => {
    const topic = await createTopic(t, { partitions: 3 })
    const sink = await openSink(t, kafka)
    const value = Buffer.alloc(200, 'v')
    for (let i = 0; i < 20_000; i++) sink.add({ topic, key: Buffer.from(`k${i}`), value })
    await sink.flush()
    const ends = await admin.endOffsets([topic])
    assert.equal(
      [...ends.values()].reduce((a, b) => a + b, 0),
      20_000,
    )
  })

  test('a record Kafka refuses stays buffered and every flush rejects, while the records before it are written', async (t) => {
    const topic = await createTopic(t, { config: { 'max.message.bytes': '2000' } })
    const sink = await openSink(t, kafka)
    for (let i = 0; i < 5; i++) sink.add({ topic, key: null, value: Buffer.from(`ok${i}`) })
    sink.add({ topic, key: null, value: Buffer.alloc(10_000) })
    sink.add({ topic, key: null, value: Buffer.from('after') })
    const refused = (err: unknown) => {
      assert.ok(err instanceof WeirError)
      assert.equal(err.code, ErrorCode.RECORD_TOO_LARGE)
      assert.equal(err.retriable, false)
      return true
    }
    await assert.rejects(sink.flush(), refused)
    await assert.rejects(sink.flush(), refused)
    assert.equal(sink.backlog(), 2, 'the refused record and the one after it are kept')
    assert.equal(sink.status().connected, true, 'Kafka itself is fine')
    assert.equal((await admin.endOffsets([topic])).get(`${topic}:0`), 5)
  })

  test('with onRejected a refused record is handed over and the records around it are written in order', async (t) => {
    const topic = await createTopic(t, { config: { 'max.message.bytes': '2000' } })
    const rejected: Array<{ size: number; code: string }> = []
    const sink = kafka.sink({
      clientId: uniqueName('sink'),
      onRejected: (record, err) => {
        rejected.push({ size: record.value?.length ?? 0, code: err.code })
      },
    })
    await sink.open()
    t.after(() => sink.close())
    for (let i = 0; i < 20; i++) {
      sink.add({ topic, key: null, value: i === 11 ? Buffer.alloc(10_000) : Buffer.from(`v${i}`) })
    }
    await sink.flush()
    assert.equal(sink.backlog(), 0)
    assert.deepEqual(rejected, [{ size: 10_000, code: ErrorCode.RECORD_TOO_LARGE }])
    const values = []
    for await (const b of kafka.readPartition({ topic, partition: 0 }))
      values.push(...b.map((r) => r.value?.toString()))
    assert.deepEqual(
      values,
      Array.from({ length: 20 }, (_, i) => `v${i}`).filter((v) => v !== 'v11'),
    )
  })

  test('readPartition reads a partition to its end outside any group', async (t) => {
    const topic = await createTopic(t, { partitions: 2 })
    const sink = await openSink(t, kafka)
    for (let i = 0; i < 3000; i++)
      sink.add({ topic, partition: 1, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })
    await sink.flush()
    const all = []
    for await (const batch of kafka.readPartition({ topic, partition: 1 })) all.push(...batch)
    assert.equal(all.length, 3000)
    assert.deepEqual(
      all.map((r) => r.offset),
      Array.from({ length: 3000 }, (_, i) => i),
    )
    assert.equal(all[2999]!.value?.toString(), 'v2999')
    const tail = []
    for await (const batch of kafka.readPartition({ topic, partition: 1 }, { from: 2990 }))
      tail.push(...batch)
    assert.deepEqual(
      tail.map((r) => r.offset),
      Array.from({ length: 10 }, (_, i) => 2990 + i),
    )
    const empty = []
    for await (const batch of kafka.readPartition({ topic, partition: 0 })) empty.push(...batch)
    assert.equal(empty.length, 0)
  })

  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    test(`SASL ${mechanism} with admin/admin produces and consumes on the SASL listener`, async (t) => {
      const topic = await createTopic(t)
      const sasl = testKafka({
        brokers: kafkaSaslBrokers(),
        sasl: { mechanism, username: 'admin', password: 'admin' },
      })
      const sink = await openSink(t, sasl, uniqueName('sasl'))
      sink.add({ topic, key: null, value: Buffer.from(mechanism) })
      await sink.flush()
      const { got } = await readFromStart(t, sasl, topic, 1, 'sasl')
      assert.equal(got[0]?.value?.toString(), mechanism)
    })
  }

  test('SASL with a wrong password fails to open with an authentication error', async () => {
    const sasl = testKafka({
      brokers: kafkaSaslBrokers(),
      sasl: { mechanism: 'PLAIN', username: 'admin', password: 'wrong' },
    })
    const sink = sasl.sink({ clientId: uniqueName('sasl') })
    await assert.rejects(
      sink.open(),
      (err: unknown) => err instanceof WeirError && /auth|SASL/i.test(err.message),
    )
    await sink.close()
  })
})

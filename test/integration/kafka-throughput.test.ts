import assert from 'node:assert/strict'
import { test } from 'node:test'
import { collect, createTopic, kafkaAvailable, testKafka, uniqueName } from './helpers/kafka.ts'

const COUNT = Number(process.env.WEIR_KAFKA_THROUGHPUT_RECORDS ?? 100_000)

test(`${COUNT} small records go through the sink and the source, every one arrives`, {
  timeout: 120_000,
}, async (t) => {
  const kafka = testKafka()
  assert.ok(
    await kafkaAvailable(kafka),
    'Kafka is not reachable on KAFKA_BROKERS: run `bash scripts/services.sh up`',
  )
  const topic = await createTopic(t, { partitions: 3 })
  const sink = kafka.sink({ clientId: uniqueName('bench') })
  await sink.open()
  t.after(() => sink.close())
  const value = Buffer.alloc(100, 'x')
  const headers = { source: Buffer.from('bench') }

  let start = performance.now()
  for (let i = 0; i < COUNT; i++) {
    sink.add({ topic, key: Buffer.from(`key-${i % 1000}`), value, headers })
    // Yield now and then, as a real pipeline does between batches, so sends overlap with adding.
    if (i % 5000 === 4999) await new Promise((r) => setImmediate(r))
  }
  await sink.flush()
  const produceSeconds = (performance.now() - start) / 1000

  const source = kafka.source({
    groupId: uniqueName('bench'),
    clientId: 'bench',
    topics: [topic],
    fromBeginning: true,
    maxBatch: 1000,
  })
  start = performance.now()
  await source.open({ assigned: async () => {}, revoked: async () => {} })
  t.after(() => source.close())
  const got = await collect(source.batches(), COUNT, 60_000)
  const consumeSeconds = (performance.now() - start) / 1000
  assert.equal(got.length, COUNT)

  const produceRate = Math.round(COUNT / produceSeconds)
  const consumeRate = Math.round(COUNT / consumeSeconds)
  t.diagnostic(
    `produce (acks=all, idempotent): ${produceRate} records/s; consume (incl. group join): ${consumeRate} records/s`,
  )
  // The rates are reported, not asserted: speed is measured by bench/ on a quiet machine, and a timed
  // assertion here would fail whenever CI shares its cores.
})

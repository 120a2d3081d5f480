import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { millionxApp } from '../../src/apps/millionx/app.ts'
import { createRng, type Rng } from '../../src/generators/index.ts'
import { originalValue, readDeadLetter } from '../../src/runtime/dead-letter.ts'
import { millionxTopics, readAll, startApp, testId, totalEnd, waitUntil } from './helpers/apps.ts'
import { createTopic, kafkaBrokers, testKafka } from './helpers/kafka.ts'

const kafka = testKafka()

function randomJson(rng: Rng, depth: number): unknown {
  switch (rng.int(0, depth > 0 ? 5 : 3)) {
    case 0:
      return rng.float(-1e6, 1e6)
    case 1:
      return rng.chance(0.5)
    case 2:
      return rng.uuid().slice(0, rng.int(0, 36))
    case 3:
      return null
    case 4:
      return Array.from({ length: rng.int(0, 5) }, () => randomJson(rng, depth - 1))
    default:
      return Object.fromEntries(
        Array.from({ length: rng.int(0, 6) }, () => [
          rng.pick(['post_id', 'platform', 'quantity', 'x', 'order_id', rng.uuid()]),
          randomJson(rng, depth - 1),
        ]),
      )
  }
}

describe('10,000 random-garbage values into the millionx app', { timeout: 180_000 }, () => {
  const { prefix, sources, validated, dlq, group } = millionxTopics('garbage')

  it('every value lands in the dead-letter topic with a reason; the app keeps running and commits to the end', async (t) => {
    const N = 10_000
    for (const s of sources) await createTopic(undefined, { name: s, partitions: 3 })
    const rng = createRng(20_260_101)
    const sent = new Map<string, Buffer | null>()
    const sink = kafka.sink({ clientId: 'garbage-producer' })
    await sink.open()
    for (let i = 0; i < N; i++) {
      // Random bytes of random length (0–2000), some null, and a share of random JSON that parses but is no post or order.
      const value = rng.chance(0.05)
        ? null
        : rng.chance(0.15)
          ? Buffer.from(JSON.stringify(randomJson(rng, 3)).slice(0, 2000))
          : Buffer.from(Array.from({ length: rng.int(0, 2000) }, () => rng.int(0, 255)))
      const id = String(i)
      sent.set(id, value)
      sink.add({
        topic: sources[i % 4]!,
        key: rng.chance(0.5) ? null : Buffer.from(Array.from({ length: 8 }, () => rng.int(0, 255))),
        value,
        headers: { 'test-id': Buffer.from(id) },
      })
    }
    await sink.flush()
    await sink.close()

    const started = performance.now()
    const service = await startApp(millionxApp, {
      KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
      TOPIC_PREFIX: prefix,
      KAFKA_GROUP_ID: group,
      KAFKA_CLIENT_ID: `${prefix}client`,
    })
    t.after(() => service.stop())
    await waitUntil('all garbage dead-lettered', async () => (await totalEnd(kafka, [dlq])) >= N, 120_000)
    t.diagnostic(
      `10,000 garbage values dead-lettered in ${((performance.now() - started) / 1000).toFixed(2)} s (incl. group join)`,
    )

    const dead = await readAll(kafka, dlq)
    assert.equal(dead.length, N)
    const byId = new Map(dead.map((r) => [testId(r), r]))
    assert.equal(byId.size, N, 'each value dead-lettered once')
    const codes = new Map<string, number>()
    for (const [id, r] of byId) {
      const info = readDeadLetter(r.headers)
      assert.ok(
        info.code === 'DESERIALIZE_FAILED' || info.code === 'VALIDATION_FAILED',
        `record ${id}: ${info.code}`,
      )
      assert.ok(
        info.message && info.stage && info.time && info.attempts === 1,
        `record ${id} says why, where and when`,
      )
      assert.ok(info.source.topic?.startsWith(prefix))
      if (info.code === 'VALIDATION_FAILED')
        assert.ok(Array.isArray(info.details) && info.details.length > 0, 'violations in details')
      // The value is the seed's JSON error body; the original bytes are in it, and replay gets them back.
      const body = JSON.parse(r.value!.toString())
      assert.equal(body.error_type, info.code === 'VALIDATION_FAILED' ? 'schema_validation' : 'deserialization')
      assert.equal(body.retry_count, 0)
      const original = sent.get(id)!
      if (original === null) assert.equal(originalValue(r), null, `record ${id}: a null value stays null`)
      else assert.ok(original.equals(originalValue(r) ?? Buffer.alloc(0)), `record ${id}: the original bytes`)
      codes.set(info.code!, (codes.get(info.code!) ?? 0) + 1)
    }
    t.diagnostic(`dead letters by code: ${JSON.stringify(Object.fromEntries(codes))}`)
    assert.equal(await totalEnd(kafka, validated), 0, 'nothing passed as valid')

    assert.equal(service.running.status().state, 'running')
    const health = await service.ops!.handle({ url: '/health' })
    assert.equal(health.status, 200)
    assert.equal(JSON.parse(String(health.body)).status, 'healthy')
    const metrics = JSON.parse(String((await service.ops!.handle({ url: '/metrics?format=json' })).body))
    assert.equal(metrics.failed, N)
    assert.equal(metrics.validation_pass_rate, 0)
    assert.equal(metrics.dlq_rate, 100)

    const admin = kafka.admin()
    try {
      const ends = await admin.endOffsets(sources)
      await waitUntil(
        'offsets committed to the end',
        async () => {
          const committed = await admin.committedOffsets(group, sources)
          return [...ends].every(([tp, end]) => committed.get(tp) === end)
        },
        20_000,
      )
    } finally {
      await admin.close()
    }
  })
})

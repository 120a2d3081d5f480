import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { trafficApp } from '../../src/apps/traffic/app.ts'
import { flattenMetrLa, validateTraffic, type MetrLaRecord } from '../../src/apps/traffic/domain/index.ts'
import { readDeadLetter } from '../../src/runtime/dead-letter.ts'
import type { RunningService } from '../../src/service/service.ts'
import { exited, produceGenerated, readAll, spawnApp, testId, totalEnd, startApp, trafficEnv, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, testKafka } from './helpers/kafka.ts'

const kafka = testKafka()

const envFor = (label: string) => trafficEnv(label)

const startTraffic = (env: Readonly<Record<string, string>>): Promise<RunningService> => startApp(trafficApp, env)

describe('traffic app (seed 001) against Kafka', { timeout: 300_000 }, () => {
  const cleanup: string[] = []
  after(() => deleteTopics(cleanup))

  it('100k generated records: outputs + dead letters = inputs, every valid record transformed as specified', async (t) => {
    const env = envFor('traffic-100k')
    cleanup.push(env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC)
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    const N = 100_000
    const sent = await produceGenerated(kafka, trafficApp.generator!({ seed: 7, invalidShare: 0.05 }), env.INPUT_TOPIC, N)

    const started = performance.now()
    const service = await startTraffic(env)
    t.after(() => service.stop())
    await waitUntil('all records processed', async () => (await totalEnd(kafka, [env.OUTPUT_TOPIC, env.DLQ_TOPIC])) >= N, 120_000)
    const seconds = (performance.now() - started) / 1000
    t.diagnostic(`traffic app: ${N} records in ${seconds.toFixed(2)} s = ${Math.round(N / seconds)} records/s (incl. group join)`)

    const outputs = await readAll(kafka, env.OUTPUT_TOPIC)
    const dead = await readAll(kafka, env.DLQ_TOPIC)
    assert.equal(outputs.length + dead.length, N, 'every input is in exactly one of output or dead letters')
    const ids = new Set([...outputs, ...dead].map(testId))
    assert.equal(ids.size, N, 'no input appears twice')

    const now = Date.now()
    for (const r of outputs) {
      const input = sent.get(testId(r))!.value as MetrLaRecord
      const got = JSON.parse(r.value!.toString())
      const { processed_at, ...rest } = got
      assert.deepEqual(rest, { ...flattenMetrLa(input), processor_id: env.CLIENT_ID, validation_status: 'valid' })
      assert.ok(Math.abs(Date.parse(processed_at) - now) < 300_000, 'processed_at is a recent ISO time')
      assert.equal(r.key?.toString(), got.sensor_id, 'keyed by sensor')
    }
    for (const r of dead) {
      const info = readDeadLetter(r.headers)
      assert.ok(info.code && info.message && info.stage && info.time, 'dead letter says why, where and when')
      assert.equal(info.source.topic, env.INPUT_TOPIC)
      const input = sent.get(testId(r))!.value
      if (input !== null && typeof input === 'object') {
        assert.ok(validateTraffic(flattenMetrLa(input as MetrLaRecord), now).length > 0 || info.code !== 'VALIDATION_FAILED')
      }
    }
    assert.ok(dead.length > N * 0.03 && dead.length < N * 0.08, `about 5% dead letters (got ${dead.length})`)
    const health = await service.ops!.handle({ url: '/health' })
    assert.equal(JSON.parse(String(health.body)).status, 'healthy')
  })

  it('bad input of every kind goes to dead letters with reasons and the app keeps running', async (t) => {
    const env = envFor('traffic-bad')
    cleanup.push(env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC)
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5, config: { 'max.message.bytes': '2097152' } })
    const service = await startTraffic(env)
    t.after(() => service.stop())
    const sink = kafka.sink({ clientId: 'bad-producer' })
    await sink.open()
    const big = Buffer.from(JSON.stringify({ sensor_id: 'METR_LA_001', pad: 'x'.repeat(1_000_000) }))
    const bad: Array<[string, Buffer | null]> = [
      ['malformed', Buffer.from('{"sensor_id": "METR_LA_001", speed')],
      ['empty', Buffer.alloc(0)],
      ['tombstone', null],
      ['one-megabyte', big],
      ['invalid-utf8', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
    ]
    for (const [id, value] of bad) sink.add({ topic: env.INPUT_TOPIC, key: Buffer.from(id), value, headers: { 'test-id': Buffer.from(id) } })
    await sink.flush()
    // A good record after the bad ones proves the app kept going.
    const good = trafficApp.generator!({ seed: 3, invalidShare: 0 }).next()
    sink.add({ topic: env.INPUT_TOPIC, key: Buffer.from('good'), value: Buffer.from(JSON.stringify(good.value)), headers: { 'test-id': Buffer.from('good') } })
    await sink.flush()
    await sink.close()

    await waitUntil('dead letters and the good record', async () => (await totalEnd(kafka, [env.OUTPUT_TOPIC, env.DLQ_TOPIC])) >= bad.length + 1)
    const dead = await readAll(kafka, env.DLQ_TOPIC)
    const byId = new Map(dead.map((r) => [testId(r), r]))
    const reason = (id: string) => readDeadLetter(byId.get(id)!.headers).message ?? ''
    assert.match(reason('malformed'), /malformed JSON/)
    assert.match(reason('empty'), /empty value/)
    assert.match(reason('tombstone'), /null value/)
    assert.match(reason('invalid-utf8'), /UTF-8/)
    assert.match(reason('one-megabyte'), /invalid/)
    assert.equal(byId.get('one-megabyte')!.value!.length, big.length, 'the original bytes are kept')
    assert.equal(byId.get('tombstone')!.value, null)
    const outputs = await readAll(kafka, env.OUTPUT_TOPIC)
    assert.deepEqual(outputs.map(testId), ['good'])
    assert.equal(service.running.status().state, 'running')
  })
})

describe('traffic app survives being killed (child processes)', { timeout: 300_000 }, () => {
  const N = 30_000
  let env: ReturnType<typeof envFor>
  let sent: Map<string, unknown>

  before(async () => {
    env = envFor('traffic-kill')
  })
  after(() => deleteTopics([env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC]))

  async function runAndInterrupt(signal: 'SIGKILL' | 'SIGTERM', label: string) {
    const e = { ...env, ...envFor(label), INPUT_TOPIC: env.INPUT_TOPIC }
    const first = spawnApp('traffic', e)
    await waitUntil(
      'some output before the interruption',
      async () => (await totalEnd(kafka, [e.OUTPUT_TOPIC, e.DLQ_TOPIC]).catch(() => 0)) >= N / 10,
      90_000,
      20,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.tail()}`)
    })
    first.kill(signal)
    const exit = await exited(first)
    if (signal === 'SIGTERM') assert.equal(exit.code, 0, `graceful stop exits 0\n${first.tail()}`)
    const second = spawnApp('traffic', e)
    try {
      await waitUntil('all records processed after restart', async () => (await totalEnd(kafka, [e.OUTPUT_TOPIC, e.DLQ_TOPIC])) >= N, 120_000)
        .catch((err: Error) => {
          throw new Error(`${err.message}\n${second.tail()}`)
        })
      // Give a duplicate (if any) the chance to show up before reading.
      await new Promise((r) => setTimeout(r, 1500))
    } finally {
      second.kill('SIGTERM')
      await exited(second)
    }
    const all = [...(await readAll(kafka, e.OUTPUT_TOPIC)), ...(await readAll(kafka, e.DLQ_TOPIC))]
    await deleteTopics([e.OUTPUT_TOPIC, e.DLQ_TOPIC])
    return all
  }

  it('SIGKILL mid-stream, restart: every input is in the output or the dead letters (none lost)', async () => {
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    sent = await produceGenerated(kafka, trafficApp.generator!({ seed: 11, invalidShare: 0.05 }), env.INPUT_TOPIC, N)
    const all = await runAndInterrupt('SIGKILL', 'kill9')
    const ids = new Set(all.map(testId))
    const missing = [...sent.keys()].filter((id) => !ids.has(id))
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} inputs lost`)
  })

  it('SIGTERM mid-stream, restart: no record is processed twice, none lost', async () => {
    const all = await runAndInterrupt('SIGTERM', 'term')
    const counts = new Map<string, number>()
    for (const r of all) counts.set(testId(r), (counts.get(testId(r)) ?? 0) + 1)
    const twice = [...counts].filter(([, n]) => n > 1)
    assert.deepEqual(twice.slice(0, 10), [], `${twice.length} records processed twice`)
    assert.equal(counts.size, N)
  })
})

// The traffic app with VALUE_FORMAT=avro against the real broker and the real schema registry
// (Apicurio, `scripts/registry.sh up`): an Avro round trip with every kind of unreadable record, the
// registry cut away mid-run (through a TCP proxy) while records need a schema the app has not seen,
// and `weir produce` writing Avro to topics that do not exist yet.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { after, describe, it } from 'node:test'
import { SOURCE_TOPICS } from '../../src/apps/millionx/domain/index.ts'
import { AVRO_DEFECTS, trafficApp } from '../../src/apps/traffic/app.ts'
import { flattenMetrLa, type MetrLaRecord } from '../../src/apps/traffic/domain/index.ts'
import { metrLaReadingSchema } from '../../src/apps/traffic/schemas.ts'
import type { RawRecord } from '../../src/core/record.ts'
import type { Serde } from '../../src/core/serde.ts'
import { trafficGenerator } from '../../src/generators/index.ts'
import { readDeadLetter } from '../../src/runtime/dead-letter.ts'
import { avro, schemaRegistry } from '../../src/serdes/avro/index.ts'
import { readWireHeader } from '../../src/serdes/index.ts'
import type { RunningService } from '../../src/service/service.ts'
import { CLI, readAll, testId, totalEnd, startApp, trafficEnv, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'
import { REGISTRY_ADDRESS, REGISTRY_API, registrySkip } from './helpers/registry.ts'
import { type Cleanup, sleep, tcpProxy, testCleanup } from './helpers/services.ts'

const exec = promisify(execFile)
const API = REGISTRY_API

const skip = await registrySkip()

const kafka = testKafka()
const direct = schemaRegistry({ url: API })

function envFor(label: string, registryUrl: string) {
  return trafficEnv(label, { INPUT_PARTITIONS: '3', VALUE_FORMAT: 'avro', SCHEMA_REGISTRY_URL: registryUrl })
}
type Env = ReturnType<typeof envFor>

/** Topics, subjects and the group of one test run, removed when the test ends. */
function forget(cleanup: Cleanup, env: Env): void {
  cleanup(async () => {
    await deleteTopics([env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC])
    for (const topic of [env.INPUT_TOPIC, env.OUTPUT_TOPIC]) {
      await fetch(`${API}/subjects/${topic}-value`, { method: 'DELETE' }).catch(() => {})
    }
  })
}

const startTraffic = (env: Readonly<Record<string, string>>): Promise<RunningService> => startApp(trafficApp, env)

async function health(service: RunningService): Promise<{ code: number; body: Record<string, unknown> }> {
  const res = await service.ops!.handle({ url: '/health' })
  return { code: res.status, body: JSON.parse(String(res.body)) as Record<string, unknown> }
}

interface Input {
  readonly id: string
  readonly key: string | null
  /** The reading (undefined for hand-made bytes). */
  readonly value?: MetrLaRecord
  readonly bytes: Buffer | null
}

/** Encodes a reading with a writer serde (registering its schema on first use). */
async function encode(
  serde: Serde<MetrLaRecord | null>,
  topic: string,
  value: MetrLaRecord,
): Promise<Buffer> {
  return (await serde.serialize(value, { topic, isKey: false })) as Buffer
}

async function produce(topic: string, inputs: readonly Input[]): Promise<void> {
  const sink = kafka.sink({ clientId: 'weir-test-avro-producer' })
  await sink.open()
  try {
    for (const r of inputs) {
      sink.add({
        topic,
        key: r.key === null ? null : Buffer.from(r.key),
        value: r.bytes,
        headers: { 'test-id': Buffer.from(r.id) },
      })
    }
    await sink.flush()
  } finally {
    await sink.close()
  }
}

/** `count` generated readings as inputs `${prefix}0…`, encoded with `writer`. */
async function generated(
  writer: Serde<MetrLaRecord | null>,
  topic: string,
  prefix: string,
  count: number,
  options: { seed: number; invalidShare: number; extra?: Record<string, unknown> },
): Promise<Array<Input & { invalid: boolean }>> {
  const g = trafficGenerator({
    seed: options.seed,
    invalidShare: options.invalidShare,
    defects: AVRO_DEFECTS,
  })
  const out: Array<Input & { invalid: boolean }> = []
  for (let i = 0; i < count; i++) {
    const r = g.next()
    const value = { ...(r.value as MetrLaRecord), ...options.extra } as MetrLaRecord
    out.push({
      id: `${prefix}${i}`,
      key: r.key,
      value,
      bytes: await encode(writer, topic, value),
      invalid: r.defect !== undefined,
    })
  }
  return out
}

/** The output a valid reading must become (processed_at aside), as plain data. */
function expectedEvent(input: MetrLaRecord, env: Env): Record<string, unknown> {
  return { ...flattenMetrLa(input), processor_id: env.CLIENT_ID, validation_status: 'valid' }
}

/** Output records decoded through the registry, by test id. */
async function decodedOutputs(
  env: Env,
): Promise<Map<string, { raw: RawRecord; event: Record<string, unknown> }>> {
  const reader = avro<Record<string, unknown>>({ registry: schemaRegistry({ url: API }) })
  const out = new Map<string, { raw: RawRecord; event: Record<string, unknown> }>()
  for (const raw of await readAll(kafka, env.OUTPUT_TOPIC)) {
    const id = testId(raw)
    assert.ok(!out.has(id), `input ${id} is in the output twice`)
    const event = await reader.deserialize(raw.value, { topic: env.OUTPUT_TOPIC, isKey: false })
    out.set(id, { raw, event: { ...event } })
  }
  return out
}

function assertEvent(got: Record<string, unknown>, input: MetrLaRecord, env: Env, id: string): void {
  const { processed_at, ...rest } = got
  assert.deepEqual(rest, expectedEvent(input, env), `output of ${id}`)
  assert.ok(
    Math.abs(Date.parse(String(processed_at)) - Date.now()) < 300_000,
    'processed_at is a recent ISO time',
  )
}

describe('traffic app with VALUE_FORMAT=avro against Kafka and the schema registry', {
  skip,
  timeout: 300_000,
}, () => {
  const subjects: string[] = []
  after(async () => {
    for (const s of subjects) await fetch(`${API}/subjects/${s}`, { method: 'DELETE' }).catch(() => {})
  })

  it('round trip: valid readings → Avro events under <output>-value; invalid and unreadable records → dead letters with the reason', async (t) => {
    const cleanup = testCleanup(t)
    const env = envFor('traffic-avro', API)
    forget(cleanup, env)
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 3 })

    const writer = avro<MetrLaRecord>({ registry: direct, schema: metrLaReadingSchema })
    const readings = await generated(writer, env.INPUT_TOPIC, 'r', 400, { seed: 5, invalidShare: 0.1 })
    const good = readings.find((r) => !r.invalid)!
    const goodBytes = good.bytes!
    // A writer schema the app's reading schema cannot resolve: no sensor_id, and no default for it.
    const alien = {
      type: 'record',
      name: 'MetrLaReading',
      namespace: 'weir.traffic',
      fields: [{ name: 'timestamp', type: 'string' }],
    }
    const alienSubject = `${env.INPUT_TOPIC}-alien`
    subjects.push(alienSubject)
    const alienWriter = avro<{ timestamp: string }>({
      registry: direct,
      schema: alien,
      subject: alienSubject,
    })
    const alienBytes = (await alienWriter.serialize(
      { timestamp: new Date().toISOString() },
      { topic: env.INPUT_TOPIC, isKey: false },
    )) as Buffer
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x00]), goodBytes.subarray(5)])
    const bad: Input[] = [
      { id: 'bad-magic', key: 'k', bytes: Buffer.from(JSON.stringify(good.value)) },
      { id: 'unknown-id', key: 'k', bytes: unknownId },
      { id: 'truncated', key: 'k', bytes: goodBytes.subarray(0, goodBytes.length - 3) },
      { id: 'trailing', key: 'k', bytes: Buffer.concat([goodBytes, Buffer.from([1, 2])]) },
      { id: 'empty', key: 'k', bytes: Buffer.alloc(0) },
      { id: 'tombstone', key: 'k', bytes: null },
      { id: 'unresolvable', key: 'k', bytes: alienBytes },
    ]
    // Bad records first, so the good ones after them prove the app kept going.
    const inputs = [...bad, ...readings]
    await produce(env.INPUT_TOPIC, inputs)

    const service = await startTraffic(env)
    cleanup(() => service.stop())
    await waitUntil(
      'every input in the output or the dead letters',
      async () => (await totalEnd(kafka, [env.OUTPUT_TOPIC, env.DLQ_TOPIC])) >= inputs.length,
      90_000,
    )

    const outputs = await decodedOutputs(env)
    const dead = new Map((await readAll(kafka, env.DLQ_TOPIC)).map((r) => [testId(r), r]))
    assert.equal(
      outputs.size + dead.size,
      inputs.length,
      'every input is in exactly one of output or dead letters',
    )

    const validReadings = readings.filter((r) => !r.invalid)
    assert.ok(
      validReadings.length > 300 && validReadings.length < 400,
      `about 10 % invalid (valid: ${validReadings.length})`,
    )
    assert.deepEqual(
      [...outputs.keys()].sort(),
      validReadings.map((r) => r.id).sort(),
      'exactly the valid readings are output',
    )
    const eventSchema = await direct.getLatest(`${env.OUTPUT_TOPIC}-value`)
    assert.match(eventSchema.schema, /"name":"TrafficEvent"/)
    for (const r of validReadings) {
      const { raw, event } = outputs.get(r.id)!
      assertEvent(event, r.value!, env, r.id)
      assert.equal(
        readWireHeader(raw.value!),
        eventSchema.id,
        'written with the schema registered under <output>-value',
      )
      assert.equal(raw.key?.toString(), r.value!.sensor_id, 'keyed by sensor')
    }

    for (const r of readings.filter((x) => x.invalid)) {
      const info = readDeadLetter(dead.get(r.id)!.headers)
      assert.equal(info.code, 'VALIDATION_FAILED', `${r.id}: ${info.message}`)
    }
    const reason = (id: string) => {
      const info = readDeadLetter(dead.get(id)!.headers)
      return `${info.code}: ${info.message}`
    }
    assert.match(reason('bad-magic'), /^DESERIALIZE_FAILED: unknown magic byte 0x7b/)
    assert.match(reason('unknown-id'), /^SCHEMA_NOT_FOUND: unknown schema id 2147483392/)
    assert.match(reason('truncated'), /^DESERIALIZE_FAILED: .*truncated/)
    assert.match(reason('trailing'), /^DESERIALIZE_FAILED: .*2 byte\(s\) left over/)
    assert.match(reason('empty'), /^DESERIALIZE_FAILED: payload of 0 byte\(s\) is too short/)
    assert.match(reason('tombstone'), /^DESERIALIZE_FAILED: null value \(tombstone\)/)
    assert.match(reason('unresolvable'), /^DESERIALIZE_FAILED: .*cannot be read with the reader schema/)
    for (const b of bad) {
      const letter = dead.get(b.id)!
      assert.equal(readDeadLetter(letter.headers).source.topic, env.INPUT_TOPIC)
      assert.deepEqual(letter.value, b.bytes, `${b.id}: the original bytes are kept`)
    }

    const h = await health(service)
    assert.equal(h.body.status, 'healthy', JSON.stringify(h.body))
    assert.equal(h.body.registry_connected, true)
    assert.equal(service.running.status().state, 'running')
  })

  it('registry down then up, nothing lost: records needing an unseen schema wait (no dead letter, no commit past them), then all arrive once', async (t) => {
    const cleanup = testCleanup(t)
    const proxy = await tcpProxy(cleanup, REGISTRY_ADDRESS)
    const env = envFor('traffic-avro-outage', `http://127.0.0.1:${proxy.port}/apis/ccompat/v7`)
    forget(cleanup, env)
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 3 })
    const v1 = avro<MetrLaRecord>({ registry: direct, schema: metrLaReadingSchema })
    // v2 adds a field with a default (a compatible evolution); it is registered during the outage,
    // so its id is one the app cannot know.
    const v2Schema = {
      ...metrLaReadingSchema,
      fields: [...metrLaReadingSchema.fields, { name: 'firmware', type: 'string', default: 'unknown' }],
    }
    const v2 = avro<MetrLaRecord>({ registry: direct, schema: v2Schema })

    const service = await startTraffic(env)
    cleanup(() => service.stop())
    const before = await generated(v1, env.INPUT_TOPIC, 'a', 200, { seed: 31, invalidShare: 0 })
    await produce(env.INPUT_TOPIC, before)
    await waitUntil(
      'the first batch output',
      async () => (await totalEnd(kafka, [env.OUTPUT_TOPIC])) >= before.length,
      60_000,
    )
    assert.equal((await health(service)).body.status, 'healthy')

    await proxy.cut()
    const cutAt = Date.now()
    const waiting = await generated(v2, env.INPUT_TOPIC, 'b', 300, {
      seed: 32,
      invalidShare: 0,
      extra: { firmware: 'fw-2.1' },
    })
    const v2Id = readWireHeader(waiting[0]!.bytes!)
    const v1Id = readWireHeader(before[0]!.bytes!)
    assert.notEqual(v2Id, v1Id, 'the waiting records carry a new schema id')
    // Readings with the schema the app has cached keep flowing during the outage.
    const cached = await generated(v1, env.INPUT_TOPIC, 'c', 100, { seed: 33, invalidShare: 0 })
    const during = waiting.flatMap((w, i) => (i % 3 === 0 && cached[i / 3] ? [w, cached[i / 3]!] : [w]))
    await produce(env.INPUT_TOPIC, during)

    const downHealth = await waitUntil2(
      '/health to report the registry down',
      async () => {
        const h = await health(service)
        return h.body.registry_connected === false ? h : undefined
      },
      20_000,
    )
    assert.equal(downHealth.body.status, 'degraded')
    assert.equal(downHealth.body.kafka_connected, true)
    assert.equal(downHealth.code, 200, 'degraded stays in rotation')
    assert.match(
      String(downHealth.body.message),
      new RegExp(
        `Registry disconnected: schema registry http://127.0.0.1:${proxy.port}/apis/ccompat/v7: \\S+`,
      ),
    )
    await waitUntil(
      'the cached-schema readings output during the outage',
      async () => (await totalEnd(kafka, [env.OUTPUT_TOPIC])) >= before.length + cached.length,
      60_000,
    )

    // Hold the outage well past what a fixed retry budget would allow (5 attempts ≈ 15 s here).
    await sleep(Math.max(0, 25_000 - (Date.now() - cutAt)))
    const outageMs = Date.now() - cutAt
    const inputPositions = new Map((await readAll(kafka, env.INPUT_TOPIC)).map((r) => [testId(r), r]))
    const firstWaiting = new Map<number, number>()
    for (const w of waiting) {
      const r = inputPositions.get(w.id)!
      firstWaiting.set(
        r.partition,
        Math.min(firstWaiting.get(r.partition) ?? Number.POSITIVE_INFINITY, r.offset),
      )
    }
    const admin = kafka.admin()
    cleanup(() => admin.close())
    const committed = await admin.committedOffsets(env.GROUP_ID, [env.INPUT_TOPIC])
    const midOutput = await readAll(kafka, env.OUTPUT_TOPIC)
    const midDead = await totalEnd(kafka, [env.DLQ_TOPIC])
    const stillDown = await health(service)
    t.diagnostic(
      `outage ${outageMs} ms: ${waiting.length} records waiting, ${midOutput.length} output, ${midDead} dead letters, committed ${JSON.stringify(Object.fromEntries(committed))}, first waiting ${JSON.stringify(Object.fromEntries(firstWaiting))}`,
    )
    assert.equal(midDead, 0, 'nothing dead-lettered while the registry is away')
    assert.equal(
      midOutput.length,
      before.length + cached.length,
      'only readings with a cached schema got through',
    )
    assert.ok(!midOutput.some((r) => testId(r).startsWith('b')))
    for (const [partition, offset] of firstWaiting) {
      const c = committed.get(`${env.INPUT_TOPIC}:${partition}`) ?? 0
      assert.ok(
        c <= offset,
        `partition ${partition}: committed ${c} is not past the first waiting record (${offset})`,
      )
    }
    assert.ok(
      [...committed.values()].some((c) => c > 0),
      'what came before was committed',
    )
    assert.equal(stillDown.body.registry_connected, false)

    await proxy.restore()
    const restoredAt = Date.now()
    const total = before.length + waiting.length + cached.length
    await waitUntil(
      'every input output after the registry returns',
      async () => (await totalEnd(kafka, [env.OUTPUT_TOPIC])) >= total,
      60_000,
    )
    const caughtUpMs = Date.now() - restoredAt
    const okAgain = await waitUntil2(
      '/health ok again',
      async () => {
        const h = await health(service)
        return h.body.status === 'healthy' ? h : undefined
      },
      20_000,
    )
    assert.equal(okAgain.body.registry_connected, true)
    await waitUntil(
      'every offset committed',
      async () => {
        const [ends, done] = await Promise.all([
          admin.endOffsets([env.INPUT_TOPIC]),
          admin.committedOffsets(env.GROUP_ID, [env.INPUT_TOPIC]),
        ])
        return [...ends].every(([k, end]) => done.get(k) === end)
      },
      30_000,
    )
    await sleep(1000) // a duplicate, if any, would show up by now
    const outputs = await decodedOutputs(env)
    t.diagnostic(
      `registry back: ${waiting.length} waiting records output ${caughtUpMs} ms later; ${outputs.size} outputs for ${total} inputs`,
    )
    assert.equal(outputs.size, total, 'every input arrives exactly once')
    assert.equal(await totalEnd(kafka, [env.DLQ_TOPIC]), 0, 'and none is a dead letter')
    for (const r of [...before, ...waiting, ...cached])
      assertEvent(outputs.get(r.id)!.event, r.value!, env, r.id)
  })
})

describe('weir produce', { skip, timeout: 180_000 }, () => {
  it('VALUE_FORMAT=avro: creates the missing input topic, registers the reading schema, and the app reads every record', async (t) => {
    const cleanup = testCleanup(t)
    const env = envFor('traffic-avro-produce', API)
    forget(cleanup, env)
    const N = 500
    const started = Date.now()
    const { stderr } = await exec(
      process.execPath,
      [
        CLI,
        'produce',
        'traffic',
        '--count',
        String(N),
        '--rate',
        '0',
        '--seed',
        '4',
        '--invalid-share',
        '0.1',
      ],
      {
        env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
        timeout: 60_000,
      },
    )
    t.diagnostic(`weir produce traffic (avro, new topic): ${Date.now() - started} ms`)
    assert.match(stderr, new RegExp(`done: ${N} records`))
    const admin = kafka.admin()
    cleanup(() => admin.close())
    assert.equal(
      (await admin.partitions([env.INPUT_TOPIC])).get(env.INPUT_TOPIC),
      3,
      'created with INPUT_PARTITIONS',
    )
    const subject = await direct.getLatest(`${env.INPUT_TOPIC}-value`)
    assert.match(subject.schema, /"name":"MetrLaReading"/)
    const raw = await readAll(kafka, env.INPUT_TOPIC)
    assert.equal(raw.length, N)
    assert.ok(
      raw.every((r) => readWireHeader(r.value!) === subject.id),
      'every record in the wire format with that schema id',
    )

    const service = await startTraffic(env)
    cleanup(() => service.stop())
    await waitUntil(
      'every input processed',
      async () => (await totalEnd(kafka, [env.OUTPUT_TOPIC, env.DLQ_TOPIC])) >= N,
      60_000,
    )
    const dead = await readAll(kafka, env.DLQ_TOPIC)
    assert.ok(dead.length > 20 && dead.length < 90, `about 10 % invalid (got ${dead.length})`)
    for (const d of dead) assert.equal(readDeadLetter(d.headers).code, 'VALIDATION_FAILED')
    assert.equal(await totalEnd(kafka, [env.OUTPUT_TOPIC]), N - dead.length)
  })

  it('--topic-prefix: creates the prefixed topics it writes to instead of waiting for them forever', async (t) => {
    const prefix = `${uniqueName('produce-prefix')}.`
    const topics = SOURCE_TOPICS.map((s) => prefix + s)
    t.after(() => deleteTopics(topics))
    const { stderr } = await exec(
      process.execPath,
      [CLI, 'produce', 'millionx', '--count', '40', '--rate', '0', '--topic-prefix', prefix],
      {
        env: {
          ...process.env,
          KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
          TOPIC_PARTITIONS: '2',
          LOG_LEVEL: 'warn',
        },
        timeout: 60_000,
      },
    )
    assert.match(stderr, /done: 40 records/)
    const admin = kafka.admin()
    t.after(() => admin.close())
    const partitions = await admin.partitions(topics)
    assert.deepEqual(
      topics.map((name) => partitions.get(name)),
      topics.map(() => 2),
      'each created with TOPIC_PARTITIONS',
    )
    assert.equal(await totalEnd(kafka, topics), 40)
  })
})

/** Polls `probe` until it returns a value. */
async function waitUntil2<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  let found: T | undefined
  await waitUntil(
    what,
    async () => {
      found = await probe()
      return found !== undefined
    },
    timeoutMs,
    250,
  )
  return found as T
}

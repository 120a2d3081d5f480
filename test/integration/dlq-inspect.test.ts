import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { inspectDeadLetters, type InspectReport } from '../../src/dlq/index.ts'
import { deadLetterRecord } from '../../src/runtime/dead-letter.ts'
import { CLI } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'

const kafka = testKafka()
const exec = promisify(execFile)

describe('weir dlq inspect (Kafka)', { timeout: 120_000 }, () => {
  const topic = uniqueName('inspect-dlq')
  after(() => deleteTopics([topic]))

  it('summarises a dead-letter topic of known contents, as text and as JSON', async () => {
    await createTopic(undefined, { name: topic, partitions: 2 })
    const sink = kafka.sink({ clientId: 'inspect-producer' })
    await sink.open()
    const put = (
      i: number,
      code: ErrorCode,
      stage: string,
      source: string,
      value: Buffer | null,
      minute: number,
    ) =>
      sink.add({
        ...deadLetterRecord({
          topic,
          raw: {
            topic: source,
            partition: i % 3,
            offset: 1000 + i,
            key: Buffer.from(`key-${i}`),
            value,
            headers: { 'test-id': Buffer.from(String(i)) },
            timestamp: 0,
          },
          error: new WeirError(
            code,
            code === ErrorCode.VALIDATION_FAILED
              ? `invalid: quantity: Too small (${i})`
              : 'malformed JSON: Unexpected token',
          ),
          stage,
          attempts: 1,
          app: 'millionx',
          now: Date.UTC(2026, 2, 1, 12, minute),
        }),
        partition: i % 2,
      })
    for (let i = 0; i < 7; i++)
      put(
        i,
        ErrorCode.VALIDATION_FAILED,
        'validate-daraz',
        'source.market.daraz',
        Buffer.from(JSON.stringify({ order_id: `o${i}`, quantity: 0 })),
        10 + i,
      )
    for (let i = 7; i < 10; i++)
      put(
        i,
        ErrorCode.DESERIALIZE_FAILED,
        'deserialize:source.social.tiktok',
        'source.social.tiktok',
        Buffer.from([0x00, 0xff, i]),
        5,
      )
    put(10, ErrorCode.OPERATOR_FAILED, 'enrich', 'source.social.tiktok', null, 59)
    await sink.flush()
    await sink.close()

    const report = await inspectDeadLetters(kafka, topic, { sample: 3 })
    assert.equal(report.total, 11)
    assert.deepEqual(
      report.partitions.map((p) => p.records),
      [6, 5],
    )
    assert.deepEqual(report.byCode, [
      { code: 'VALIDATION_FAILED', count: 7 },
      { code: 'DESERIALIZE_FAILED', count: 3 },
      { code: 'OPERATOR_FAILED', count: 1 },
    ])
    assert.deepEqual(report.bySourceTopic, [
      { topic: 'source.market.daraz', count: 7 },
      { topic: 'source.social.tiktok', count: 4 },
    ])
    assert.deepEqual(report.timeRange, {
      first: '2026-03-01T12:05:00.000Z',
      last: '2026-03-01T12:59:00.000Z',
    })
    assert.equal(report.sample.length, 3)

    const env = { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(',') }
    const asJson = JSON.parse(
      (await exec(process.execPath, [CLI, 'dlq', 'inspect', topic, '--json', '--sample', '20'], { env }))
        .stdout,
    ) as InspectReport
    assert.equal(asJson.total, 11)
    assert.deepEqual(asJson.byCodeAndStage[0], {
      code: 'VALIDATION_FAILED',
      stage: 'validate-daraz',
      count: 7,
    })
    const s = asJson.sample.find((x) => x.source.offset === 1003)!
    assert.deepEqual(s.source, { topic: 'source.market.daraz', partition: 0, offset: 1003 })
    assert.equal(s.message, 'invalid: quantity: Too small (3)')
    assert.equal(s.value, '{"order_id":"o3","quantity":0}')
    assert.equal(s.key, 'key-3')
    assert.equal(asJson.sample.find((x) => x.code === 'OPERATOR_FAILED')!.value, '(null)')

    const text = (await exec(process.execPath, [CLI, 'dlq', 'inspect', topic, '--sample', '2'], { env }))
      .stdout
    assert.match(text, new RegExp(`^dead-letter topic ${topic}: 11 records in 2 partitions\\n`))
    assert.match(text, /failed between 2026-03-01T12:05:00.000Z and 2026-03-01T12:59:00.000Z/)
    assert.match(text, /VALIDATION_FAILED\s+7 \(63\.6%\)/)
    assert.match(text, /DESERIALIZE_FAILED\s+deserialize:source\.social\.tiktok\s+3/)
    assert.match(text, /source\.market\.daraz\s+7/)
    assert.match(text, /sample of 2:/)
    assert.equal((text.match(/^ {6}reason: /gm) ?? []).length, 2)
  })
})

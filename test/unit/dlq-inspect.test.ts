import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryBroker, memoryTransport } from '../../src/connectors/memory/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { formatInspectReport, inspectDeadLetters, preview } from '../../src/dlq/index.ts'
import { deadLetterRecord } from '../../src/runtime/dead-letter.ts'

function fill(broker: MemoryBroker) {
  broker.createTopic('dlq', 2)
  const put = (
    i: number,
    code: ErrorCode,
    stage: string,
    topic: string,
    value: Buffer | null,
    details?: unknown,
  ) =>
    broker.append(
      {
        ...deadLetterRecord({
          topic: 'dlq',
          raw: {
            topic,
            partition: 1,
            offset: i,
            key: Buffer.from(`k${i}`),
            value,
            headers: {},
            timestamp: 0,
          },
          error: new WeirError(code, `reason ${i}`, { details }),
          stage,
          attempts: 1,
          app: 'a',
          now: Date.UTC(2026, 0, 1, 0, i),
        }),
        partition: i % 2,
      },
      0,
    )
  for (let i = 0; i < 6; i++)
    put(i, ErrorCode.VALIDATION_FAILED, 'validate', 'source.social.tiktok', Buffer.from(`{"n":${i}}`), [
      { rule: 'r', field: 'f', message: 'm' },
    ])
  for (let i = 6; i < 9; i++)
    put(
      i,
      ErrorCode.DESERIALIZE_FAILED,
      'deserialize:source.market.daraz',
      'source.market.daraz',
      Buffer.from([0xff, 0x00, 0x13]),
    )
  put(9, ErrorCode.DESERIALIZE_FAILED, 'deserialize:source.market.daraz', 'source.market.daraz', null)
  broker.append({ topic: 'dlq', key: null, value: Buffer.from('not a dead letter'), partition: 0 }, 0)
}

describe('inspectDeadLetters', () => {
  it('summarises by code, code and stage, and source topic, with the time range and a sample', async () => {
    const broker = new MemoryBroker()
    fill(broker)
    const r = await inspectDeadLetters(memoryTransport(broker), 'dlq', { sample: 100 })
    assert.equal(r.total, 11)
    assert.deepEqual(r.byCode, [
      { code: 'VALIDATION_FAILED', count: 6 },
      { code: 'DESERIALIZE_FAILED', count: 4 },
      { code: '(none)', count: 1 },
    ])
    assert.deepEqual(r.byCodeAndStage[1], {
      code: 'DESERIALIZE_FAILED',
      stage: 'deserialize:source.market.daraz',
      count: 4,
    })
    assert.deepEqual(
      r.bySourceTopic.map((x) => [x.topic, x.count]),
      [
        ['source.social.tiktok', 6],
        ['source.market.daraz', 4],
        ['(none)', 1],
      ],
    )
    assert.equal(r.withoutReason, 1)
    assert.equal(
      r.timeRange?.first,
      '1970-01-01T00:00:00.000Z',
      'a record with no error time counts by its timestamp',
    )
    assert.equal(r.sample.length, 11)
    const s = r.sample.find((x) => x.source.offset === 3)!
    assert.equal(s.message, 'reason 3')
    assert.deepEqual(s.details, [{ rule: 'r', field: 'f', message: 'm' }])
    assert.equal(s.value, '{"n":3}')
    assert.equal(r.sample.find((x) => x.source.offset === 9)!.value, '(null)')
    const text = formatInspectReport(r)
    assert.match(text, /dead-letter topic dlq: 11 records in 2 partitions/)
    assert.match(text, /VALIDATION_FAILED\s+6 \(54\.5%\)/)
    assert.match(text, /<binary 3 bytes> ff 00 13/)
  })

  it('samples at most N records, uniformly', async () => {
    const broker = new MemoryBroker()
    fill(broker)
    const r = await inspectDeadLetters(memoryTransport(broker), 'dlq', { sample: 3 })
    assert.equal(r.sample.length, 3)
    assert.equal(r.total, 11)
  })

  it('an empty topic reports zero', async () => {
    const broker = new MemoryBroker()
    broker.createTopic('empty', 1)
    const r = await inspectDeadLetters(memoryTransport(broker), 'empty')
    assert.equal(r.total, 0)
    assert.equal(formatInspectReport(r), 'dead-letter topic empty: 0 records in 1 partition\n')
  })
})

describe('preview', () => {
  it('shows text as text, cut with an ellipsis, and binary as hex', () => {
    assert.equal(preview(Buffer.from('hello\nworld')), 'hello\\nworld')
    assert.equal(preview(Buffer.from('x'.repeat(200)), 10), `${'x'.repeat(10)}…`)
    assert.equal(preview(Buffer.from('নতুন ফোন'), 4), 'নতুন…')
    assert.equal(preview(Buffer.alloc(0)), '(empty)')
    assert.match(preview(Buffer.from([0xc3, 0x28])), /^<binary 2 bytes> c3 28$/)
  })

  it('does not call a long multi-byte text binary when the cut splits a character', () => {
    assert.equal(preview(Buffer.from('ট'.repeat(1000)), 5), 'টটটটট…')
  })
})

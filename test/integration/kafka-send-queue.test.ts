/**
 * The Kafka sink's send queue without a broker: a fake `send` plays the outage and the refusal.
 * (Lives beside the Kafka integration tests because it is part of that connector; it needs no service.)
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { SendQueue } from '../../src/connectors/kafka/send-queue.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import type { OutgoingRecord } from '../../src/core/record.ts'

const rec = (n: number, size = 1): OutgoingRecord => ({
  topic: 't',
  key: null,
  value: Buffer.concat([Buffer.from(String(n)), Buffer.alloc(size - 1)]),
})
const num = (r: OutgoingRecord) => Number.parseInt(r.value!.toString('utf8').replace(/\0/g, ''), 10)

function fake(options: { down?: () => boolean; refuses?: (r: OutgoingRecord) => boolean } = {}) {
  const written: number[] = []
  const chunks: number[] = []
  const send = async (chunk: readonly OutgoingRecord[]) => {
    await new Promise((r) => setImmediate(r))
    if (options.down?.()) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, 'down', { retriable: true })
    if (chunk.some((r) => options.refuses?.(r) ?? false)) {
      throw new WeirError(ErrorCode.SINK_REJECTED, 'refused', { retriable: false })
    }
    chunks.push(chunk.length)
    written.push(...chunk.map(num))
  }
  return { written, chunks, send }
}

const base = { lingerMs: 1, maxRecords: 100, maxBytes: 1_000_000, toError: (e: unknown) => e as WeirError }

describe('kafka send queue', () => {
  test('sends in chunks of at most maxRecords and maxBytes, in order', async () => {
    const f = fake()
    const q = new SendQueue({ ...base, maxRecords: 10, maxBytes: 400, send: f.send })
    for (let i = 0; i < 35; i++) q.add(rec(i, 100))
    await q.flush()
    assert.deepEqual(
      f.written,
      Array.from({ length: 35 }, (_, i) => i),
    )
    assert.ok(
      f.chunks.every((n) => n <= 3),
      `chunks ${f.chunks}`,
    )
    assert.equal(q.backlog(), 0)
  })

  test('an outage rejects the flush, keeps every record, and a later flush delivers them once', async () => {
    let down = false
    const f = fake({ down: () => down })
    const q = new SendQueue({ ...base, send: f.send, retryDelayMs: 10_000 })
    for (let i = 0; i < 5; i++) q.add(rec(i))
    await q.flush()
    down = true
    for (let i = 5; i < 10; i++) q.add(rec(i))
    await assert.rejects(q.flush(), (e: unknown) => e instanceof WeirError && e.retriable)
    await assert.rejects(q.flush())
    assert.equal(q.backlog(), 5)
    down = false
    await q.flush()
    assert.equal(q.backlog(), 0)
    assert.deepEqual(
      f.written,
      Array.from({ length: 10 }, (_, i) => i),
    )
  })

  test('a refused record is found by halving and handed to onRejected; the rest is written in order', async () => {
    const f = fake({ refuses: (r) => num(r) === 13 })
    const rejected: number[] = []
    const q = new SendQueue({ ...base, send: f.send, onRejected: (r) => void rejected.push(num(r)) })
    for (let i = 0; i < 40; i++) q.add(rec(i))
    await q.flush()
    assert.deepEqual(rejected, [13])
    assert.deepEqual(
      f.written,
      Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 13),
    )
    for (let i = 40; i < 45; i++) q.add(rec(i))
    await q.flush()
    assert.equal(f.chunks.at(-1), 5, 'back to full chunks after the search')
  })

  test('a record over maxRecordBytes is refused unsent; a refusal after sending is reported as one', async () => {
    const f = fake({ refuses: (r) => num(r) === 30 })
    const rejected: Array<[number, string]> = []
    const refusedAfterSend: string[] = []
    const sent: number[][] = []
    const q = new SendQueue({
      ...base,
      recordLimit: {
        bytes: 500,
        refusal: (bytes) => new WeirError(ErrorCode.RECORD_TOO_LARGE, `${bytes} bytes`, { retriable: false }),
      },
      send: (chunk) => {
        sent.push(chunk.map(num))
        return f.send(chunk)
      },
      onRejected: (r, err) => void rejected.push([num(r), err.code]),
      onRefused: (err) => void refusedAfterSend.push(err.code),
    })
    for (let i = 0; i < 20; i++) q.add(rec(i, i === 7 ? 600 : 10))
    await q.flush()
    assert.deepEqual(rejected, [[7, ErrorCode.RECORD_TOO_LARGE]])
    assert.ok(!sent.flat().includes(7), 'the oversized record was never in a send')
    assert.deepEqual(refusedAfterSend, [], 'nothing was refused by the service')
    assert.deepEqual(
      f.written,
      Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 7),
    )
    for (let i = 20; i < 40; i++) q.add(rec(i, 10))
    await q.flush()
    assert.deepEqual(rejected.at(-1), [30, ErrorCode.SINK_REJECTED])
    assert.ok(refusedAfterSend.length > 0, 'a refusal by the service is reported')
  })

  test('without onRejected a refused record blocks: every flush rejects and nothing after it is written', async () => {
    const f = fake({ refuses: (r) => num(r) === 2 })
    const q = new SendQueue({ ...base, send: f.send })
    for (let i = 0; i < 6; i++) q.add(rec(i))
    await assert.rejects(q.flush(), (e: unknown) => e instanceof WeirError && !e.retriable)
    await assert.rejects(q.flush())
    assert.deepEqual(f.written, [0, 1])
    assert.equal(q.backlog(), 4)
  })

  test('drop() forgets what is buffered, after the send in flight', async () => {
    const f = fake()
    const q = new SendQueue({ ...base, lingerMs: 1000, send: f.send })
    for (let i = 0; i < 3; i++) q.add(rec(i))
    assert.equal(await q.drop(), 3)
    assert.equal(q.backlog(), 0)
    await q.flush()
    assert.deepEqual(f.written, [])
  })
})

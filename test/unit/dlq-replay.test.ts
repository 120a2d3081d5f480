import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RecordSink } from '../../src/connectors/contract.ts'
import { MemoryBroker, memoryTransport } from '../../src/connectors/memory/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { setOwnKey } from '../../src/core/own-key.ts'
import type { RawRecord } from '../../src/core/record.ts'
import {
  defaultReplayGroup,
  formatProgress,
  progressReporter,
  replayDeadLetters,
  replayHeaders,
} from '../../src/dlq/index.ts'
import { deadLetterRecord } from '../../src/runtime/dead-letter.ts'

const DLQ = 'app-dlq'

/** Writes `n` dead letters as the runtime would: original bytes, original headers, Weir's reasons. */
function deadLetters(
  broker: MemoryBroker,
  n: number,
  make: (i: number) => { code?: string; topic?: string; headers?: Record<string, Buffer> } = () => ({}),
) {
  broker.createTopic(DLQ, 1)
  for (let i = 0; i < n; i++) {
    const m = make(i)
    const raw: RawRecord = {
      topic: m.topic ?? 'orders',
      partition: i % 3,
      offset: 100 + i,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(JSON.stringify({ i })),
      headers: { 'test-id': Buffer.from(String(i)), ...m.headers },
      timestamp: 1_700_000_000_000 + i,
    }
    const error = new WeirError((m.code ?? ErrorCode.OPERATOR_FAILED) as ErrorCode, `boom ${i}`)
    const dl = deadLetterRecord({
      topic: DLQ,
      raw,
      error,
      stage: 'map-1',
      attempts: 1,
      app: 'app',
      now: 1_700_000_100_000,
    })
    if (m.topic === '') delete (dl.headers as Record<string, Buffer>)['weir.source.topic']
    broker.append(dl, 0)
  }
}

const ids = (rs: readonly RawRecord[]) => rs.map((r) => r.headers['test-id']!.toString())

describe('replayHeaders', () => {
  it('keeps the original headers, drops weir.* ones, and says where the replay came from', () => {
    const h = replayHeaders({
      topic: 'dlq',
      partition: 2,
      offset: 41,
      headers: {
        trace: Buffer.from('t1'),
        'weir.error.code': Buffer.from('X'),
        'weir.source.topic': Buffer.from('in'),
      },
    })
    assert.deepEqual(Object.keys(h).sort(), ['trace', 'weir.replay.count', 'weir.replay.from'])
    assert.equal(h['weir.replay.from']!.toString(), 'dlq:2@41')
    assert.equal(h['weir.replay.count']!.toString(), '1')
  })

  it('increments the count of a record replayed before', () => {
    const h = replayHeaders({
      topic: 'dlq',
      partition: 0,
      offset: 1,
      headers: { 'weir.replay.count': Buffer.from('2') },
    })
    assert.equal(h['weir.replay.count']!.toString(), '3')
  })

  it('keeps a header named "__proto__" as a header, through the in-process broker too', () => {
    const broker = new MemoryBroker()
    const sent: Record<string, Buffer> = {}
    setOwnKey(sent, '__proto__', Buffer.from('odd'))
    const stored = broker.append({ topic: 'dlq', key: null, value: null, headers: sent }, 0)
    assert.equal(Object.getPrototypeOf(stored.headers), Object.prototype)
    assert.deepEqual(Object.keys(stored.headers), ['__proto__'])

    const h = replayHeaders({ topic: 'dlq', partition: 0, offset: 1, headers: stored.headers })
    assert.equal(Object.getPrototypeOf(h), Object.prototype)
    assert.deepEqual(Object.keys(h), ['__proto__', 'weir.replay.from', 'weir.replay.count'])
    assert.equal(Object.getOwnPropertyDescriptor(h, '__proto__')?.value?.toString(), 'odd')
  })
})

describe('replayDeadLetters (in-process transport)', () => {
  it('re-injects original key, value, timestamp and headers into each source topic, then commits the end', async () => {
    const broker = new MemoryBroker()
    deadLetters(broker, 30, (i) => ({ topic: i % 2 ? 'orders' : 'posts' }))
    const transport = memoryTransport(broker)
    const result = await replayDeadLetters({ transport, topic: DLQ })
    assert.equal(result.outcome, 'completed')
    assert.equal(result.replayed, 30)
    assert.deepEqual(result.byTarget, { posts: 15, orders: 15 })
    assert.equal(result.position, result.total)
    const orders = broker.all('orders')
    assert.equal(orders.length, 15)
    const first = orders[0]!
    assert.equal(first.key!.toString(), 'k1')
    assert.equal(first.value!.toString(), '{"i":1}')
    assert.equal(first.timestamp, 1_700_000_000_001)
    assert.equal(first.headers['weir.replay.from']!.toString(), `${DLQ}:0@1`)
    assert.equal(first.headers['weir.replay.count']!.toString(), '1')
    assert.equal(first.headers['weir.error.code'], undefined)
    assert.equal(broker.committed(defaultReplayGroup(DLQ), DLQ, 0), 30)

    const again = await replayDeadLetters({ transport, topic: DLQ })
    assert.equal(again.outcome, 'nothing-to-do')
    assert.equal(again.replayed, 0)
    assert.equal(broker.all('orders').length, 15, 'a second run replays nothing')
  })

  it('--to sends everything to one topic; --filter keeps only the given codes and counts the rest as skipped', async () => {
    const broker = new MemoryBroker()
    deadLetters(broker, 20, (i) => ({
      code: i < 5 ? ErrorCode.VALIDATION_FAILED : ErrorCode.OPERATOR_FAILED,
    }))
    const transport = memoryTransport(broker)
    const result = await replayDeadLetters({
      transport,
      topic: DLQ,
      to: 'fixed',
      codes: ['validation_failed'],
    })
    assert.equal(result.replayed, 5)
    assert.equal(result.skipped, 15)
    assert.deepEqual(ids(broker.all('fixed')), ['0', '1', '2', '3', '4'])
    assert.equal(
      broker.partitionCount('fixed'),
      1,
      'a missing --to topic is created like the dead-letter topic',
    )
    assert.equal(result.groupId, `weir-dlq-replay-${DLQ}-VALIDATION_FAILED`)
    // The unfiltered replay has its own group, so it still sees every record.
    const all = await replayDeadLetters({ transport, topic: DLQ, to: 'fixed' })
    assert.equal(all.replayed, 20)
  })

  it('continues from where it stopped: only the records it did not commit are replayed again', async () => {
    const broker = new MemoryBroker()
    deadLetters(broker, 2500)
    const transport = memoryTransport(broker)
    // A producer that fails its second flush: the second batch of 1,000 is written but not committed.
    let flushes = 0
    const crashing = {
      ...transport,
      sink: (o: Parameters<typeof transport.sink>[0]): RecordSink => {
        const s = transport.sink(o)
        return {
          id: s.id,
          open: () => s.open(),
          add: (r) => s.add(r),
          flush: async () => {
            if (++flushes === 2) throw new Error('broker gone')
          },
          backlog: () => s.backlog(),
          close: () => s.close(),
          status: () => s.status(),
        }
      },
    }
    await assert.rejects(replayDeadLetters({ transport: crashing, topic: DLQ }), /broker gone/)
    assert.equal(broker.committed(defaultReplayGroup(DLQ), DLQ, 0), 1000)
    const rerun = await replayDeadLetters({ transport, topic: DLQ })
    assert.equal(rerun.replayed, 1500)
    const counts = new Map<string, number>()
    for (const id of ids(broker.all('orders'))) counts.set(id, (counts.get(id) ?? 0) + 1)
    assert.equal(counts.size, 2500, 'none lost')
    for (const [id, c] of counts)
      assert.equal(c, Number(id) >= 1000 && Number(id) < 2000 ? 2 : 1, `record ${id}`)
  })

  it('a dry run counts, writes nothing and does not move the group', async () => {
    const broker = new MemoryBroker()
    deadLetters(broker, 10)
    const transport = memoryTransport(broker)
    const result = await replayDeadLetters({ transport, topic: DLQ, dryRun: true })
    assert.equal(result.replayed, 10)
    assert.equal(broker.all('orders').length, 0)
    assert.equal(broker.committed(defaultReplayGroup(DLQ), DLQ, 0), undefined)
  })

  it('passes over dead letters with no source topic when no --to is given', async () => {
    const broker = new MemoryBroker()
    deadLetters(broker, 4, (i) => ({ topic: i === 2 ? '' : 'orders' }))
    const result = await replayDeadLetters({ transport: memoryTransport(broker), topic: DLQ })
    assert.equal(result.replayed, 3)
    assert.equal(result.unroutable, 1)
  })

  it('stops at the end offsets captured at start; later dead letters wait for the next run', async () => {
    const broker = new MemoryBroker()
    deadLetters(broker, 5)
    const transport = memoryTransport(broker)
    let added = false
    const result = await replayDeadLetters({
      transport,
      topic: DLQ,
      onProgress: () => {
        if (!added) deadLetters(broker, 3)
        added = true
      },
    })
    assert.equal(result.replayed, 5)
    assert.equal((await replayDeadLetters({ transport, topic: DLQ })).replayed, 3)
  })

  it('an unknown topic is a clear error', async () => {
    await assert.rejects(
      replayDeadLetters({ transport: memoryTransport(new MemoryBroker()), topic: 'nope' }),
      /does not exist/,
    )
  })
})

describe('replay progress', () => {
  const p = {
    total: 10_000,
    position: 6_000,
    replayed: 5_400,
    skipped: 600,
    unroutable: 0,
    byTarget: {},
    elapsedMs: 2000,
  }

  it('draws a bar with counts and rate', () => {
    assert.equal(
      formatProgress(p, 10),
      '[██████░░░░]  60% 6,000/10,000 · replayed 5,400 · skipped 600 · 3,000/s',
    )
  })

  it('redraws in place on a terminal and writes periodic lines otherwise', () => {
    let t = 0
    const out: string[] = []
    const tty = progressReporter({ stream: { isTTY: true, write: (s: string) => out.push(s) }, now: () => t })
    tty.update(p)
    t += 50
    tty.update({ ...p, position: 7000 })
    tty.done()
    assert.equal(out.length, 3)
    assert.ok(out[0]!.startsWith('\r[') && out[1]!.includes('7,000') && out[2] === '\n')

    const lines: string[] = []
    const plain = progressReporter({
      stream: { write: (s: string) => lines.push(s) },
      now: () => t,
      lineEveryMs: 1000,
    })
    for (let i = 0; i < 10; i++) {
      plain.update({ ...p, position: i * 1000 })
      t += 300
    }
    plain.done()
    assert.ok(lines.every((l) => l.endsWith('\n') && !l.includes('\r')))
    assert.equal(lines.length, 4, 'a line per second of 3 s, plus the final state')
  })
})

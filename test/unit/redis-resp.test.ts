/**
 * The Redis sinks' wire protocol (RESP2) without a server: commands as Redis reads them and replies
 * parsed however the bytes are cut. The sinks themselves run against real Redis in
 * test/integration/redis-sink.test.ts and connector-contract.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Reply, ReplyError, ReplyParser, RespWriter } from '../../src/connectors/redis/resp.ts'

describe('RespWriter', () => {
  it('encodes commands as arrays of bulk strings, lengths in bytes', () => {
    const w = new RespWriter(8)
    w.publish('driver-updates', '{"name":"São Paulo"}')
    w.command('SET', 'k', 42, 'PX', 1000)
    w.publish('c', Buffer.from([0, 1, 2]))
    assert.equal(w.count, 3)
    assert.equal(
      w.bytes().toString('latin1'),
      Buffer.from(
        '*3\r\n$7\r\nPUBLISH\r\n$14\r\ndriver-updates\r\n$21\r\n{"name":"São Paulo"}\r\n' +
          '*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n$2\r\nPX\r\n$4\r\n1000\r\n' +
          '*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$3\r\n\u0000\u0001\u0002\r\n',
        'utf8',
      ).toString('latin1'),
    )
  })

  it('reuses its memory after reset and undoes a half-written item', () => {
    const w = new RespWriter()
    w.publish('a', 'x'.repeat(100_000))
    w.reset()
    assert.equal(w.length, 0)
    w.publish('a', 'b')
    const [length, count] = [w.length, w.count]
    w.command('SET', 'half')
    w.truncate(length, count)
    assert.equal(w.bytes().toString(), '*3\r\n$7\r\nPUBLISH\r\n$1\r\na\r\n$1\r\nb\r\n')
    assert.equal(w.count, 1)
  })
})

describe('ReplyParser', () => {
  const wire =
    ':1\r\n:-2\r\n+OK\r\n-NOPERM this user has no permissions\r\n$4\r\nhé!\r\n$-1\r\n*2\r\n$3\r\nabc\r\n*1\r\n:7\r\n*0\r\n'
  const expected = (replies: Reply[]) => {
    assert.deepEqual(replies.slice(0, 3), [1, -2, 'OK'])
    assert.ok(replies[3] instanceof ReplyError)
    assert.equal((replies[3] as ReplyError).name, 'ReplyError')
    assert.match((replies[3] as ReplyError).message, /^NOPERM/)
    assert.deepEqual(replies.slice(4), ['hé!', null, ['abc', [7]], []])
  }

  it('parses every reply type in one chunk', () => {
    const got: Reply[] = []
    new ReplyParser((r) => got.push(r)).feed(Buffer.from(wire))
    expected(got)
  })

  it('parses the same however the bytes are split', () => {
    const bytes = Buffer.from(wire)
    for (let cut = 1; cut < bytes.length; cut++) {
      const got: Reply[] = []
      const p = new ReplyParser((r) => got.push(r))
      p.feed(bytes.subarray(0, cut))
      p.feed(bytes.subarray(cut))
      expected(got)
    }
    const got: Reply[] = []
    const p = new ReplyParser((r) => got.push(r))
    for (const b of bytes) p.feed(Buffer.from([b]))
    expected(got)
  })
})

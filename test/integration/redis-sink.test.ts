/**
 * Redis sinks beyond the shared contract (connector-contract.test.ts): AUTH, a server that stops
 * answering, background pipelines, the command sink's TTLs, metrics. Against private redis-servers.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import {
  type RedisMessage,
  redisCommandSink,
  redisMetricsJson,
  redisPublishSink,
} from '../../src/connectors/redis/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { createMetrics } from '../../src/ops/metrics.ts'
import {
  type Cleanup,
  eventually,
  type RedisServer,
  startRedisServer,
  suiteCleanup,
  testCleanup,
  uniqueName,
} from './helpers/services.ts'

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/** A subscriber collecting message bodies of one channel; disconnected by cleanup. */
async function subscribe(
  cleanup: Cleanup,
  port: number,
  channel: string,
  password?: string,
): Promise<string[]> {
  const got: string[] = []
  const sub = new Redis({ port, password, retryStrategy: () => 50 })
  sub.on('error', () => {})
  sub.on('message', (_c: string, m: string) => got.push(m))
  await sub.subscribe(channel)
  cleanup(() => sub.disconnect())
  return got
}

function client(cleanup: Cleanup, port: number, options: { password?: string; db?: number } = {}): Redis {
  const r = new Redis({ port, ...options, retryStrategy: () => 50 })
  r.on('error', () => {})
  cleanup(() => r.disconnect())
  return r
}

describe('redis sinks with AUTH (requirepass)', () => {
  const cleanup = suiteCleanup()
  let server: RedisServer
  before(async () => {
    server = await startRedisServer(cleanup, ['--requirepass', 's3cret'])
  })

  it('publishes with the right password, given as a string or as a Secret', async (t) => {
    const c = testCleanup(t)
    const got = await subscribe(c, server.port, 'auth', 's3cret')
    for (const password of ['s3cret', { reveal: () => 's3cret' }]) {
      const sink = redisPublishSink({ port: server.port, password, name: 'auth' })
      c(() => sink.close())
      await sink.open()
      sink.add({ channel: 'auth', message: 'hello' })
      await sink.flush()
    }
    await eventually(() => got.length === 2)
  })

  it('refuses to open with a wrong password at once, saying why, without waiting for the connect timeout', async (t) => {
    const sink = redisPublishSink({ port: server.port, password: 'wrong', connectTimeoutMs: 4000 })
    testCleanup(t)(() => sink.close())
    const started = Date.now()
    await assert.rejects(sink.open(), (err) => {
      assert.ok(err instanceof WeirError)
      assert.equal(err.code, ErrorCode.SINK_UNAVAILABLE)
      assert.match(err.message, /WRONGPASS|invalid password/i)
      return true
    })
    assert.ok(Date.now() - started < 2000, `open took ${Date.now() - started} ms`)
    assert.equal(sink.status().connected, false)
    assert.match(sink.status().message ?? '', /WRONGPASS|invalid password/i)
    assert.doesNotMatch(JSON.stringify(sink.status()), /wrong/)
  })

  it('without a password reports NOAUTH and keeps the messages', async (t) => {
    const sink = redisPublishSink({ port: server.port, connectTimeoutMs: 500, flushTimeoutMs: 500 })
    testCleanup(t)(() => sink.close())
    await assert.rejects(sink.open(), /NOAUTH|Authentication required|not ready/i)
    sink.add({ channel: 'auth', message: 'kept' })
    await assert.rejects(
      sink.flush(),
      (err) => err instanceof WeirError && err.code === ErrorCode.SINK_UNAVAILABLE,
    )
    assert.equal(sink.backlog(), 1)
  })
})

describe('redis publish sink', () => {
  const cleanup = suiteCleanup()
  let server: RedisServer
  before(async () => {
    server = await startRedisServer(cleanup)
  })

  it('sends full pipelines in the background while buffering, so a flush has little left to do', async (t) => {
    const c = testCleanup(t)
    const channel = uniqueName('bg')
    const got = await subscribe(c, server.port, channel)
    const sink = redisPublishSink({ port: server.port, pipelineSize: 100 })
    c(() => sink.close())
    await sink.open()
    for (const n of range(0, 1050)) sink.add({ channel, message: String(n) })
    await eventually(() => sink.backlog() < 100)
    await eventually(() => got.length >= 1000)
    assert.equal(sink.backlog(), 50, 'the last partial pipeline waits for the flush')
    await sink.flush()
    await eventually(() => got.length === 1050)
    assert.deepEqual(got.map(Number), range(0, 1050))
  })

  it('rejects a flush within flushTimeoutMs when Redis stops answering, then delivers everything at least once', async (t) => {
    const c = testCleanup(t)
    const channel = uniqueName('paused')
    const got = await subscribe(c, server.port, channel)
    const admin = client(c, server.port)
    const sink = redisPublishSink({ port: server.port, flushTimeoutMs: 400, maxReconnectDelayMs: 100 })
    c(() => sink.close())
    await sink.open()
    // Redis keeps the connection but runs no write command (PUBLISH included) for 1.5 s: a hung server.
    await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE')
    for (const n of range(0, 10)) sink.add({ channel, message: String(n) })
    const started = Date.now()
    await assert.rejects(
      sink.flush(),
      (err) => err instanceof WeirError && err.code === ErrorCode.SINK_UNAVAILABLE,
    )
    const took = Date.now() - started
    assert.ok(took < 1200, `flush took ${took} ms to fail`)
    assert.equal(sink.backlog(), 10)
    await eventually(
      async () => {
        await sink.flush()
      },
      10_000,
      100,
    )
    await eventually(() => new Set(got).size === 10)
    // At-least-once: a PUBLISH sent before the timeout may also have run once the pause ended.
    const firstSeen = [...new Set(got)].map(Number)
    assert.deepEqual(firstSeen, range(0, 10))
  })

  it('counts published messages, errors and pipeline latency, for /metrics and the registry', async (t) => {
    const c = testCleanup(t)
    const metrics = createMetrics({ processMetrics: false })
    const sink = redisPublishSink({ port: server.port, name: 'bridge', pipelineSize: 10, metrics })
    c(() => sink.close())
    await sink.open()
    const channel: RedisMessage['channel'] = uniqueName('metrics')
    for (const n of range(0, 25)) sink.add({ channel, message: Buffer.from(String(n)) })
    await sink.flush()
    const json = redisMetricsJson(sink)
    assert.equal(json.messages_published_total, 25)
    assert.equal(json.publish_errors, 0)
    assert.equal(json.redis_connected, true)
    assert.equal(json.redis_backlog, 0)
    assert.equal(
      json.redis_publish_latency.count,
      25,
      'one per message (seed 000), though sent in three pipelines',
    )
    assert.ok(json.redis_publish_latency.avg_ms > 0)
    assert.ok(json.redis_publish_latency.p95_ms >= json.redis_publish_latency.avg_ms * 0.1)
    const snap = metrics.snapshot() as Record<string, Record<string, unknown>>
    assert.equal(snap.weir_redis_written_total?.['sink=bridge'], 25)
    assert.equal(
      (snap.weir_redis_pipeline_seconds?.['sink=bridge'] as { count: number } | undefined)?.count,
      3,
    )
  })

  it('rejects add and flush after close', async () => {
    const sink = redisPublishSink({ port: server.port })
    await sink.open()
    await sink.close()
    assert.deepEqual(sink.status(), { connected: false, message: 'closed' })
    assert.throws(() => sink.add({ channel: 'x', message: 'y' }), /closed/)
    await assert.rejects(sink.flush(), /closed/)
  })
})

describe('redis command sink', () => {
  const cleanup = suiteCleanup()
  let server: RedisServer
  before(async () => {
    server = await startRedisServer(cleanup)
  })

  it('writes SET, HSET and XADD with TTLs, and DEL, in the selected database', async (t) => {
    const c = testCleanup(t)
    const sink = redisCommandSink({ port: server.port, db: 3 })
    c(() => sink.close())
    await sink.open()
    const k = uniqueName('cmd')
    sink.add({ op: 'set', key: `${k}:plain`, value: 'v' })
    sink.add({ op: 'set', key: `${k}:ttl`, value: 42, ttlMs: 60_000 })
    sink.add({ op: 'hset', key: `driver:${k}`, fields: { lat: '52.5', lon: 13.4 }, ttlMs: 30_000 })
    sink.add({ op: 'xadd', key: `${k}:stream`, fields: { n: '1' }, maxLen: 100 })
    sink.add({ op: 'set', key: `${k}:gone`, value: 'x' })
    sink.add({ op: 'del', key: `${k}:gone` })
    await sink.flush()

    const db3 = client(c, server.port, { db: 3 })
    assert.equal(await db3.get(`${k}:plain`), 'v')
    assert.equal(await db3.pttl(`${k}:plain`), -1)
    assert.equal(await db3.get(`${k}:ttl`), '42')
    const ttl = await db3.pttl(`${k}:ttl`)
    assert.ok(ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`)
    assert.deepEqual(await db3.hgetall(`driver:${k}`), { lat: '52.5', lon: '13.4' })
    assert.ok((await db3.pttl(`driver:${k}`)) > 20_000)
    assert.equal(await db3.xlen(`${k}:stream`), 1)
    assert.equal(await db3.exists(`${k}:gone`), 0)
    assert.equal(await client(c, server.port).exists(`${k}:plain`), 0, 'nothing in db 0')
  })

  it('hands commands it cannot encode (empty fields, bad TTL) to onRejected and writes the rest', async (t) => {
    const c = testCleanup(t)
    const rejected: Array<{ key: string; code: string }> = []
    const sink = redisCommandSink({
      port: server.port,
      onRejected: (cmd, err) => {
        rejected.push({ key: cmd.key, code: err.code })
      },
    })
    c(() => sink.close())
    await sink.open()
    const k = uniqueName('bad')
    sink.add({ op: 'hset', key: `${k}:empty`, fields: {} })
    sink.add({ op: 'set', key: `${k}:ttl`, value: 'v', ttlMs: -5 })
    sink.add({ op: 'set', key: `${k}:ok`, value: 'v' })
    await sink.flush()
    assert.deepEqual(rejected, [
      { key: `${k}:empty`, code: ErrorCode.SINK_REJECTED },
      { key: `${k}:ttl`, code: ErrorCode.SINK_REJECTED },
    ])
    assert.equal(await client(c, server.port).get(`${k}:ok`), 'v')
    assert.equal(sink.stats().rejected, 2)
  })
})

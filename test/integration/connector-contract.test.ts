/**
 * The one connector contract test (STYLE.md habit 9): every Sink implementation runs the same suite.
 * An implementation supplies a factory, item N, and a way to read back what was durably written
 * (a subscriber, a SELECT, a consumer); optional capabilities switch on the fault cases: an item the
 * service refuses for good, a closed port, and an outage of the service under a running sink.
 *
 * Implementations: the in-process memory record sink, Redis PUBLISH, Redis commands (XADD), PostgreSQL,
 * Kafka: the record sink of `kafkaTransport` (src/connectors/kafka), on the shared broker, with its
 * outage through the broker's cuttable proxied listener (test/integration/helpers/kafka.ts); Parquet
 * files (rolled at every checkpoint), read back with hyparquet, its outage a private tmpfs filled up.
 */
import assert from 'node:assert/strict'
import { before, describe, it, type TestContext } from 'node:test'
import { Redis } from 'ioredis'
import type { Sink } from '../../src/connectors/contract.ts'
import { memoryTransport } from '../../src/connectors/memory/index.ts'
import { localFileSystem, type ParquetItem, parquetSink } from '../../src/connectors/parquet/index.ts'
import { postgresSink, type Row } from '../../src/connectors/postgres/index.ts'
import {
  type RedisCommand,
  type RedisMessage,
  redisCommandSink,
  redisPublishSink,
} from '../../src/connectors/redis/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import type { OutgoingRecord } from '../../src/core/record.ts'
import { canMount, readArchive, smallDisk, tempDir } from './helpers/archive.ts'
import {
  createTopic,
  kafkaAvailable,
  uniqueName as kafkaName,
  kafkaProxy,
  testKafka,
} from './helpers/kafka.ts'
import {
  type Cleanup,
  eventually,
  freePort,
  pgConnection,
  pgQuery,
  pgTable,
  type RedisServer,
  sleep,
  startRedisServer,
  suiteCleanup,
  tcpProxy,
  testCleanup,
  uniqueName,
} from './helpers/services.ts'

type OnRejected<T> = (item: T, err: WeirError) => void

interface Harness<T> {
  readonly sink: Sink<T>
  item(n: number): T
  /** Numbers of the items durably written so far, in the order the service gives them back. */
  written(expected: number): Promise<number[]>
  /** Stops the service under the sink and starts it again (`up` resolves once readers are back too). */
  readonly outage?: { down(): Promise<void>; up(): Promise<void> }
}

interface SinkImplementation<T> {
  readonly name: string
  /** `add` only buffers, so `backlog()` counts every add until a flush (false: `add` writes at once). */
  readonly buffers: boolean
  /** `close()` writes what was not flushed (true), or drops it for the next run to re-read (false). */
  readonly closeFlushes: boolean
  /** Starts what every test of this implementation shares; cleanup is registered with `after`. */
  setup?(cleanup: Cleanup): Promise<void>
  /** A fresh sink (not yet opened) and destination for one test. */
  make(cleanup: Cleanup, options?: { onRejected?: OnRejected<T> }): Promise<Harness<T>>
  /** Item `n` in a form the service refuses for good (NOT NULL violated, forbidden channel, wrong type). */
  readonly refused?: (n: number) => T
  /**
   * Cases this implementation is known to fail, by case id, with the reason: they still run and report,
   * as node:test `todo`, until the implementation is fixed (then remove the entry).
   */
  readonly knownGaps?: Readonly<Partial<Record<'outage' | 'unreachable', string>>>
  /** The tests can stop and restart the service: every harness then has `outage`. */
  readonly stoppable: boolean
  /** A sink pointed at a port where nothing listens, and an item for it. */
  readonly unreachable?: (cleanup: Cleanup) => Promise<{ sink: Sink<T>; item: T }>
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

function isCode(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof WeirError, `expected a WeirError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    return true
  }
}

function contract<T>(impl: SinkImplementation<T>): void {
  describe(`Sink contract: ${impl.name}`, () => {
    const cleanup = suiteCleanup()
    if (impl.setup) before(() => impl.setup?.(cleanup))

    const open = async (t: TestContext, options?: { onRejected?: OnRejected<T> }) => {
      const h = await impl.make(testCleanup(t), options)
      await h.sink.open()
      return h
    }

    it('reports connected after open while the service is up', async (t) => {
      const { sink } = await open(t)
      assert.deepEqual(sink.status().connected, true)
    })

    it('resolves a flush with nothing added', async (t) => {
      const { sink } = await open(t)
      await sink.flush()
      assert.equal(sink.backlog(), 0)
    })

    it('makes every item added before a flush readable, in add order', async (t) => {
      const h = await open(t)
      for (const n of range(0, 25)) h.sink.add(h.item(n))
      await h.sink.flush()
      assert.deepEqual(await h.written(25), range(0, 25))
    })

    it('writes more items than fit in one pipeline or statement', async (t) => {
      const h = await open(t)
      for (const n of range(0, 2500)) h.sink.add(h.item(n))
      await h.sink.flush()
      assert.deepEqual(await h.written(2500), range(0, 2500))
    })

    it('counts unflushed items in backlog and drops it to 0 after flush', async (t) => {
      const { sink, item } = await open(t)
      for (const n of range(0, 10)) sink.add(item(n))
      if (impl.buffers) assert.equal(sink.backlog(), 10)
      else assert.ok(sink.backlog() <= 10)
      await sink.flush()
      assert.equal(sink.backlog(), 0)
    })

    it('does not write an item again on a later flush', async (t) => {
      const h = await open(t)
      for (const n of range(0, 5)) h.sink.add(h.item(n))
      await h.sink.flush()
      await h.sink.flush()
      h.sink.add(h.item(5))
      await h.sink.flush()
      assert.deepEqual(await h.written(6), range(0, 6))
    })

    it(
      impl.closeFlushes
        ? 'writes unflushed items on close'
        : 'drops unflushed items on close (they are re-read)',
      async (t) => {
        const h = await open(t)
        for (const n of range(0, 3)) h.sink.add(h.item(n))
        await h.sink.close()
        assert.deepEqual(await h.written(impl.closeFlushes ? 3 : 0), impl.closeFlushes ? range(0, 3) : [])
      },
    )

    const refused = impl.refused
    if (refused) {
      it('hands an item the service refuses to onRejected and writes the items around it', async (t) => {
        const rejected: Array<{ item: T; err: WeirError }> = []
        const h = await open(t, { onRejected: (item, err) => rejected.push({ item, err }) })
        for (const n of range(0, 5)) h.sink.add(h.item(n))
        h.sink.add(refused(5))
        for (const n of range(6, 10)) h.sink.add(h.item(n))
        await h.sink.flush()
        assert.deepEqual(await h.written(9), [0, 1, 2, 3, 4, 6, 7, 8, 9])
        assert.equal(rejected.length, 1)
        assert.deepEqual(rejected[0]?.item, refused(5))
        assert.equal(rejected[0]?.err.code, ErrorCode.SINK_REJECTED)
        assert.equal(rejected[0]?.err.retriable, false)
        assert.equal(h.sink.backlog(), 0)
      })

      it('without onRejected keeps a refused item and rejects every flush with SINK_REJECTED', async (t) => {
        const h = await open(t)
        for (const n of range(0, 5)) h.sink.add(h.item(n))
        h.sink.add(refused(5))
        for (const n of range(6, 10)) h.sink.add(h.item(n))
        await assert.rejects(h.sink.flush(), isCode(ErrorCode.SINK_REJECTED))
        await assert.rejects(h.sink.flush(), isCode(ErrorCode.SINK_REJECTED))
        assert.ok(h.sink.backlog() >= 1, 'the refused item is still buffered')
        const written = await h.written(5)
        assert.deepEqual(written.slice(0, 5), range(0, 5))
        assert.ok(!written.includes(5))
        assert.equal(h.sink.status().connected, true)
      })
    }

    const unreachable = impl.unreachable
    if (unreachable) {
      const gap = impl.knownGaps?.unreachable
      it(
        'reports a service on a closed port as unavailable and keeps what was added',
        gap ? { todo: gap } : {},
        async (t) => {
          const { sink, item } = await unreachable(testCleanup(t))
          await assert.rejects(sink.open(), isCode(ErrorCode.SINK_UNAVAILABLE))
          const status = sink.status()
          assert.equal(status.connected, false)
          assert.match(status.message ?? '', /ECONNREFUSED|connect/i)
          sink.add(item)
          await assert.rejects(
            sink.flush(),
            (err) => isCode(ErrorCode.SINK_UNAVAILABLE)(err) && (err as WeirError).retriable,
          )
          assert.equal(sink.backlog(), 1)
        },
      )
    }

    if (!impl.stoppable) return
    const outageGap = impl.knownGaps?.outage
    it(
      'rejects flush with SINK_UNAVAILABLE during an outage, keeps every item, and delivers them all once the service is back',
      outageGap ? { todo: outageGap } : {},
      async (t) => {
        const h = await open(t)
        assert.ok(h.outage, 'a stoppable implementation gives each harness an outage')
        for (const n of range(0, 10)) h.sink.add(h.item(n))
        await h.sink.flush()
        await h.outage.down()

        for (const n of range(10, 20)) h.sink.add(h.item(n))
        const started = Date.now()
        await assert.rejects(
          h.sink.flush(),
          (err) => isCode(ErrorCode.SINK_UNAVAILABLE)(err) && (err as WeirError).retriable,
        )
        assert.ok(Date.now() - started < 5000, `flush took ${Date.now() - started} ms to fail`)
        const down = h.sink.status()
        assert.equal(down.connected, false)
        assert.ok((down.message ?? '').length > 0, 'status says why')
        assert.equal(h.sink.backlog(), 10)
        await assert.rejects(h.sink.flush(), isCode(ErrorCode.SINK_UNAVAILABLE))
        assert.equal(h.sink.backlog(), 10)

        await h.outage.up()
        // What the runtime's checkpoint does: flush again until it works.
        await eventually(
          async () => {
            try {
              await h.sink.flush()
            } catch (err) {
              isCode(ErrorCode.SINK_UNAVAILABLE)(err)
              throw err
            }
          },
          15_000,
          100,
        )
        assert.equal(h.sink.backlog(), 0)
        assert.equal(h.sink.status().connected, true)
        assert.deepEqual(await h.written(20), range(0, 20))
      },
    )
  })
}

// --------------------------------------------------------------------------------- implementations

const memoryRecords: SinkImplementation<OutgoingRecord> = {
  name: 'memory record sink',
  buffers: false,
  closeFlushes: true,
  stoppable: false,
  async make() {
    const transport = memoryTransport()
    const topic = uniqueName('contract')
    return {
      sink: transport.sink({ clientId: 'contract' }),
      item: (n) => ({ topic, key: null, value: Buffer.from(String(n)) }),
      written: async () => transport.broker.all(topic).map((r) => Number(r.value?.toString())),
    }
  },
}

/** A private server with an ACL user that may publish only to `ok:*`, so `forbidden:*` is refused (NOPERM). */
function redisPublish(): SinkImplementation<RedisMessage> {
  let server: RedisServer
  const user = { username: 'weir', password: 'weir-secret' }
  return {
    name: 'redis PUBLISH (ACL user)',
    buffers: true,
    closeFlushes: false,
    stoppable: true,
    async setup(cleanup) {
      server = await startRedisServer(cleanup, [
        '--user',
        user.username,
        'on',
        `>${user.password}`,
        '~*',
        'resetchannels',
        '&ok:*',
        '+@all',
      ])
    },
    async make(cleanup, options = {}) {
      const channel = `ok:${uniqueName('contract')}`
      const got: number[] = []
      const subscriber = new Redis({ port: server.port, maxRetriesPerRequest: null, retryStrategy: () => 50 })
      subscriber.on('error', () => {})
      subscriber.on('message', (_ch: string, message: string) => got.push(Number(message)))
      await subscriber.subscribe(channel)
      const admin = new Redis({ port: server.port, retryStrategy: () => 50 })
      admin.on('error', () => {})
      const sink = redisPublishSink({
        port: server.port,
        ...user,
        name: 'contract',
        flushTimeoutMs: 1000,
        connectTimeoutMs: 2000,
        maxReconnectDelayMs: 200,
        onRejected: options.onRejected,
      })
      cleanup(async () => {
        await sink.close()
        subscriber.disconnect()
        admin.disconnect()
      })
      return {
        sink,
        item: (n) => ({ channel, message: String(n) }),
        async written(expected) {
          await eventually(() => got.length >= expected, 3000).catch(() => {})
          await sleep(expected === 0 ? 200 : 20)
          return [...got]
        },
        outage: {
          down: () => server.stop(),
          async up() {
            await server.start()
            // Pub/sub keeps nothing: wait until the subscriber is back before anything is published.
            await eventually(async () => {
              const reply = (await admin.call('PUBSUB', 'NUMSUB', channel)) as [string, number]
              return Number(reply[1]) >= 1
            })
          },
        },
      }
    },
    refused: (n) => ({ channel: 'forbidden:contract', message: String(n) }),
    async unreachable(cleanup) {
      const sink = redisPublishSink({ port: await freePort(), connectTimeoutMs: 500, flushTimeoutMs: 500 })
      cleanup(() => sink.close())
      return { sink, item: { channel: 'ok:nowhere', message: '0' } }
    },
  }
}

/** XADD to one stream (read back with XRANGE); the server keeps an append-only file so data outlives a restart. */
function redisCommands(): SinkImplementation<RedisCommand> {
  let server: RedisServer
  const wrongType = 'contract:a-string'
  return {
    name: 'redis commands (XADD)',
    buffers: true,
    closeFlushes: false,
    stoppable: true,
    async setup(cleanup) {
      server = await startRedisServer(cleanup, ['--appendonly', 'yes', '--appendfsync', 'always'])
    },
    async make(cleanup, options = {}) {
      const key = `contract:${uniqueName('stream')}`
      const admin = new Redis({ port: server.port, retryStrategy: () => 50 })
      admin.on('error', () => {})
      await admin.set(wrongType, 'not a stream')
      const sink = redisCommandSink({
        port: server.port,
        name: 'contract-commands',
        flushTimeoutMs: 1000,
        maxReconnectDelayMs: 200,
        onRejected: options.onRejected,
      })
      cleanup(async () => {
        await sink.close()
        admin.disconnect()
      })
      return {
        sink,
        item: (n) => ({ op: 'xadd', key, fields: { n: String(n) } }),
        async written() {
          const entries = (await admin.xrange(key, '-', '+')) as Array<[string, string[]]>
          return entries.map(([, fields]) => Number(fields[1]))
        },
        outage: {
          down: () => server.stop(),
          async up() {
            await server.start()
            await eventually(async () => (await admin.ping()) === 'PONG')
          },
        },
      }
    },
    refused: (n) => ({ op: 'xadd', key: wrongType, fields: { n: String(n) } }),
  }
}

/** Through a TCP proxy the test can cut, so PostgreSQL "goes down" without stopping the shared server. */
const postgresRows: SinkImplementation<Row> = {
  name: 'postgres upsert',
  buffers: true,
  closeFlushes: false,
  stoppable: true,
  async make(cleanup, options = {}) {
    const table = await pgTable(
      cleanup,
      (t) => `CREATE TABLE ${t} (seq int PRIMARY KEY, payload text NOT NULL)`,
    )
    const proxy = await tcpProxy(cleanup, pgConnection())
    const sink = postgresSink({
      ...pgConnection(),
      port: proxy.port,
      table,
      columns: ['seq', 'payload'],
      conflict: { key: ['seq'], update: 'replace' },
      connectTimeoutMs: 1000,
      onRejected: options.onRejected,
    })
    cleanup(() => sink.close())
    return {
      sink,
      item: (n) => ({ seq: n, payload: `item-${n}` }),
      written: async () =>
        (await pgQuery<{ seq: number }>(`SELECT seq FROM "${table}" ORDER BY seq`)).map((r) => r.seq),
      outage: { down: () => proxy.cut(), up: () => proxy.restore() },
    }
  },
  refused: (n) => ({ seq: n, payload: null }),
  async unreachable(cleanup) {
    const sink = postgresSink({
      ...pgConnection(),
      port: await freePort(),
      table: 'nowhere',
      columns: ['seq'],
      connectTimeoutMs: 1000,
    })
    cleanup(() => sink.close())
    return { sink, item: { seq: 0, payload: 'x' } }
  },
}

/** The shared broker; the outage goes through the proxied listener (one proxy at a time: port 9096 is fixed). */
const kafkaRecords: SinkImplementation<OutgoingRecord> = {
  name: 'kafka record sink',
  buffers: true,
  closeFlushes: true,
  stoppable: true,
  async setup() {
    assert.ok(await kafkaAvailable(), 'Kafka is not reachable: run `bash scripts/services.sh up kafka`')
  },
  async make(cleanup) {
    const topic = await createTopic({ after: cleanup })
    const proxy = await kafkaProxy({ after: cleanup })
    const kafka = testKafka({ brokers: proxy.brokers, requestTimeoutMs: 1000, connectTimeoutMs: 1000 })
    const sink = kafka.sink({ clientId: kafkaName('contract') })
    cleanup(() => sink.close())
    return {
      sink,
      item: (n) => ({ topic, partition: 0, key: null, value: Buffer.from(String(n)) }),
      async written() {
        const out: number[] = []
        for await (const batch of testKafka().readPartition({ topic, partition: 0 })) {
          for (const r of batch) out.push(Number(r.value?.toString()))
        }
        return out
      },
      outage: { down: () => proxy.cut(), up: () => proxy.restore() },
    }
  },
  async unreachable(cleanup) {
    const kafka = testKafka({
      brokers: [`127.0.0.1:${await freePort()}`],
      requestTimeoutMs: 1000,
      connectTimeoutMs: 500,
    })
    const sink = kafka.sink({ clientId: kafkaName('nowhere') })
    cleanup(() => sink.close())
    return { sink, item: { topic: 'nowhere', partition: 0, key: null, value: Buffer.from('0') } }
  },
}

/**
 * Parquet files on a private tmpfs, closed at every checkpoint (the contract's flush = durable); the
 * outage is a full disk. Without permission to mount (not root) the outage case is reported as todo.
 */
const mountable = await canMount()
const parquetFiles: SinkImplementation<ParquetItem> = {
  name: 'parquet files (roll on checkpoint)',
  buffers: true,
  closeFlushes: true,
  stoppable: true,
  knownGaps: mountable ? {} : { outage: 'needs permission to mount a tmpfs (run as root) to fill a disk' },
  async make(cleanup) {
    const disk = mountable ? await smallDisk(cleanup, 4) : undefined
    const dir = disk?.dir ?? (await tempDir(cleanup))
    const sink = parquetSink({
      name: 'contract',
      fileSystem: localFileSystem(dir),
      directory: 'data',
      columns: [
        { name: 'n', type: 'int' },
        { name: 'at', type: 'timestamp' },
      ],
      eventTime: (row) => Number(row.at),
      rollOnCheckpoint: true,
    })
    cleanup(() => sink.close().catch(() => {}))
    return {
      sink,
      item: (n) => ({
        origin: { topic: 'contract', partition: 0, offset: n },
        row: { n, at: 1_760_000_000_000 + n },
      }),
      written: async () => (await readArchive(dir)).map((r) => Number(r.row.n)),
      ...(disk ? { outage: { down: () => disk.fill(), up: () => disk.free() } } : {}),
    }
  },
}

contract(memoryRecords)
contract(redisPublish())
contract(redisCommands())
contract(postgresRows)
contract(kafkaRecords)
contract(parquetFiles)

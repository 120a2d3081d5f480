/**
 * The pgvector VectorStore and the embedding sink against the real PostgreSQL on 127.0.0.1:5432 with
 * pgvector (scripts/pgvector.sh) and the real all-MiniLM-L6-v2: tables and HNSW indexes, idempotent
 * upserts, nearest-first search with cosine scores, width checks, and a store outage (through a TCP proxy
 * the test cuts) that keeps every record until PostgreSQL is back.
 */
import assert from 'node:assert/strict'
import { before, describe, it, type TestContext } from 'node:test'
import { EmbeddingSink } from '../../src/connectors/vector/embedding-sink.ts'
import { PgVectorStore, type PgVectorStoreOptions } from '../../src/connectors/vector/pgvector.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { cosine, SentenceEmbedder } from '../../src/embeddings/index.ts'
import { createMetrics } from '../../src/ops/metrics.ts'
import {
  type Cleanup,
  eventually,
  pgConnection,
  pgQuery,
  suiteCleanup,
  tcpProxy,
  testCleanup,
  uniqueName,
} from './helpers/services.ts'

function url(port = pgConnection().port): string {
  const c = pgConnection()
  return `postgres://${c.user}@${c.host}:${port}/${c.database}`
}

/** A schema of its own, dropped with everything in it when the test ends. */
function schemaFor(cleanup: Cleanup): string {
  const schema = uniqueName('vec').replaceAll('-', '_')
  cleanup(() => pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
  return schema
}

async function openStore(
  cleanup: Cleanup,
  options: Partial<PgVectorStoreOptions> & { schema: string },
): Promise<PgVectorStore> {
  const store = new PgVectorStore({
    connectionString: url(),
    collections: ['SocialPost', 'MarketOrder'],
    dimensions: 384,
    ...options,
  })
  cleanup(() => store.close())
  await store.open()
  return store
}

describe('pgvector store', () => {
  const suite = suiteCleanup()
  let embedder: SentenceEmbedder
  before(async () => {
    embedder = await SentenceEmbedder.load({ model: 'sentence-transformers/all-MiniLM-L6-v2' })
    suite(() => embedder.close())
  })

  const texts = {
    phone: 'Xiaomi Redmi 13C budget android smartphone, sale price in Dhaka',
    saree: 'Handwoven Jamdani saree for Eid, cash on delivery',
    rice: 'Miniket rice 25 kg sack delivered in Chittagong',
  }
  async function objects() {
    const ids = Object.keys(texts) as Array<keyof typeof texts>
    const vectors = await embedder.embed(ids.map((id) => texts[id]))
    return ids.map((id, i) => ({
      id,
      text: texts[id],
      vector: vectors[i]!,
      properties: { post_id: id, content: texts[id] },
    }))
  }

  it('creates each collection as a vector(384) table with an HNSW cosine index, and opens again idempotently', async (t) => {
    const cleanup = testCleanup(t)
    const schema = schemaFor(cleanup)
    await openStore(cleanup, { schema })
    await openStore(cleanup, { schema })
    const cols = await pgQuery<{ table_name: string; type: string }>(
      `SELECT c.relname AS table_name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attname = 'embedding' ORDER BY 1`,
      [schema],
    )
    assert.deepEqual(cols, [
      { table_name: 'MarketOrder', type: 'vector(384)' },
      { table_name: 'SocialPost', type: 'vector(384)' },
    ])
    const indexes = await pgQuery<{ indexdef: string }>(
      'SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexdef LIKE $2',
      [schema, '%hnsw%'],
    )
    assert.equal(indexes.length, 2)
    for (const i of indexes) assert.match(i.indexdef, /USING hnsw \(embedding vector_cosine_ops\)/)
  })

  it('upserts by id: writing the same objects again leaves one row each, with the newest values', async (t) => {
    const cleanup = testCleanup(t)
    const store = await openStore(cleanup, { schema: schemaFor(cleanup) })
    const objs = await objects()
    await store.upsert('SocialPost', objs)
    await store.upsert('SocialPost', objs)
    assert.equal(await store.count('SocialPost'), 3)
    await store.upsert('SocialPost', [
      { ...objs[0]!, text: 'edited', properties: { post_id: 'phone', edited: true } },
    ])
    assert.equal(await store.count('SocialPost'), 3)
    const [hit] = await store.search('SocialPost', objs[0]!.vector, { limit: 1 })
    assert.deepEqual(
      [hit!.id, hit!.text, hit!.properties],
      ['phone', 'edited', { post_id: 'phone', edited: true }],
    )
  })

  it('searches nearest first, scoring by cosine similarity', async (t) => {
    const cleanup = testCleanup(t)
    const store = await openStore(cleanup, { schema: schemaFor(cleanup) })
    const objs = await objects()
    await store.upsert('SocialPost', objs)
    const [query] = await embedder.embed(['cheap android phone in dhaka'])
    const hits = await store.search('SocialPost', query!, { limit: 3 })
    assert.deepEqual(
      hits.map((h) => h.id),
      [
        'phone',
        ...['saree', 'rice'].sort(
          (a, b) =>
            cosine(query!, objs.find((o) => o.id === b)!.vector) -
            cosine(query!, objs.find((o) => o.id === a)!.vector),
        ),
      ],
    )
    for (const h of hits) {
      const expected = cosine(query!, objs.find((o) => o.id === h.id)!.vector)
      assert.ok(Math.abs(h.score - expected) < 1e-4, `${h.id}: ${h.score} vs ${expected}`)
    }
    assert.deepEqual(await store.search('MarketOrder', query!, { limit: 3 }), [])
  })

  it('stores text with NUL characters (which PostgreSQL refuses) without them, instead of failing the batch', async (t) => {
    const cleanup = testCleanup(t)
    const store = await openStore(cleanup, { schema: schemaFor(cleanup) })
    const [o] = await objects()
    await store.upsert('MarketOrder', [
      { ...o!, text: 'a\u0000b', properties: { note: 'x\u0000y', nested: { v: ['\u0000'] } } },
    ])
    const [hit] = await store.search('MarketOrder', o!.vector, { limit: 1 })
    assert.deepEqual([hit!.text, hit!.properties], ['ab', { note: 'xy', nested: { v: [''] } }])
  })

  it('refuses to open on a table made for another vector width, naming the schema setting', async (t) => {
    const cleanup = testCleanup(t)
    const schema = schemaFor(cleanup)
    await openStore(cleanup, { schema, dimensions: 8, collections: ['SocialPost'] })
    await assert.rejects(
      openStore(cleanup, { schema, collections: ['SocialPost'] }),
      (err: unknown) =>
        err instanceof WeirError &&
        err.code === ErrorCode.CONFIG_INVALID &&
        /vector\(8\)/.test(err.message) &&
        /PGVECTOR_SCHEMA/.test(err.message),
    )
  })
})

describe('embedding sink', () => {
  const suite = suiteCleanup()
  let embedder: SentenceEmbedder
  before(async () => {
    embedder = await SentenceEmbedder.load({ model: 'sentence-transformers/all-MiniLM-L6-v2' })
    suite(() => embedder.close())
  })

  const item = (i: number) => ({
    collection: i % 2 === 0 ? 'SocialPost' : 'MarketOrder',
    id: `id-${i}`,
    text: `record number ${i} about phones and sarees`,
    properties: { i },
  })

  async function sinkOn(t: TestContext, port?: number, batchSize = 10, before?: () => Promise<void>) {
    const cleanup = testCleanup(t)
    const schema = schemaFor(cleanup)
    const store = new PgVectorStore({
      connectionString: url(port),
      schema,
      collections: ['SocialPost', 'MarketOrder'],
      dimensions: 384,
      connectTimeoutMs: 1000,
    })
    const sink = new EmbeddingSink({ embedder, store, batchSize, metrics: createMetrics() })
    cleanup(() => sink.close())
    await before?.()
    await sink.open()
    const rows = async () =>
      Number(
        (
          await pgQuery<{ n: string }>(
            `SELECT (SELECT count(*) FROM "${schema}"."SocialPost") + (SELECT count(*) FROM "${schema}"."MarketOrder") AS n`,
          )
        )[0]!.n,
      )
    return { sink, rows }
  }

  it('stores a full batch at once, in the background, and a partial batch only at the flush', async (t) => {
    const { sink, rows } = await sinkOn(t, undefined, 10)
    for (let i = 0; i < 13; i++) sink.add(item(i))
    await eventually(async () => (await rows()) === 10, 20_000)
    assert.equal(sink.backlog(), 3)
    assert.equal(await rows(), 10)
    await sink.flush()
    assert.equal(await rows(), 13)
    assert.equal(sink.backlog(), 0)
    assert.deepEqual(
      { embedded: sink.stats().embedded, stored: sink.stats().stored },
      { embedded: 13, stored: 13 },
    )
  })

  it('keeps every record while PostgreSQL is unreachable (flush rejects, status says why) and stores them once it is back', async (t) => {
    const proxy = await tcpProxy(testCleanup(t), { host: pgConnection().host, port: pgConnection().port })
    const { sink, rows } = await sinkOn(t, proxy.port, 100)
    for (let i = 0; i < 5; i++) sink.add(item(i))
    await proxy.cut()
    await assert.rejects(
      sink.flush(),
      (err: unknown) => err instanceof WeirError && err.code === ErrorCode.SINK_UNAVAILABLE,
    )
    assert.equal(sink.status().connected, false)
    assert.equal(sink.backlog(), 5)
    sink.add(item(5))
    await assert.rejects(sink.flush())
    assert.equal(sink.backlog(), 6)
    await proxy.restore()
    await eventually(
      async () => {
        await sink.flush()
        return true
      },
      20_000,
      200,
    )
    assert.equal(await rows(), 6)
    assert.equal(sink.status().connected, true)
    assert.equal(sink.stats().embedded, 6, 'records embedded before the outage are not embedded again')
    assert.ok(sink.writeSuccessRate() < 1)
  })

  it('keeps every record of several batches embedded while earlier ones fail to store, and stores each once when PostgreSQL is back', async (t) => {
    const proxy = await tcpProxy(testCleanup(t), { host: pgConnection().host, port: pgConnection().port })
    const { sink, rows } = await sinkOn(t, proxy.port, 10)
    await proxy.cut()
    // Three full batches go in the background (each stored while the next is embedded), five wait.
    for (let i = 0; i < 35; i++) sink.add(item(i))
    await assert.rejects(sink.flush())
    assert.equal(sink.backlog(), 35)
    await proxy.restore()
    await eventually(
      async () => {
        await sink.flush()
        return true
      },
      20_000,
      200,
    )
    assert.equal(await rows(), 35)
    assert.equal(sink.backlog(), 0)
    assert.deepEqual(
      { embedded: sink.stats().embedded, stored: sink.stats().stored },
      { embedded: 35, stored: 35 },
    )
  })

  it('starts while PostgreSQL is unreachable (status says why) and creates its tables and stores once it answers', async (t) => {
    const proxy = await tcpProxy(testCleanup(t), { host: pgConnection().host, port: pgConnection().port })
    const { sink, rows } = await sinkOn(t, proxy.port, 100, () => proxy.cut())
    assert.equal(sink.status().connected, false)
    assert.match(sink.status().message ?? '', /ECONNREFUSED|connect/)
    sink.add(item(1))
    await assert.rejects(
      sink.flush(),
      (err: unknown) => err instanceof WeirError && err.code === ErrorCode.SINK_UNAVAILABLE,
    )
    await proxy.restore()
    await sink.flush()
    assert.equal(await rows(), 1)
    assert.equal(sink.status().connected, true)
  })
})

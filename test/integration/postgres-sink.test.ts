/**
 * The PostgreSQL sink beyond the shared contract (connector-contract.test.ts): upsert modes and replay,
 * statement building (parameter limit, DEFAULT, quoting), bad rows, config checks at open, a dropped
 * table, terminated connections, metrics. Against the real server on 127.0.0.1:5432.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import pg from 'pg'
import { type PostgresSinkOptions, postgresSink, type Row } from '../../src/connectors/postgres/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { createMetrics } from '../../src/ops/metrics.ts'
import { eventually, pgConnection, pgQuery, pgTable, testCleanup, uniqueName } from './helpers/services.ts'

const WINDOWS = (t: string) =>
  `CREATE TABLE ${t} (window_start timestamptz NOT NULL, region text NOT NULL, downloads int NOT NULL,
     failed int NOT NULL DEFAULT 0, note text, PRIMARY KEY (window_start, region))`

async function sinkFor(
  t: TestContext,
  options: Omit<PostgresSinkOptions, 'host' | 'port' | 'user' | 'database'>,
) {
  const sink = postgresSink({ ...pgConnection(), ...options })
  testCleanup(t)(() => sink.close())
  await sink.open()
  return sink
}

const w0 = new Date('2026-01-28T19:15:00Z')
const w1 = new Date('2026-01-28T19:16:00Z')

async function rows(table: string, order = 'window_start, region'): Promise<Record<string, unknown>[]> {
  return pgQuery(`SELECT * FROM "${table}" ORDER BY ${order}`)
}

describe('postgres sink: upserts', () => {
  it("makes a replayed window result idempotent with update 'replace', the newest values winning", async (t) => {
    const table = await pgTable(testCleanup(t), WINDOWS)
    const sink = await sinkFor(t, {
      table,
      columns: ['window_start', 'region', 'downloads', 'failed'],
      conflict: { key: ['window_start', 'region'], update: 'replace' },
    })
    const results = [
      { window_start: w0, region: 'eu', downloads: 150, failed: 10 },
      { window_start: w0, region: 'us', downloads: 90, failed: 5 },
      { window_start: w1, region: 'eu', downloads: 7, failed: 0 },
    ]
    for (const r of results) sink.add(r)
    await sink.flush()
    const first = await rows(table)
    // A crash before the offset commit: the same results are computed and written again.
    for (const r of results) sink.add(r)
    await sink.flush()
    assert.deepEqual(await rows(table), first)
    // A late record updates a window: the new row replaces the old values.
    sink.add({ window_start: w0, region: 'eu', downloads: 151, failed: 10 })
    await sink.flush()
    const eu = (await rows(table))[0]
    assert.equal(eu?.downloads, 151)
    assert.equal((await rows(table)).length, 3)
  })

  it('writes one key twice in one flush without "cannot affect row a second time": the later row wins', async (t) => {
    const table = await pgTable(testCleanup(t), WINDOWS)
    const sink = await sinkFor(t, {
      table,
      columns: ['window_start', 'region', 'downloads'],
      conflict: { key: ['window_start', 'region'], update: 'replace' },
    })
    for (let i = 1; i <= 5; i++) sink.add({ window_start: w0, region: 'eu', downloads: i })
    sink.add({ window_start: w0, region: 'us', downloads: 1 })
    await sink.flush()
    assert.deepEqual(
      (await rows(table)).map((r) => [r.region, r.downloads]),
      [
        ['eu', 5],
        ['us', 1],
      ],
    )
  })

  it("keeps the first row with update 'ignore'", async (t) => {
    const table = await pgTable(testCleanup(t), WINDOWS)
    const sink = await sinkFor(t, {
      table,
      columns: ['window_start', 'region', 'downloads'],
      conflict: { key: ['window_start', 'region'], update: 'ignore' },
    })
    sink.add({ window_start: w0, region: 'eu', downloads: 1 })
    sink.add({ window_start: w0, region: 'eu', downloads: 2 })
    await sink.flush()
    sink.add({ window_start: w0, region: 'eu', downloads: 3 })
    await sink.flush()
    assert.equal((await rows(table))[0]?.downloads, 1)
  })

  it("adds per column with { col: 'add' } and leaves unlisted columns alone (not idempotent on replay)", async (t) => {
    const table = await pgTable(testCleanup(t), WINDOWS)
    const sink = await sinkFor(t, {
      table,
      columns: ['window_start', 'region', 'downloads', 'failed', 'note'],
      conflict: { key: ['window_start', 'region'], update: { downloads: 'add', note: 'replace' } },
    })
    sink.add({ window_start: w0, region: 'eu', downloads: 10, failed: 1, note: 'a' })
    sink.add({ window_start: w0, region: 'eu', downloads: 5, failed: 9, note: 'b' })
    await sink.flush()
    sink.add({ window_start: w0, region: 'eu', downloads: 1, failed: 9, note: 'c' })
    await sink.flush()
    const [r] = await rows(table)
    assert.deepEqual([r?.downloads, r?.failed, r?.note], [16, 1, 'c'])
  })

  it('without conflict a duplicate key is a rejected row, not a silent overwrite', async (t) => {
    const table = await pgTable(testCleanup(t), WINDOWS)
    const rejected: Row[] = []
    const sink = await sinkFor(t, {
      table,
      columns: ['window_start', 'region', 'downloads'],
      onRejected: (row) => {
        rejected.push(row)
      },
    })
    sink.add({ window_start: w0, region: 'eu', downloads: 1 })
    sink.add({ window_start: w0, region: 'eu', downloads: 2 })
    await sink.flush()
    assert.equal((await rows(table)).length, 1)
    assert.equal(rejected.length, 1)
  })
})

describe('postgres sink: statements', () => {
  it('splits a flush into statements under 65,535 parameters, all in one transaction', async (t) => {
    const cols = Array.from({ length: 10 }, (_, i) => `c${i}`)
    const table = await pgTable(
      testCleanup(t),
      (n) => `CREATE TABLE ${n} (id int PRIMARY KEY, ${cols.map((c) => `${c} int`).join(', ')})`,
    )
    const sink = await sinkFor(t, { table, columns: ['id', ...cols], batchSize: 100_000 })
    for (let id = 0; id < 8000; id++)
      sink.add(Object.fromEntries([['id', id], ...cols.map((c, i) => [c, id + i])]))
    await sink.flush()
    const [r] = await pgQuery<{ n: string; s: string }>(`SELECT count(*) AS n, sum(c9) AS s FROM "${table}"`)
    assert.equal(Number(r?.n), 8000)
    assert.equal(Number(r?.s), (7999 * 8000) / 2 + 9 * 8000)
  })

  it('writes undefined as the column DEFAULT and null as NULL', async (t) => {
    const table = await pgTable(testCleanup(t), WINDOWS)
    const sink = await sinkFor(t, {
      table,
      columns: ['window_start', 'region', 'downloads', 'failed', 'note'],
    })
    sink.add({ window_start: w0, region: 'eu', downloads: 1, note: null })
    await sink.flush()
    const [r] = await rows(table)
    assert.equal(r?.failed, 0)
    assert.equal(r?.note, null)
  })

  it('quotes every identifier: odd table and column names, reserved words, a schema', async (t) => {
    const c = testCleanup(t)
    const schema = uniqueName('weir_s')
    c(() => pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
    const name = 'Odd "Table"; DROP TABLE x; --'
    const quoted = `"${schema}"."${name.replaceAll('"', '""')}"`
    await pgQuery(`CREATE SCHEMA "${schema}"`)
    await pgQuery(`CREATE TABLE ${quoted} ("select" int PRIMARY KEY, "Mixed Case" text, "a""b" text)`)
    const sink = await sinkFor(t, {
      table: { schema, name },
      columns: ['select', 'Mixed Case', 'a"b'],
      conflict: { key: ['select'], update: 'replace' },
    })
    sink.add({ select: 1, 'Mixed Case': 'x', 'a"b': "it's" })
    sink.add({ select: 1, 'Mixed Case': 'y', 'a"b': "it's" })
    await sink.flush()
    assert.deepEqual(await pgQuery(`SELECT * FROM ${quoted}`), [
      { select: 1, 'Mixed Case': 'y', 'a"b': "it's" },
    ])
  })

  it('refuses a dotted table string, asking for { schema, name }', () => {
    assert.throws(
      () => postgresSink({ ...pgConnection(), table: 'analytics.content_stats', columns: ['a'] }),
      (err) =>
        err instanceof WeirError && err.code === ErrorCode.CONFIG_INVALID && /schema, name/.test(err.message),
    )
  })

  it('checks conflict options against the columns before connecting', () => {
    const base = { ...pgConnection(), table: 't', columns: ['a', 'b'] }
    assert.throws(
      () => postgresSink({ ...base, conflict: { key: ['c'], update: 'replace' } }),
      /conflict.key: "c" is not in columns/,
    )
    assert.throws(
      () => postgresSink({ ...base, conflict: { key: ['a'], update: { a: 'add' } } }),
      /part of the conflict key/,
    )
    assert.throws(() => postgresSink({ ...base, columns: [] }), /columns/)
  })
})

describe('postgres sink: open', () => {
  it('runs createTable, then is ready to write', async (t) => {
    const c = testCleanup(t)
    const table = uniqueName('weir_created')
    c(() => pgQuery(`DROP TABLE IF EXISTS "${table}"`))
    const sink = await sinkFor(t, {
      table,
      columns: ['id', 'v'],
      conflict: { key: ['id'], update: 'replace' },
      createTable: `CREATE TABLE IF NOT EXISTS "${table}" (id int PRIMARY KEY, v text)`,
    })
    sink.add({ id: 1, v: 'x' })
    await sink.flush()
    assert.deepEqual(await pgQuery(`SELECT * FROM "${table}"`), [{ id: 1, v: 'x' }])
  })

  it('fails open with CONFIG_INVALID for a missing table, a missing column, or a conflict key without a unique index', async (t) => {
    const table = await pgTable(testCleanup(t), (n) => `CREATE TABLE ${n} (id int, v text)`)
    const cases: Array<[Omit<PostgresSinkOptions, 'host' | 'port' | 'user' | 'database'>, RegExp]> = [
      [{ table: uniqueName('weir_missing'), columns: ['id'] }, /does not exist/],
      [{ table, columns: ['id', 'nope'] }, /column "nope"/],
      [
        { table, columns: ['id', 'v'], conflict: { key: ['id'], update: 'replace' } },
        /no unique or exclusion constraint/,
      ],
    ]
    for (const [options, message] of cases) {
      const sink = postgresSink({ ...pgConnection(), ...options })
      await assert.rejects(sink.open(), (err) => {
        assert.ok(err instanceof WeirError)
        assert.equal(err.code, ErrorCode.CONFIG_INVALID)
        assert.match(err.message, message)
        return true
      })
      await sink.close()
    }
  })
})

describe('postgres sink: bad rows', () => {
  const TABLE = (t: string) =>
    `CREATE TABLE ${t} (id int PRIMARY KEY, qty int NOT NULL CHECK (qty >= 0), label varchar(5))`

  it('isolates a few bad rows among many, hands each to onRejected with its SQLSTATE, and commits the rest', async (t) => {
    const table = await pgTable(testCleanup(t), TABLE)
    const rejected: Array<{ row: Row; err: WeirError }> = []
    const metrics = createMetrics({ processMetrics: false })
    const sink = await sinkFor(t, {
      table,
      name: 'orders',
      metrics,
      columns: ['id', 'qty', 'label'],
      onRejected: (row, err) => {
        rejected.push({ row, err })
      },
    })
    const bad = new Map<number, unknown>([
      [17, { qty: null }], // 23502 not null
      [230, { qty: -1 }], // 23514 check
      [231, { label: 'too long' }], // 22001 string too long
      [999, { qty: 'abc' }], // 22P02 invalid text representation
    ])
    for (let id = 0; id < 1000; id++)
      sink.add({ id, qty: id, label: 'ok', ...(bad.get(id) as object | undefined) })
    await sink.flush()

    assert.deepEqual(
      rejected.map((r) => [r.row.id, (r.err.details as { sqlstate: string }).sqlstate]),
      [
        [17, '23502'],
        [230, '23514'],
        [231, '22001'],
        [999, '22P02'],
      ],
    )
    for (const r of rejected) {
      assert.equal(r.err.code, ErrorCode.SINK_REJECTED)
      assert.equal(r.err.retriable, false)
      assert.equal((r.err.details as { table: string }).table, table)
    }
    const [count] = await pgQuery<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`)
    assert.equal(Number(count?.n), 996)
    assert.equal(sink.backlog(), 0)
    assert.deepEqual(
      { written: sink.stats().written, rejected: sink.stats().rejected },
      { written: 996, rejected: 4 },
    )
    const snap = metrics.snapshot() as Record<string, Record<string, unknown>>
    assert.equal(snap.weir_postgres_rows_written_total?.['sink=orders'], 996)
    assert.equal(snap.weir_postgres_rows_rejected_total?.['sink=orders'], 4)
  })

  it('keeps the bad rows when onRejected throws (good rows are committed) and retries them on the next flush', async (t) => {
    const table = await pgTable(testCleanup(t), TABLE)
    let deadLetterUp = false
    const handled: unknown[] = []
    const sink = await sinkFor(t, {
      table,
      columns: ['id', 'qty'],
      onRejected: (row) => {
        if (!deadLetterUp) throw new Error('dead-letter topic unavailable')
        handled.push(row.id)
      },
    })
    sink.add({ id: 1, qty: 1 })
    sink.add({ id: 2, qty: null })
    sink.add({ id: 3, qty: 3 })
    await assert.rejects(
      sink.flush(),
      (err) => err instanceof WeirError && /dead-letter topic unavailable/.test(err.message),
    )
    assert.equal(sink.backlog(), 1)
    assert.deepEqual(
      (await pgQuery(`SELECT id FROM "${table}" ORDER BY id`)).map((r) => r.id),
      [1, 3],
    )
    deadLetterUp = true
    await sink.flush()
    assert.deepEqual(handled, [2])
    assert.equal(sink.backlog(), 0)
  })
})

describe('postgres sink: failures of the database', () => {
  it('keeps the rows with SINK_REJECTED when the table disappears, and writes them once it is back', async (t) => {
    const table = await pgTable(testCleanup(t), (n) => `CREATE TABLE ${n} (id int PRIMARY KEY)`)
    const sink = await sinkFor(t, { table, columns: ['id'] })
    await pgQuery(`DROP TABLE "${table}"`)
    sink.add({ id: 1 })
    await assert.rejects(sink.flush(), (err) => {
      assert.ok(err instanceof WeirError)
      assert.equal(err.code, ErrorCode.SINK_REJECTED)
      assert.equal(err.retriable, false)
      assert.match(err.message, /does not exist/)
      return true
    })
    assert.equal(sink.backlog(), 1)
    assert.equal(sink.status().connected, true, 'the server is up; the SQL is what fails')
    await pgQuery(`CREATE TABLE "${table}" (id int PRIMARY KEY)`)
    await sink.flush()
    assert.deepEqual(await pgQuery(`SELECT id FROM "${table}"`), [{ id: 1 }])
  })

  it('survives its connections being terminated by the server (restart, failover, idle kill)', async (t) => {
    const table = await pgTable(testCleanup(t), (n) => `CREATE TABLE ${n} (id int PRIMARY KEY)`)
    const name = uniqueName('victim')
    const sink = await sinkFor(t, { table, columns: ['id'], name })
    sink.add({ id: 1 })
    await sink.flush()
    const killed = await pgQuery<{ ok: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
      [`weir:${name}`],
    )
    assert.ok(killed.length >= 1, 'the sink had a pooled connection')
    sink.add({ id: 2 })
    // The pool drops the dead idle connection; at worst one flush fails as unavailable, none loses a row.
    await eventually(
      async () => {
        await sink.flush().catch((err: unknown) => {
          assert.ok(err instanceof WeirError && err.code === ErrorCode.SINK_UNAVAILABLE)
          throw err
        })
      },
      5000,
      50,
    )
    assert.deepEqual(
      (await pgQuery(`SELECT id FROM "${table}" ORDER BY id`)).map((r) => r.id),
      [1, 2],
    )
    assert.equal(sink.status().connected, true)
  })

  it('serialises flushes: rows added during a flush are written by the next one', async (t) => {
    const table = await pgTable(testCleanup(t), (n) => `CREATE TABLE ${n} (id int PRIMARY KEY)`)
    const sink = await sinkFor(t, { table, columns: ['id'] })
    for (let id = 0; id < 100; id++) sink.add({ id })
    const first = sink.flush()
    sink.add({ id: 100 })
    assert.equal(sink.backlog(), 101)
    const second = sink.flush()
    await first
    await second
    const [r] = await pgQuery<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`)
    assert.equal(Number(r?.n), 101)
  })

  it('writes through a shared pool and leaves it open on close', async (t) => {
    const table = await pgTable(testCleanup(t), (n) => `CREATE TABLE ${n} (id int PRIMARY KEY)`)
    const pool = new pg.Pool({ ...pgConnection(), max: 1 })
    testCleanup(t)(() => pool.end())
    const sink = postgresSink({ pool, table, columns: ['id'] })
    await sink.open()
    sink.add({ id: 7 })
    await sink.flush()
    await sink.close()
    assert.deepEqual((await pool.query(`SELECT id FROM "${table}"`)).rows, [{ id: 7 }])
  })
})

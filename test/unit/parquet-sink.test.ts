/**
 * The Parquet sink's exactly-once files on a local directory, read back with hyparquet: what a crash
 * and a replay do, how the commit is held back, date directories, bad rows. (The kill -9 test with
 * Kafka is test/integration/traffic-archive.test.ts.)
 */
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  localFileSystem,
  type ParquetItem,
  type ParquetSink,
  parquetSink,
} from '../../src/connectors/parquet/index.ts'
import { runCheckpoint } from '../../src/runtime/checkpoint.ts'
import { OffsetTracker } from '../../src/runtime/offset-tracker.ts'
import { parquetFiles, readArchive, tempDir } from '../integration/helpers/archive.ts'
import { testCleanup } from '../integration/helpers/services.ts'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 2, 7, 23, 59, 0)

function sinkAt(dir: string, roll: { rows?: number; intervalMs?: number } = {}): ParquetSink {
  return parquetSink({
    name: 'test',
    fileSystem: localFileSystem(dir),
    directory: 'data',
    columns: [
      { name: 'n', type: 'long', nullable: false },
      { name: 'at', type: 'timestamp', nullable: false },
      { name: 'speed', type: 'double' },
    ],
    eventTime: (row) => Number(row.at),
    roll: { rows: roll.rows ?? 1_000_000, intervalMs: roll.intervalMs ?? 3_600_000 },
  })
}

const item = (offset: number, at = T0, partition = 0): ParquetItem => ({
  origin: { topic: 'raw', partition, offset },
  row: { n: offset, at, speed: offset / 2 },
})

async function rowsOf(dir: string): Promise<number[]> {
  return (await readArchive(dir)).map((r) => Number(r.row.n)).sort((a, b) => a - b)
}

describe('parquet sink: exactly-once files', () => {
  it('holds the commit back at the first row of open files, and releases it once they are published', async (t) => {
    const dir = await tempDir(testCleanup(t))
    const sink = sinkAt(dir, { rows: 10 })
    await sink.open()
    for (let o = 0; o < 15; o++) sink.add(item(o))
    await sink.flush() // the first 10 rows rolled; 10..14 are open
    assert.deepEqual(sink.holdback(), [{ topic: 'raw', partition: 0, offset: 10 }])
    assert.deepEqual(await rowsOf(dir), [...Array(10).keys()])
    // The checkpoint commits no further than the held-back offset.
    const tracker = new OffsetTracker()
    for (let o = 0; o < 15; o++) tracker.begin({ topic: 'raw', partition: 0, offset: o } as never, o).done()
    const committed: unknown[] = []
    const producer = { flush: async () => {} } as never
    const offsets = await runCheckpoint({
      tracker,
      sinks: [sink],
      processors: [],
      producer,
      commit: async (o) => void committed.push(...o),
    })
    assert.deepEqual(offsets, [{ topic: 'raw', partition: 0, offset: 10 }])
    await sink.close()
    assert.deepEqual(sink.holdback(), [])
    assert.deepEqual(await rowsOf(dir), [...Array(15).keys()])
  })

  it('after a crash, the replay skips published rows and writes the open ones once', async (t) => {
    const dir = await tempDir(testCleanup(t))
    const first = sinkAt(dir, { rows: 40 })
    await first.open()
    for (let o = 0; o < 100; o++) first.add(item(o))
    await first.flush() // 0..39 and 40..79 published, 80..99 open: the process dies here
    const second = sinkAt(dir, { rows: 40 })
    await second.open()
    for (let o = 0; o < 100; o++) second.add(item(o)) // replayed from the last commit (0)
    await second.close()
    assert.deepEqual(await rowsOf(dir), [...Array(100).keys()])
    assert.deepEqual(await parquetFiles(dir), [
      'data/year=2026/month=03/day=07/raw-0-00000000000000000000.parquet',
      'data/year=2026/month=03/day=07/raw-0-00000000000000000040.parquet',
      'data/year=2026/month=03/day=07/raw-0-00000000000000000080.parquet',
    ])
  })

  it('a crash between publishing files and recording the offset: the replay rewrites the same names', async (t) => {
    const dir = await tempDir(testCleanup(t))
    const first = sinkAt(dir, { rows: 30 })
    await first.open()
    // Two days in one roll: one file per date directory, each named by its own first offset.
    for (let o = 0; o < 30; o++) first.add(item(o, T0 + (o % 3 === 0 ? DAY : 0)))
    await first.flush()
    await rm(join(dir, 'data', '_weir'), { recursive: true }) // the offset record never made it
    const second = sinkAt(dir, { rows: 17 }) // and the replay rolls at other points
    await second.open()
    for (let o = 0; o < 30; o++) second.add(item(o, T0 + (o % 3 === 0 ? DAY : 0)))
    await second.close()
    assert.deepEqual(await rowsOf(dir), [...Array(30).keys()])
    const files = await parquetFiles(dir)
    assert.ok(
      files.some((f) => f.startsWith('data/year=2026/month=03/day=08/raw-0-00000000000000000000')),
      files.join('\n'),
    )
    assert.ok(
      files.some((f) => f.startsWith('data/year=2026/month=03/day=07/raw-0-00000000000000000001')),
      files.join('\n'),
    )
  })

  it('a revoked partition publishes its files at once; other partitions stay open', async (t) => {
    const dir = await tempDir(testCleanup(t))
    const sink = sinkAt(dir)
    await sink.open()
    sink.add(item(0, T0, 0))
    sink.add(item(0, T0, 1))
    await sink.revoked([{ topic: 'raw', partition: 1 }])
    assert.deepEqual(sink.holdback(), [{ topic: 'raw', partition: 0, offset: 0 }])
    assert.equal((await parquetFiles(dir)).length, 1)
    await sink.close()
  })

  it('a row that does not fit its columns throws (the error policy dead-letters it) and leaves the file as it was', async (t) => {
    const dir = await tempDir(testCleanup(t))
    const sink = sinkAt(dir)
    await sink.open()
    sink.add(item(0))
    assert.throws(
      () => sink.add({ origin: { topic: 'raw', partition: 0, offset: 1 }, row: { n: 1, at: 'never' } }),
      /not a date|not a time/,
    )
    assert.throws(
      () =>
        sink.add({ origin: { topic: 'raw', partition: 0, offset: 2 }, row: { n: 2, at: T0, speed: 'fast' } }),
      /speed/,
    )
    sink.add(item(3))
    await sink.close()
    assert.deepEqual(await rowsOf(dir), [0, 3])
  })
})

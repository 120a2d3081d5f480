/**
 * The traffic apps' Parquet archive (seed 002 §2.6) against the shared broker, read back with hyparquet:
 * exactly-once files across kill -9, the seed's directory layout, and a full disk that fails the
 * checkpoint (nothing committed, /health says why) and recovers when space returns.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { trafficApp } from '../../src/apps/traffic/app.ts'
import {
  exited,
  produceGenerated,
  readAll,
  spawnApp,
  startApp,
  totalEnd,
  trafficEnv,
  waitUntil,
} from './helpers/apps.ts'
import { canMount, parquetFiles, readArchive, smallDisk, tempDir } from './helpers/archive.ts'
import { createTopic, deleteTopics, testKafka } from './helpers/kafka.ts'
import { testCleanup } from './helpers/services.ts'

const kafka = testKafka()

/** Committed offsets of a group on `topic`, summed over its partitions. */
async function committedTotal(group: string, topic: string): Promise<number> {
  const admin = kafka.admin()
  try {
    let n = 0
    for (const v of (await admin.committedOffsets(group, [topic])).values()) n += Math.max(0, v)
    return n
  } finally {
    await admin.close()
  }
}

describe('traffic archive: exactly-once Parquet files', { timeout: 240_000 }, () => {
  it('kill -9 under load, restart: the archive holds every valid input row exactly once, in the seed layout', async (t) => {
    const cleanup = testCleanup(t)
    const dir = await tempDir(cleanup)
    const env = trafficEnv('archive-kill', {
      ARCHIVE_DIR: dir,
      ARCHIVE_ROLL_ROWS: '500',
      ARCHIVE_ROLL_INTERVAL: '500ms',
      ARCHIVE_CODEC: 'zstd',
    })
    cleanup(() =>
      deleteTopics([
        env.INPUT_TOPIC,
        env.OUTPUT_TOPIC,
        env.DLQ_TOPIC,
        `${env.GROUP_ID}-dq-duplicate-changelog`,
      ]),
    )
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    const N = 20_000
    const t0 = performance.now()
    const phases: string[] = []
    const phase = (name: string) => phases.push(`${name} ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    // The app starts (a few seconds of module loading) while the input is written.
    const first = spawnApp('traffic', env)
    cleanup(() => first.kill('SIGKILL'))
    await produceGenerated(kafka, trafficApp.generator!({ seed: 21, invalidShare: 0.05 }), env.INPUT_TOPIC, N)
    phase('produced')
    await waitUntil(
      'some archive files before the kill',
      async () => (await parquetFiles(dir)).length >= 3,
      90_000,
      20,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.output()}`)
    })
    first.kill('SIGKILL')
    await exited(first)
    phase('killed')
    const rowsAtKill = (await readArchive(dir)).length

    const second = spawnApp('traffic', env)
    cleanup(async () => {
      second.kill('SIGTERM')
      await exited(second)
    })
    // Every input is in the output or the dead letters (at least once: the kill replays some).
    const idsOf = (rs: Awaited<ReturnType<typeof readAll>>) =>
      new Set(rs.map((r) => r.headers['test-id']!.toString()))
    let validIds = new Set<string>()
    await waitUntil(
      'every input read',
      async () => {
        if ((await totalEnd(kafka, [env.OUTPUT_TOPIC, env.DLQ_TOPIC])) < N) return false
        validIds = idsOf(await readAll(kafka, env.OUTPUT_TOPIC))
        const dead = idsOf(await readAll(kafka, env.DLQ_TOPIC))
        return validIds.size + dead.size >= N
      },
      120_000,
      500,
    )
    const inputs = await readAll(kafka, env.INPUT_TOPIC)
    const expected = new Set(
      inputs
        .filter((r) => validIds.has(r.headers['test-id']!.toString()))
        .map((r) => `${r.partition}@${r.offset}`),
    )
    // Files close every 500 rows or 500 ms; then everything valid is archived.
    let rows: Awaited<ReturnType<typeof readArchive>> = []
    await waitUntil(
      'every valid row archived',
      async () => {
        rows = await readArchive(dir)
        return rows.length >= expected.size
      },
      60_000,
      250,
    )
    phase('archived')
    second.kill('SIGTERM')
    assert.equal((await exited(second)).code, 0, second.output())
    phase('stopped')
    t.diagnostic(phases.join(', '))
    rows = await readArchive(dir)

    t.diagnostic(
      `${N} inputs, ${expected.size} valid; ${rowsAtKill} rows archived at the kill, ${rows.length} at the end in ${(await parquetFiles(dir)).length} files`,
    )
    assert.ok(
      rowsAtKill > 0 && rowsAtKill < expected.size,
      `killed mid-run (${rowsAtKill} of ${expected.size} rows archived)`,
    )
    const seen = new Map<string, number>()
    for (const { row } of rows) {
      const key = `${row.kafka_partition}@${row.kafka_offset}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
    }
    const twice = [...seen].filter(([, n]) => n > 1)
    assert.deepEqual(twice.slice(0, 5), [], `${twice.length} rows archived twice`)
    const missing = [...expected].filter((k) => !seen.has(k))
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} valid rows missing`)
    const extra = [...seen.keys()].filter((k) => !expected.has(k))
    assert.deepEqual(extra.slice(0, 5), [], `${extra.length} rows that are not valid inputs`)

    // Typed columns and the seed's layout: traffic-data/raw/year=YYYY/month=MM/day=DD/, by event time.
    for (const { file, row } of rows.slice(0, 200)) {
      const t0 = row.timestamp as Date
      assert.ok(t0 instanceof Date, 'timestamp is a Parquet timestamp')
      const y = t0.getUTCFullYear()
      const m = String(t0.getUTCMonth() + 1).padStart(2, '0')
      const d = String(t0.getUTCDate()).padStart(2, '0')
      assert.ok(file.startsWith(`traffic-data/raw/year=${y}/month=${m}/day=${d}/`), file)
      assert.match(file, new RegExp(`/${env.INPUT_TOPIC}-${row.kafka_partition}-\\d{20}\\.parquet$`))
      assert.equal(typeof row.speed_mph, 'number')
      assert.equal(typeof row.volume_vph, 'number')
      assert.equal(typeof row.kafka_offset, 'bigint')
      assert.match(String(row.sensor_id), /^METR_LA_\d{3}$/)
    }
  })
})

const mountable = await canMount()

describe('traffic archive: a full disk', { timeout: 120_000 }, () => {
  it(
    'fails the checkpoint (nothing committed, /health says why) and resumes when space returns',
    mountable ? {} : { skip: 'needs permission to mount a tmpfs (run as root)' },
    async (t) => {
      const cleanup = testCleanup(t)
      const disk = await smallDisk(cleanup, 8)
      const env = trafficEnv('archive-full', { ARCHIVE_DIR: disk.dir, ARCHIVE_ROLL_INTERVAL: '200ms' })
      cleanup(() =>
        deleteTopics([
          env.INPUT_TOPIC,
          env.OUTPUT_TOPIC,
          env.DLQ_TOPIC,
          `${env.GROUP_ID}-dq-duplicate-changelog`,
        ]),
      )
      await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
      const service = await startApp(trafficApp, env)
      cleanup(() => service.stop())
      const g = trafficApp.generator!({ seed: 5, invalidShare: 0 })
      await produceGenerated(kafka, g, env.INPUT_TOPIC, 500)
      await waitUntil('first rows archived', async () => (await readArchive(disk.dir)).length === 500, 60_000)

      await disk.fill()
      await produceGenerated(kafka, g, env.INPUT_TOPIC, 500)
      const health = async () => JSON.parse(String((await service.ops!.handle({ url: '/health' })).body))
      await waitUntil(
        '/health reports the archive',
        async () => (await health()).archive_connected === false,
        30_000,
      )
      const h = await health()
      assert.equal(h.status, 'degraded')
      assert.match(h.message, /disk full/)
      // The sink's status turns when its roll fails; the checkpoint that then tries to publish the same
      // file fails at its next interval, not necessarily before this line.
      await waitUntil('the checkpoint fails', async () => service.running.status().checkpointError !== undefined, 10_000)
      assert.equal((await readArchive(disk.dir)).length, 500, 'nothing new is published')
      const committed = await committedTotal(env.GROUP_ID, env.INPUT_TOPIC)
      assert.ok(committed <= 500, `no offset past the archived rows is committed (${committed})`)

      await disk.free()
      await waitUntil(
        'all rows archived after space returns',
        async () => (await readArchive(disk.dir)).length === 1000,
        30_000,
      )
      await waitUntil('/health healthy again', async () => (await health()).status === 'healthy', 30_000)
      const rows = await readArchive(disk.dir)
      assert.equal(new Set(rows.map(({ row }) => `${row.kafka_partition}@${row.kafka_offset}`)).size, 1000)
    },
  )
})

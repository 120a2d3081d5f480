import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import type { RawRecord } from '../../src/core/record.ts'
import { defaultReplayGroup, replayDeadLetters } from '../../src/dlq/index.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { deadLetterRecord, readDeadLetter } from '../../src/runtime/dead-letter.ts'
import { run, type RunningPipeline } from '../../src/runtime/runner.ts'
import { CLI, readAll, testId, totalEnd, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'

const kafka = testKafka()
const exec = promisify(execFile)

interface Item {
  readonly n: number
}

/** `in` → double → `out`; the buggy version throws for multiples of 7. */
function doubler(names: { input: string; output: string }, buggy: boolean) {
  const p = pipeline('replay-test')
  p.stream<Item>(names.input)
    .map(
      (v) => {
        if (buggy && v.n % 7 === 0) throw new Error(`bug: cannot double ${v.n}`)
        return { n: v.n, doubled: v.n * 2 }
      },
      { name: 'double' },
    )
    .to(names.output)
  return p
}

function start(p: ReturnType<typeof doubler>, o: { group: string; dlq: string }): Promise<RunningPipeline> {
  return run(p, {
    transport: kafkaTransport({ brokers: kafkaBrokers(), clientId: 'replay-test' }),
    groupId: o.group,
    deadLetterTopic: o.dlq,
    topics: { partitions: 3 },
    metrics: createMetrics({ processMetrics: false }),
    logger: silentLogger,
  })
}

function countIds(records: readonly RawRecord[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const r of records) m.set(testId(r), (m.get(testId(r)) ?? 0) + 1)
  return m
}

describe('dead-letter replay after a fix (Kafka)', { timeout: 240_000 }, () => {
  const base = uniqueName('replay')
  const names = { input: `${base}-in`, output: `${base}-out`, dlq: `${base}-dlq`, group: `${base}-group` }
  const replayGroup = defaultReplayGroup(names.dlq)
  after(async () => {
    await deleteTopics([names.input, names.output, names.dlq])
    const admin = kafka.admin()
    await admin.deleteGroups([names.group, replayGroup, `${base}-again`])
    await admin.close()
  })

  it('records dead-lettered by a broken stage arrive in the output exactly once per replay run', async (t) => {
    const N = 20_000
    await createTopic(undefined, { name: names.input, partitions: 3 })
    const sink = kafka.sink({ clientId: 'replay-producer' })
    await sink.open()
    for (let n = 0; n < N; n++) {
      sink.add({
        topic: names.input,
        key: Buffer.from(`k${n % 97}`),
        value: Buffer.from(JSON.stringify({ n })),
        headers: { 'test-id': Buffer.from(String(n)), trace: Buffer.from(`t${n}`) },
      })
    }
    await sink.flush()
    await sink.close()
    const broken = [...Array(N).keys()].filter((n) => n % 7 === 0).map(String)

    // 1. The buggy pipeline: multiples of 7 go to the dead-letter topic.
    const v1 = await start(doubler(names, true), names)
    await waitUntil('v1 done', async () => (await totalEnd(kafka, [names.output, names.dlq])) >= N)
    await v1.stop()
    const dead = await readAll(kafka, names.dlq)
    assert.deepEqual([...countIds(dead).keys()].sort(), broken.sort())
    assert.match(readDeadLetter(dead[0]!.headers).message!, /bug: cannot double/)
    assert.equal(readDeadLetter(dead[0]!.headers).code, 'OPERATOR_FAILED')

    // 2. The fixed pipeline, same group: it has nothing new to read until the replay.
    const v2 = await start(doubler(names, false), names)
    t.after(() => v2.stop())

    // 3. Replay, stopped after its first batch (as a crash between batches would), then finished by the CLI.
    const abort = new AbortController()
    const first = await replayDeadLetters({
      transport: kafka,
      topic: names.dlq,
      signal: abort.signal,
      onProgress: () => abort.abort(),
    })
    assert.equal(first.outcome, 'aborted')
    assert.ok(
      first.replayed > 0 && first.replayed < broken.length,
      `a part replayed (${first.replayed} of ${broken.length})`,
    )
    const started = performance.now()
    const cli = await exec(process.execPath, [CLI, 'dlq', 'replay', names.dlq, '--json'], {
      env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(',') },
    })
    const rest = JSON.parse(cli.stdout)
    t.diagnostic(
      `CLI replay of ${rest.replayed} records: ${((performance.now() - started) / 1000).toFixed(2)} s (incl. process start and group join)`,
    )
    assert.equal(rest.outcome, 'completed')
    assert.equal(
      first.replayed + rest.replayed,
      broken.length,
      'the rerun continued where the first run stopped',
    )
    assert.deepEqual(rest.byTarget, { [names.input]: rest.replayed }, 'back to the source topic')
    assert.match(cli.stderr, /\[█+\] 100% /, 'progress lines when not on a terminal')

    await waitUntil('replayed records processed', async () => (await totalEnd(kafka, [names.output])) >= N)
    await new Promise((r) => setTimeout(r, 1500))
    const out = await readAll(kafka, names.output)
    const counts = countIds(out)
    assert.equal(counts.size, N)
    assert.deepEqual(
      [...counts].filter(([, c]) => c !== 1),
      [],
      'every record exactly once in the output',
    )
    const replayed = out.filter((r) => r.headers['weir.replay.count'] !== undefined)
    assert.equal(replayed.length, broken.length)
    for (const r of replayed) {
      assert.equal(r.headers['weir.replay.count']!.toString(), '1')
      assert.match(r.headers['weir.replay.from']!.toString(), new RegExp(`^${names.dlq}:\\d@\\d+$`))
      assert.equal(r.headers.trace!.toString(), `t${testId(r)}`, 'the original headers survive')
      assert.equal(r.headers['weir.error.code'], undefined)
      assert.deepEqual(JSON.parse(r.value!.toString()), {
        n: Number(testId(r)),
        doubled: Number(testId(r)) * 2,
      })
    }

    // 4. Again after completion: nothing new; the replay group is committed at the end of the DLQ.
    const again = await replayDeadLetters({ transport: kafka, topic: names.dlq })
    assert.equal(again.outcome, 'nothing-to-do')
    assert.equal(again.replayed, 0)
    const admin = kafka.admin()
    try {
      assert.deepEqual(
        await admin.committedOffsets(replayGroup, [names.dlq]),
        await admin.endOffsets([names.dlq]),
      )
    } finally {
      await admin.close()
    }

    // 5. A second replay run (another group) delivers each dead letter once more, and only once.
    const second = await replayDeadLetters({ transport: kafka, topic: names.dlq, groupId: `${base}-again` })
    assert.equal(second.replayed, broken.length)
    await waitUntil(
      'second replay processed',
      async () => (await totalEnd(kafka, [names.output])) >= N + broken.length,
    )
    await new Promise((r) => setTimeout(r, 1500))
    const after2 = countIds(await readAll(kafka, names.output))
    const deadIds = new Set(broken)
    assert.deepEqual(
      [...after2].filter(([id, c]) => c !== (deadIds.has(id) ? 2 : 1)),
      [],
      'exactly once per replay run',
    )
    assert.equal(await totalEnd(kafka, [names.dlq]), broken.length, 'the fixed stage dead-lettered nothing')
  })

  it('--to a topic that does not exist yet creates it; --filter replays only the given codes', async (t) => {
    const dlq = await createTopic(undefined, { partitions: 2 })
    const to = `${dlq}-fixed`
    const group = defaultReplayGroup(dlq, ['VALIDATION_FAILED'])
    t.after(async () => {
      await deleteTopics([dlq, to])
      const admin = kafka.admin()
      await admin.deleteGroups([group])
      await admin.close()
    })
    const sink = kafka.sink({ clientId: 'replay-filter-producer' })
    await sink.open()
    for (let i = 0; i < 40; i++) {
      const code = i % 4 === 0 ? ErrorCode.VALIDATION_FAILED : ErrorCode.DESERIALIZE_FAILED
      sink.add({
        ...deadLetterRecord({
          topic: dlq,
          raw: {
            topic: 'gone',
            partition: 0,
            offset: i,
            key: null,
            value: Buffer.from(String(i)),
            headers: { 'test-id': Buffer.from(String(i)) },
            timestamp: 0,
          },
          error: new WeirError(code, 'x'),
          stage: 's',
          attempts: 1,
          app: 'a',
          now: 0,
        }),
        partition: i % 2,
      })
    }
    await sink.flush()
    await sink.close()
    const r = await replayDeadLetters({ transport: kafka, topic: dlq, to, codes: ['validation_failed'] })
    assert.equal(r.groupId, group)
    assert.deepEqual([r.replayed, r.skipped], [10, 30])
    const out = await readAll(kafka, to)
    assert.deepEqual(
      out.map(testId).sort((a, b) => Number(a) - Number(b)),
      ['0', '4', '8', '12', '16', '20', '24', '28', '32', '36'],
    )
  })
})

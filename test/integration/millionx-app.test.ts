import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import {
  MarketOrder,
  SOURCE_TOPICS,
  SocialPost,
  VALIDATED_TOPICS,
} from '../../src/apps/millionx/domain/index.ts'
import { millionxGenerator } from '../../src/generators/index.ts'
import { readDeadLetter } from '../../src/runtime/dead-letter.ts'
import { CLI, exited, millionxTopics, readAll, spawnApp, totalEnd, waitUntil } from './helpers/apps.ts'
import { createTopic, kafkaBrokers, testKafka } from './helpers/kafka.ts'
import { freePort, testCleanup } from './helpers/services.ts'

const kafka = testKafka()
const exec = promisify(execFile)

describe('millionx app end to end (weir produce millionx → weir run millionx)', { timeout: 240_000 }, () => {
  const { prefix, sources, validated, dlq, group } = millionxTopics('millionx')

  it('outputs per validated topic + dead letters = inputs; metrics count them; SIGTERM exits 0', async (t) => {
    const N = 20_000
    const seed = 9
    for (const s of sources) await createTopic(undefined, { name: s, partitions: 3 })
    const env = { ...process.env, KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','), LOG_LEVEL: 'warn' }
    const produced = await exec(
      process.execPath,
      [
        CLI,
        'produce',
        'millionx',
        '--count',
        String(N),
        '--rate',
        '0',
        '--invalid-share',
        '0.1',
        '--seed',
        String(seed),
        '--topic-prefix',
        prefix,
      ],
      { env },
    )
    assert.match(produced.stderr, new RegExp(`done: ${N} records`))

    // What the generator wrote, from the same seed.
    const expected = new Map<string, number>()
    const defects = new Map<string, number>()
    for (const r of millionxGenerator({ seed, invalidShare: 0.1 }).take(N)) {
      const m = r.defect ? defects : expected
      m.set(r.topic, (m.get(r.topic) ?? 0) + 1)
    }
    const invalid = [...defects.values()].reduce((a, b) => a + b, 0)

    const port = await freePort()
    const started = performance.now()
    const app = spawnApp('millionx', {
      KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
      TOPIC_PREFIX: prefix,
      KAFKA_GROUP_ID: group,
      WEB_PORT: String(port),
      WEB_HOST: '127.0.0.1',
      // The validator alone (the other stages have their own suite, millionx-chain.test.ts).
      MILLIONX_STAGES: 'schema-validator',
    }, testCleanup(t))
    try {
      await waitUntil(
        'every input validated or dead-lettered',
        async () => (await totalEnd(kafka, [...validated, dlq]).catch(() => 0)) >= N,
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${app.tail()}`)
      })
      t.diagnostic(
        `millionx: ${N} records in ${((performance.now() - started) / 1000).toFixed(2)} s (incl. process start and group join)`,
      )

      for (const source of SOURCE_TOPICS) {
        const out = await readAll(kafka, prefix + VALIDATED_TOPICS[source])
        assert.equal(out.length, expected.get(source) ?? 0, `${source}: every valid record, once`)
        const model = source.startsWith('source.social.') ? SocialPost : MarketOrder
        for (const r of out.slice(0, 200)) assert.ok(model.safeParse(JSON.parse(r.value!.toString())).success)
      }
      const dead = await readAll(kafka, dlq)
      assert.equal(dead.length, invalid)
      const deadBySource = new Map<string, number>()
      for (const r of dead) {
        const info = readDeadLetter(r.headers)
        assert.equal(info.code, 'VALIDATION_FAILED')
        assert.ok(Array.isArray(info.details) && info.details.length > 0)
        // The seed's JSON error body: type, message, timestamp, retry count, and the original record.
        const body = JSON.parse(r.value!.toString())
        assert.equal(body.error_type, 'schema_validation')
        assert.equal(body.retry_count, 0)
        assert.ok(body.error_message.length > 0 && !Number.isNaN(Date.parse(body.timestamp)))
        assert.equal(body.source_topic, info.source.topic)
        assert.equal(typeof body.original, 'object')
        const s = info.source.topic!.slice(prefix.length)
        deadBySource.set(s, (deadBySource.get(s) ?? 0) + 1)
      }
      assert.deepEqual(Object.fromEntries([...deadBySource].sort()), Object.fromEntries([...defects].sort()))

      const health = await fetch(`http://127.0.0.1:${port}/health`)
      assert.equal(health.status, 200)
      assert.equal(((await health.json()) as { status: string }).status, 'healthy')
      const metrics = (await (await fetch(`http://127.0.0.1:${port}/metrics?format=json`)).json()) as Record<
        string,
        unknown
      >
      assert.equal(metrics.total_validated, N)
      assert.equal(metrics.passed, N - invalid)
      assert.equal(metrics.failed, invalid)
      assert.equal(metrics.validation_pass_rate, Math.round((10_000 * (N - invalid)) / N) / 100)
      assert.equal(metrics.dlq_rate, Math.round((10_000 * invalid) / N) / 100)
      const types = metrics.failure_types as Record<string, number>
      for (const t of ['required', 'type', 'range', 'enum', 'crossField'])
        assert.ok((types[t] ?? 0) > 0, `failures of type ${t} counted`)
      const prom = await (await fetch(`http://127.0.0.1:${port}/metrics/prometheus`)).text()
      assert.match(prom, /weir_validation_failures_total\{rule="MarketOrder:total_price"\} \d+/)
      assert.match(prom, /weir_validation_pass_rate 0\.\d+/)
    } finally {
      app.kill('SIGTERM')
    }
    const exit = await exited(app)
    assert.equal(exit.code, 0, `graceful stop exits 0\n${app.tail()}`)
  })
})

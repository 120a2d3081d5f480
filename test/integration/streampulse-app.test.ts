/**
 * `weir run streampulse` end to end against the real broker and PostgreSQL: Avro events over three
 * partitions → the seed's four tables, equal to rows computed independently from the input; /health,
 * /metrics and the seed's console lines; bad input and rows PostgreSQL refuses as dead letters.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { streamPulseApp } from '../../src/apps/streampulse/app.ts'
import { eventFormat } from '../../src/apps/streampulse/avro.ts'
import { DEFAULT_SCHEMA_PATH } from '../../src/apps/streampulse/config.ts'
import type { DownloadEvent } from '../../src/apps/streampulse/domain.ts'
import { streamPulseChangelogTopics } from '../../src/apps/streampulse/pipeline.ts'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { ErrorCode } from '../../src/core/errors.ts'
import { createLogger } from '../../src/log/logger.ts'
import { readDeadLetter } from '../../src/runtime/dead-letter.ts'
import { avroFile } from '../../src/serdes/avro/file.ts'
import { type RunningService, startService } from '../../src/service/service.ts'
import { readAll, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, testKafka } from './helpers/kafka.ts'
import { REGISTRY_API, registrySkip } from './helpers/registry.ts'
import { type Cleanup, testCleanup } from './helpers/services.ts'
import {
  events,
  expectedTables,
  produceEvents,
  type StreamPulseTestEnv,
  streamPulseDb,
  streamPulseEnv,
  tablesOrEmpty,
} from './helpers/streampulse.ts'

const WINDOW_MS = 2000

/** Runs the app in this process with its log lines kept (the console output the seed documents). */
async function startStreamPulse(
  cleanup: Cleanup,
  env: StreamPulseTestEnv,
): Promise<{
  service: RunningService
  lines: () => Array<{ level: string; msg: string } & Record<string, unknown>>
}> {
  const lines: string[] = []
  const service = await startService(streamPulseApp, {
    env,
    logger: createLogger({ level: 'info', write: (l) => lines.push(l) }),
    handleSignals: false,
    http: { host: '127.0.0.1', port: 0 },
    transport: (k) =>
      kafkaTransport({ brokers: [...k.brokers], clientId: k.clientId, sasl: k.sasl, tls: k.tls }),
  })
  // Cleanups run last-registered first: the app stops before its topics go.
  cleanup(() =>
    deleteTopics([env.DLQ_TOPIC, ...streamPulseChangelogTopics(env.KAFKA_GROUP_ID)]).catch(() => {}),
  )
  cleanup(() => service.stop())
  return { service, lines: () => lines.map((l) => JSON.parse(l)) }
}

async function get(
  service: RunningService,
  path: string,
  accept = 'application/json',
): Promise<{ status: number; body: string }> {
  const a = service.address!
  const res = await fetch(`http://${a.host}:${a.port}${path}`, { headers: { accept } })
  return { status: res.status, body: await res.text() }
}

describe('streampulse: windows to PostgreSQL', () => {
  it('three partitions of Avro events → content_stats, region_health, device_stats and alerts equal to rows computed from the input; stragglers rewrite their windows', async (t) => {
    const cleanup = testCleanup(t)
    const db = await streamPulseDb(cleanup)
    const env = streamPulseEnv('sp-app', db, { PARALLELISM: '3' })
    await createTopic(undefined, { name: env.KAFKA_TOPIC, partitions: 3 })
    cleanup(() => deleteTopics([env.KAFKA_TOPIC]))
    // 40 s of event time ending 20 s ago; every 40th event 5 s late (within the 5-minute lateness).
    const input = events(4000, {
      start: Date.now() - 60_000,
      stepMs: 10,
      straggleEvery: 40,
      straggleMs: 5000,
    })
    const expected = expectedTables(input, WINDOW_MS)
    assert.ok(
      expected.alerts.some((a) => a.includes('CRITICAL')),
      'the degrading region breaks a rule (test data check)',
    )
    await produceEvents(testKafka(), env.KAFKA_TOPIC, input)
    const { service, lines } = await startStreamPulse(cleanup, env)

    await waitUntil(
      'the four tables to equal the expected rows',
      async () => {
        const got = await tablesOrEmpty(db)
        return JSON.stringify(got) === JSON.stringify(expected)
      },
      90_000,
      500,
    ).catch(async (err) => {
      const got = await tablesOrEmpty(db)
      for (const k of Object.keys(expected) as Array<keyof typeof expected>)
        assert.deepEqual(got[k], expected[k], k)
      throw err
    })
    assert.equal(expected.content_stats.length > 1000, true, `${expected.content_stats.length} content rows`)

    const health = JSON.parse((await get(service, '/health')).body)
    assert.equal(health.status, 'healthy')
    assert.equal(health.postgres_connected, true)
    assert.equal(health.kafka_connected, true)
    const metrics = JSON.parse((await get(service, '/metrics')).body)
    assert.equal(metrics.events_processed, input.length)
    assert.ok(metrics.windows_flushed >= 20, `windows flushed: ${metrics.windows_flushed}`)
    assert.ok(metrics.rows_written.content_stats >= expected.content_stats.length)
    assert.equal(
      metrics.alerts_generated.WARNING + metrics.alerts_generated.CRITICAL >= expected.alerts.length,
      true,
    )
    assert.equal(typeof metrics.processing_lag_seconds, 'number')
    const prom = (await get(service, '/metrics/prometheus', 'text/plain')).body
    for (const name of [
      'streampulse_events_processed_total',
      'streampulse_windows_flushed_total',
      'streampulse_rows_written_total{table="region_health"}',
      'streampulse_alerts_generated_total{severity="CRITICAL"}',
      'streampulse_processing_lag_seconds',
      'streampulse_window_close_to_row_seconds',
    ]) {
      assert.ok(prom.includes(name), `Prometheus text has ${name}`)
    }
    const info = lines()
      .filter((l) => l.level === 'info')
      .map((l) => l.msg)
    assert.ok(
      info.some((m) => /^Processed \d+ events \| Flushed \d+ windows$/.test(m)),
      'progress lines as the seed prints them',
    )
    assert.ok(info.some((m) => /^Wrote \d+ records to content_stats$/.test(m)))
    assert.ok(info.some((m) => /^Wrote \d+ records to region_health$/.test(m)))
    assert.ok(info.some((m) => /^Wrote \d+ records to alerts$/.test(m)))
    assert.ok(!JSON.stringify(lines()).includes('"error"'), 'no error logged')
  })

  it('bad input and refused rows are dead letters with their reasons; everything else is written', async (t) => {
    const cleanup = testCleanup(t)
    const db = await streamPulseDb(cleanup)
    const env = streamPulseEnv('sp-dlq', db)
    await createTopic(undefined, { name: env.KAFKA_TOPIC, partitions: 1 })
    cleanup(() => deleteTopics([env.KAFKA_TOPIC]))
    const base = events(600, { start: Date.now() - 30_000, stepMs: 20, seed: 11 })
    const nul: DownloadEvent = { ...base[400]!, event_id: 'nul-content', content_id: 'mov_\u0000bad' }
    const negative: DownloadEvent = { ...base[401]!, event_id: 'negative', bytes: -5 }
    const tooLate: DownloadEvent = {
      ...base[402]!,
      event_id: 'too-late',
      timestamp: base[402]!.timestamp - 10 * 60_000,
    }
    const malformed = Buffer.from([0xff, 0x01, 0x02])
    const items = [...base.slice(0, 450), malformed, negative, tooLate, nul, ...base.slice(450)]
    await produceEvents(testKafka(), env.KAFKA_TOPIC, items)
    const accepted = [...base, nul]
    const expected = expectedTables(accepted, WINDOW_MS, (e) => e.event_id === 'nul-content')
    const { service } = await startStreamPulse(cleanup, env)

    await waitUntil(
      'tables as expected',
      async () => JSON.stringify(await tablesOrEmpty(db)) === JSON.stringify(expected),
      60_000,
      500,
    ).catch(async (err) => {
      const got = await tablesOrEmpty(db)
      for (const k of Object.keys(expected) as Array<keyof typeof expected>)
        assert.deepEqual(got[k], expected[k], k)
      throw err
    })
    let dead: ReturnType<typeof readDeadLetter>[] = []
    const kafka = testKafka()
    await waitUntil(
      'four dead letters',
      async () => {
        dead = (await readAll(kafka, env.DLQ_TOPIC)).map((r) => readDeadLetter(r.headers))
        return dead.length >= 4
      },
      30_000,
      500,
    )
    const byCode = new Map(dead.map((d) => [d.code, d]))
    assert.deepEqual(
      [...byCode.keys()].sort(),
      [
        ErrorCode.DESERIALIZE_FAILED,
        ErrorCode.LATE_RECORD,
        ErrorCode.SINK_REJECTED,
        ErrorCode.VALIDATION_FAILED,
      ].sort(),
    )
    assert.equal(
      dead.length,
      4,
      'one dead letter each: the region and device windows drop what the content windows dead-letter',
    )
    assert.equal(byCode.get(ErrorCode.DESERIALIZE_FAILED)?.source.offset, 450)
    assert.equal(byCode.get(ErrorCode.VALIDATION_FAILED)?.source.offset, 451)
    assert.match(String(byCode.get(ErrorCode.VALIDATION_FAILED)?.message), /bytes/)
    assert.equal(byCode.get(ErrorCode.LATE_RECORD)?.source.offset, 452)
    const refused = byCode.get(ErrorCode.SINK_REJECTED)!
    assert.equal(refused.stage, 'sink:postgres:streampulse')
    assert.equal(refused.source.topic, 'postgres:streampulse')
    assert.match(String(refused.message), /invalid byte sequence|0x00/)
    assert.equal((refused.details as { sqlstate?: string }).sqlstate, '22021')
    const health = JSON.parse((await get(service, '/health')).body)
    assert.equal(health.status, 'healthy', 'a refused row does not make the app unhealthy')
  })
})

describe('streampulse: the Confluent wire format through the schema registry', {
  skip: await registrySkip(),
}, () => {
  it('with SCHEMA_REGISTRY_URL, events written with a registered schema are read by id; a plain Avro body is a dead letter with its reason', async (t) => {
    const cleanup = testCleanup(t)
    const db = await streamPulseDb(cleanup)
    const env = streamPulseEnv('sp-registry', db, { SCHEMA_REGISTRY_URL: REGISTRY_API })
    await createTopic(undefined, { name: env.KAFKA_TOPIC, partitions: 1 })
    cleanup(() => deleteTopics([env.KAFKA_TOPIC]))
    const input = events(400, { start: Date.now() - 20_000, stepMs: 25, seed: 5 })
    const writer = eventFormat({
      schemaPath: DEFAULT_SCHEMA_PATH,
      registryUrl: REGISTRY_API,
      registryUserInfo: undefined,
      autoRegister: true,
    })
    const ctx = { topic: env.KAFKA_TOPIC, isKey: false }
    const notWire = avroFile<DownloadEvent>({ schemaPath: DEFAULT_SCHEMA_PATH }).serialize(
      input[0]!,
      ctx,
    ) as Buffer
    await produceEvents(
      testKafka(),
      env.KAFKA_TOPIC,
      [...input.slice(0, 200), notWire, ...input.slice(200)],
      async (e) => (await writer.serde.serialize(e, ctx)) as Buffer,
    )
    const { service } = await startStreamPulse(cleanup, env)
    const expected = expectedTables(input, WINDOW_MS)
    await waitUntil(
      'tables as expected',
      async () => JSON.stringify(await tablesOrEmpty(db)) === JSON.stringify(expected),
      60_000,
      500,
    )
    const dead = (await readAll(testKafka(), env.DLQ_TOPIC)).map((r) => readDeadLetter(r.headers))
    assert.equal(dead.length, 1)
    assert.equal(dead[0]?.code, ErrorCode.DESERIALIZE_FAILED)
    assert.equal(dead[0]?.source.offset, 200)
    assert.match(String(dead[0]?.message), /magic byte/i)
    const health = JSON.parse((await get(service, '/health')).body)
    assert.equal(health.registry_connected, true)
  })
})

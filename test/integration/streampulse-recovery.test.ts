/**
 * StreamPulse's "exactly once in effect", proven against the real broker and PostgreSQL in one run of
 * three lives: a kill -9 at a random point while input is still arriving; then PostgreSQL taken away
 * mid-run (a cuttable proxy): /health degraded with postgres_connected false, no offset committed while
 * rows wait, and a kill -9 during the outage; then a restart while PostgreSQL is still away, which runs
 * degraded and catches up when it returns. The four tables must equal the rows computed independently
 * from the input, row for row, after the first kill and at the end.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { streamPulseChangelogTopics } from '../../src/apps/streampulse/pipeline.ts'
import { exited, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, testKafka } from './helpers/kafka.ts'
import { freePort, pgConnection, sleep, tcpProxy, testCleanup } from './helpers/services.ts'
import {
  events,
  expectedTables,
  produceEvents,
  type StreamPulseTestEnv,
  spawnStreamPulse,
  streamPulseDb,
  streamPulseEnv,
  type Tables,
  tablesOrEmpty,
} from './helpers/streampulse.ts'

const WINDOW_MS = 2000
const kafka = testKafka()

function topicsOf(env: StreamPulseTestEnv): string[] {
  return [env.KAFKA_TOPIC, env.DLQ_TOPIC, ...streamPulseChangelogTopics(env.KAFKA_GROUP_ID)]
}

async function untilTables(
  db: string,
  expected: Tables,
  what: string,
  output: () => string,
  timeoutMs = 60_000,
): Promise<void> {
  await waitUntil(
    what,
    async () => JSON.stringify(await tablesOrEmpty(db)) === JSON.stringify(expected),
    timeoutMs,
    300,
  ).catch(async (err: Error) => {
    const got = await tablesOrEmpty(db)
    for (const k of Object.keys(expected) as Array<keyof Tables>) {
      const missing = expected[k].filter((r) => !got[k].includes(r)).slice(0, 3)
      const extra = got[k].filter((r) => !expected[k].includes(r)).slice(0, 3)
      if (missing.length + extra.length > 0)
        err.message += `\n${k}: missing ${JSON.stringify(missing)} extra ${JSON.stringify(extra)}`
    }
    throw new Error(`${err.message}\n${output()}`)
  })
}

async function committed(env: StreamPulseTestEnv): Promise<string> {
  const admin = kafka.admin()
  try {
    return JSON.stringify([...(await admin.committedOffsets(env.KAFKA_GROUP_ID, [env.KAFKA_TOPIC]))].sort())
  } finally {
    await admin.close()
  }
}

async function health(port: number): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>
  } catch {
    return undefined
  }
}

async function backlog(port: number): Promise<number> {
  try {
    const m = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as {
      postgres: { backlog: number }
    }
    return m.postgres.backlog
  } catch {
    return 0
  }
}

describe('streampulse: exactly once in effect', { timeout: 240_000 }, () => {
  it('kill -9 at a random point under load, PostgreSQL away with a kill -9 during the outage, restart while it is away: the tables equal the rows computed from the input', async (t) => {
    const cleanup = testCleanup(t)
    const db = await streamPulseDb(cleanup)
    const proxy = await tcpProxy(cleanup, { host: pgConnection().host, port: pgConnection().port })
    const port = await freePort()
    const env = streamPulseEnv('sp-recovery', db, {
      PARALLELISM: '2',
      PG_PORT: String(proxy.port),
      HEALTH_PORT: String(port),
    })
    cleanup(() => deleteTopics(topicsOf(env)).catch(() => {}))
    await createTopic(undefined, { name: env.KAFKA_TOPIC, partitions: 2 })
    // 80 s of event time ending 10 s ago; every 50th event 4 s late (within the allowed lateness).
    const input = events(16_000, {
      start: Date.now() - 90_000,
      stepMs: 5,
      seed: 21,
      straggleEvery: 50,
      straggleMs: 4000,
    })
    const firstHalf = input.slice(0, 8000)
    let outputs = ''

    // Life 1: input keeps arriving (four chunks, 400 ms apart) while the app is killed at a random point.
    const producing = (async () => {
      for (let i = 0; i < 4; i++) {
        await produceEvents(kafka, env.KAFKA_TOPIC, firstHalf.slice(i * 2000, (i + 1) * 2000))
        await sleep(400)
      }
    })()
    const first = spawnStreamPulse(cleanup, env)
    await waitUntil(
      'the app to start writing',
      async () => /Processed \d+ events|Wrote \d+ records/.test(first.output()),
      60_000,
      50,
    )
    const delay = Math.floor(Math.random() * 1500)
    await sleep(delay)
    first.kill('SIGKILL')
    await exited(first)
    outputs += first.output()
    await producing

    // Life 2: catches up, then loses PostgreSQL; nothing is committed while its rows wait; killed.
    const second = spawnStreamPulse(cleanup, env)
    await untilTables(
      db,
      expectedTables(firstHalf, WINDOW_MS),
      `the first half after a kill -9 at +${delay} ms`,
      () => `${outputs}\n${second.output()}`,
    )
    await proxy.cut()
    await produceEvents(kafka, env.KAFKA_TOPIC, input.slice(8000))
    await waitUntil(
      '/health to say postgres is down',
      async () => {
        const h = await health(port)
        return h?.status === 'degraded' && h.postgres_connected === false
      },
      30_000,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${second.output()}`)
    })
    await waitUntil('rows waiting for PostgreSQL', async () => (await backlog(port)) > 0, 30_000, 200)
    const before = await committed(env)
    await sleep(2500)
    assert.equal(await committed(env), before, 'no offset committed while rows wait for PostgreSQL')
    second.kill('SIGKILL')
    await exited(second)
    outputs += second.output()

    // Life 3: starts while PostgreSQL is still away, runs degraded, and writes everything once it is back.
    const third = spawnStreamPulse(cleanup, env)
    await waitUntil(
      'the restarted app to run degraded',
      async () => (await health(port))?.postgres_connected === false,
      60_000,
      200,
    )
    await proxy.restore()
    await untilTables(
      db,
      expectedTables(input, WINDOW_MS),
      'every row once PostgreSQL is back',
      () => `${outputs}\n${third.output()}`,
    )
    await waitUntil(
      '/health healthy again',
      async () => (await health(port))?.status === 'healthy',
      30_000,
      200,
    )
    t.diagnostic(`killed at +${delay} ms after the first progress line, and during the outage`)
    third.kill('SIGTERM')
    assert.equal((await exited(third)).code, 0, 'a graceful stop after the crashes')
    assert.doesNotMatch(
      outputs + third.output(),
      /"level":"error".*(uncaught|TypeError|ReferenceError)/,
      'no crash but the kills',
    )
  })
})

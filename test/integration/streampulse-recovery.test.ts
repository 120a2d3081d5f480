/**
 * StreamPulse's "exactly once in effect", proven against the real broker and PostgreSQL:
 * - kill -9 at random points while input is still arriving, restart: the four tables equal the rows
 *   computed independently from the input, row for row;
 * - PostgreSQL away (a cuttable proxy) mid-run: /health degraded with postgres_connected false, no
 *   offset committed while rows wait, a kill -9 during the outage, and everything arrives once it is back.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { exited, spawnApp, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, testKafka } from './helpers/kafka.ts'
import { type Cleanup, freePort, pgConnection, sleep, tcpProxy, testCleanup } from './helpers/services.ts'
import {
  events,
  expectedTables,
  produceEvents,
  type StreamPulseTestEnv,
  streamPulseDb,
  streamPulseEnv,
  type Tables,
  tablesOrEmpty,
} from './helpers/streampulse.ts'

const WINDOW_MS = 2000
const kafka = testKafka()

/** `weir run streampulse` as a child process, killed (-9) by the cleanup if still running. */
function spawnStreamPulse(cleanup: Cleanup, env: StreamPulseTestEnv) {
  const child = spawnApp('streampulse', env)
  cleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited(child)
  })
  return child
}

function topicsOf(env: StreamPulseTestEnv): string[] {
  return [
    env.KAFKA_TOPIC,
    env.DLQ_TOPIC,
    ...['content', 'region', 'device'].map((k) => `${env.KAFKA_GROUP_ID}-${k}-windows-changelog`),
  ]
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

describe('streampulse: exactly once in effect', { timeout: 240_000 }, () => {
  it('kill -9 at random points under load, restart: the tables equal the rows computed from the input', async (t) => {
    const cleanup = testCleanup(t)
    const db = await streamPulseDb(cleanup)
    const env = streamPulseEnv('sp-kill', db, { PARALLELISM: '2' })
    cleanup(() => deleteTopics(topicsOf(env)).catch(() => {}))
    await createTopic(undefined, { name: env.KAFKA_TOPIC, partitions: 2 })
    const input = events(16_000, {
      start: Date.now() - 90_000,
      stepMs: 5,
      seed: 21,
      straggleEvery: 50,
      straggleMs: 4000,
    })
    const expected = expectedTables(input, WINDOW_MS)
    // Input keeps arriving while the app is killed and restarted: eight chunks, 400 ms apart.
    const producing = (async () => {
      for (let i = 0; i < 8; i++) {
        await produceEvents(kafka, env.KAFKA_TOPIC, input.slice(i * 2000, (i + 1) * 2000))
        await sleep(400)
      }
    })()
    const kills: number[] = []
    let outputs = ''
    for (let round = 0; round < 2; round++) {
      const child = spawnStreamPulse(cleanup, env)
      // A random point after the app is up and has written something (the first round) or read (later).
      await waitUntil(
        'the app to start writing',
        async () => /Processed \d+ events|Wrote \d+ records/.test(child.output()),
        60_000,
        50,
      )
      const delay = Math.floor(Math.random() * 1500)
      await sleep(delay)
      child.kill('SIGKILL')
      await exited(child)
      kills.push(delay)
      outputs += child.output()
    }
    await producing
    const last = spawnStreamPulse(cleanup, env)
    await untilTables(
      db,
      expected,
      'the tables after two kills to equal the rows computed from the input',
      () => `${outputs}\n${last.output()}`,
    )
    t.diagnostic(
      `killed at +${kills.join(', +')} ms after the first progress line; ${expected.content_stats.length} content rows`,
    )
    last.kill('SIGTERM')
    assert.equal((await exited(last)).code, 0, 'a graceful stop after the crashes')
  })

  it('PostgreSQL away mid-run: degraded /health, no commit while rows wait, kill -9 during the outage, and every row once it is back', async (t) => {
    const cleanup = testCleanup(t)
    const db = await streamPulseDb(cleanup)
    const proxy = await tcpProxy(cleanup, { host: pgConnection().host, port: pgConnection().port })
    const port = await freePort()
    const env = streamPulseEnv('sp-pg', db, { PG_PORT: String(proxy.port), HEALTH_PORT: String(port) })
    cleanup(() => deleteTopics(topicsOf(env)).catch(() => {}))
    await createTopic(undefined, { name: env.KAFKA_TOPIC, partitions: 1 })
    const input = events(8000, { start: Date.now() - 60_000, stepMs: 4, seed: 33 })
    const half = input.slice(0, 4000)
    await produceEvents(kafka, env.KAFKA_TOPIC, half)
    const first = spawnStreamPulse(cleanup, env)
    await untilTables(db, expectedTables(half, WINDOW_MS), 'the first half written', () => first.output())

    await proxy.cut()
    await produceEvents(kafka, env.KAFKA_TOPIC, input.slice(4000))
    await waitUntil(
      '/health to say postgres is down',
      async () => {
        const h = await health(port)
        return h?.status === 'degraded' && h.postgres_connected === false
      },
      30_000,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${first.output()}`)
    })
    await waitUntil(
      'the second half read, its rows waiting',
      async () => {
        const m = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as {
          events_processed: number
          postgres: { backlog: number }
        }
        return m.events_processed === input.length && m.postgres.backlog > 0
      },
      30_000,
      200,
    )
    const before = await committed(env)
    await sleep(2500)
    assert.equal(await committed(env), before, 'no offset committed while rows wait for PostgreSQL')
    first.kill('SIGKILL')
    await exited(first)

    // Restarted while PostgreSQL is still away: it runs degraded, then catches up when it returns.
    const second = spawnStreamPulse(cleanup, env)
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
      () => `${first.output()}\n${second.output()}`,
    )
    await waitUntil(
      '/health healthy again',
      async () => (await health(port))?.status === 'healthy',
      30_000,
      200,
    )
    second.kill('SIGTERM')
    assert.equal((await exited(second)).code, 0)
  })
})

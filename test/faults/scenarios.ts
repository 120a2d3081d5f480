/**
 * The fault scenarios. Each starts the app as child processes (a supervisor restarts what dies), feeds
 * input at a steady rate, injects its fault while input flows, waits until the group has committed
 * every input, stops the app with SIGTERM and counts with an independent reader.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { type KafkaTransport, kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { spawnWeir, type WeirChild } from '../integration/helpers/child.ts'
import { deleteTopics } from '../integration/helpers/kafka.ts'
import {
  type Cleanup,
  type RedisServer,
  sleep,
  startRedisServer,
  tcpProxy,
} from '../integration/helpers/services.ts'
import { type AppUnderTest, rideshareUnderTest } from './apps.ts'
import { dumpRun } from './dump.ts'
import {
  caughtUp,
  countIds,
  type FaultRow,
  feed,
  type Guarantee,
  openTransactions,
  readTopic,
  recovery,
  rng,
  waitFor,
} from './harness.ts'

export interface ScenarioContext {
  readonly cleanup: Cleanup
  readonly brokers: readonly string[]
  readonly log?: (line: string) => void
}

export interface LoadOptions {
  readonly count: number
  readonly ratePerSec: number
}

/** A running scenario: instances of the app and the admin view of its group. */
export interface Harness {
  readonly kafka: KafkaTransport
  readonly app: AppUnderTest
  /** Starts instance `n`; resolves once it owns partitions (or at once with `waitAssigned: false`). */
  start(n?: number, opts?: { waitAssigned?: boolean }): Promise<WeirChild>
  /** Ms from `since` until the group commits again (or, with nothing left to read, `ready` owns partitions). */
  recovered(since: number, ready?: WeirChild): Promise<number>
  /** The newest instance still running. */
  newest(): WeirChild
  /** How long restarted instances took to join the group (see FaultRow.joinMs). */
  noteJoins?(ms: readonly number[]): void
}

/**
 * Runs `fault` while `load` is fed to `app`, then counts. `fault` returns the recovery times it saw.
 */
export async function runScenario(
  ctx: ScenarioContext,
  scenario: string,
  app: AppUnderTest,
  guarantee: Guarantee,
  load: LoadOptions,
  fault: (h: Harness) => Promise<number[]>,
): Promise<FaultRow> {
  const kafka = kafkaTransport({
    brokers: [...ctx.brokers],
    connectTimeoutMs: 2000,
    requestTimeoutMs: 10_000,
  })
  ctx.cleanup(() => deleteTopics(app.topics, kafka).catch(() => {}))
  const admin = kafka.admin()
  await admin.ensureTopics([{ name: app.inputTopic, partitions: app.inputPartitions, replicationFactor: 1 }])
  await admin.close()
  const children: WeirChild[] = []
  let finishing = false
  let supervisorRestarts = 0
  let joinMs: number | undefined
  const h: Harness = {
    noteJoins: (ms) => {
      joinMs = Math.max(...ms)
    },
    kafka,
    app,
    async start(n = 0, opts = {}) {
      const child = spawnWeir(ctx.cleanup, app.app, app.env(n))
      children.push(child)
      // A supervisor: an instance that exits 1 by itself (e.g. TRANSACTION_ABORTED) is started again.
      void child.exit.then(({ code }) => {
        if (code !== 0 && code !== null && !finishing) {
          supervisorRestarts++
          void h.start(n, { waitAssigned: false })
        }
      })
      if (opts.waitAssigned ?? true) await child.waitForLog('partitions assigned', {}, 120_000)
      return child
    },
    recovered: (since, ready) =>
      recovery(
        kafka,
        app.groupId,
        [app.inputTopic],
        since,
        () => ready === undefined || ready.logs().some((l) => l.msg === 'partitions assigned'),
      ),
    newest() {
      const found = children.findLast((c) => c.running())
      if (!found) throw new Error(`no ${app.app} instance is running`)
      return found
    },
  }
  await h.start(0)
  const feeder = feed(kafka, app.inputTopic, load.count, load.ratePerSec, (i) => app.record(i))
  const recoveries = await fault(h)
  await feeder.done
  await waitFor(
    'the group committed every input',
    () => caughtUp(kafka, app.groupId, [app.inputTopic]),
    240_000,
  )
  if (app.settled) {
    const settleMs = Number(process.env.FAULTS_SETTLE_MS ?? 60_000)
    const settled = await waitFor('the outputs settled', () => app.settled!(kafka), settleMs, 500).then(
      () => true,
      () => false,
    )
    // What held the outputs back is gone once the instances stop: the window operators' progress now.
    if (!settled)
      for (const c of children.filter((c) => c.running()))
        ctx.log?.(
          `outputs not settled after ${settleMs} ms; instance ${c.pid}'s progress:\n${await windowProgress(c)}`,
        )
  }
  finishing = true
  let unclean = 0
  for (const c of children.filter((c) => c.running())) {
    c.kill('SIGTERM')
    const { code } = await c.exit
    if (code !== 0) unclean++
  }
  const open = await openTransactions(kafka, app.topics)
  const inputs = countIds(await readTopic(kafka, app.inputTopic))
  let repeats = 0
  for (const n of inputs.values()) repeats += n - 1
  if (repeats > 0)
    ctx.log?.(`${repeats} input(s) in the topic more than once (the feeder's producer retried)`)
  const counted = await app.count(kafka, inputs)
  const row: FaultRow = {
    scenario,
    app: app.app,
    guarantee,
    recordsIn: inputs.size,
    out: counted.out,
    deadLettered: counted.deadLettered,
    lost: counted.lost,
    duplicated: counted.duplicated,
    recoverMs: recoveries.length === 0 ? undefined : Math.max(...recoveries),
    recoveriesMs: recoveries,
    ...(supervisorRestarts > 0 ? { restartsAfterExit1: supervisorRestarts } : {}),
    ...(joinMs === undefined ? {} : { joinMs }),
    duplicatesAllowed: guarantee === 'at_least_once' || !app.kafkaOutputs,
    ...(counted.note || unclean || open.length > 0
      ? {
          note: [
            counted.note,
            unclean ? `${unclean} instance(s) did not exit 0 on SIGTERM` : undefined,
            open.length > 0 ? `transactions left open: ${open.join(', ')}` : undefined,
          ]
            .filter(Boolean)
            .join('; '),
        }
      : {}),
  }
  ctx.log?.(JSON.stringify(row))
  const debugDir = process.env.FAULTS_DEBUG_DIR
  if (debugDir && (row.lost > 0 || (!row.duplicatesAllowed && row.duplicated > 0) || row.note)) {
    const admin = kafka.admin()
    const committed = await admin.committedOffsets(app.groupId, [app.inputTopic]).finally(() => admin.close())
    const dir = await dumpRun(join(debugDir, `${app.inputTopic}`), {
      brokers: ctx.brokers,
      committed,
      topicPrefix: app.groupId.replace(/-group$/, ''),
      children,
    })
    ctx.log?.(`failed row dumped to ${dir}`)
  }
  return row
}

/** kill -9 of the newest instance at random moments, restarted at once as a supervisor would. */
export function killRandomly(kills: number, seed: number): (h: Harness) => Promise<number[]> {
  const random = rng(seed)
  return async (h) => {
    const times: number[] = []
    const joins: Promise<number>[] = []
    for (let k = 0; k < kills; k++) {
      await sleep(1500 + random() * 3000)
      const victim = h.newest()
      victim.kill('SIGKILL')
      await victim.exit
      const restartedAt = Date.now()
      const next = await h.start(0, { waitAssigned: false })
      joins.push(
        next
          .waitForLog('partitions assigned', {}, 120_000)
          .then(
            (assigned) =>
              Date.parse(String(assigned.time)) -
              Date.parse(String(next.logs().find((l) => l.msg === 'processing guarantee')?.time)),
          ),
      )
      times.push(
        await h.recovered(restartedAt, next).catch((err: Error) => {
          throw new Error(
            `after kill ${k + 1}: ${err.message}\nrestarted instance's output:\n${next.output()}`,
          )
        }),
      )
    }
    h.noteJoins?.(await Promise.all(joins))
    return times
  }
}

/** Stops the broker (SIGTERM) for `downMs` mid-stream and starts it again. */
export function brokerRestart(
  broker: { stop(): Promise<void>; start(): Promise<void> },
  downMs: number,
): (h: Harness) => Promise<number[]> {
  return async (h) => {
    await sleep(4000)
    await broker.stop()
    await sleep(downMs)
    await broker.start()
    const back = Date.now()
    return [await h.recovered(back)]
  }
}

/**
 * Freezes the broker (SIGSTOP) for `downMs` mid-stream and lets it carry on: unlike a stop, clients get
 * no error, so nothing tells the app Kafka is gone except that fetches stop succeeding.
 */
export function brokerFreeze(
  broker: { freeze(): void; resume(): void },
  downMs: number,
): (h: Harness) => Promise<number[]> {
  return async (h) => {
    await sleep(4000)
    broker.freeze()
    try {
      await sleep(downMs)
    } finally {
      broker.resume()
    }
    const back = Date.now()
    return [await h.recovered(back)]
  }
}

/** 1 → 3 → 1 instances while input flows. */
export function rebalance(): (h: Harness) => Promise<number[]> {
  return async (h) => {
    await sleep(3000)
    const grownAt = Date.now()
    const more = [await h.start(1, { waitAssigned: false }), await h.start(2, { waitAssigned: false })]
    await Promise.all(more.map((c) => c.waitForLog('partitions assigned', {}, 120_000)))
    const grown = await h.recovered(grownAt)
    await sleep(4000)
    const shrunkAt = Date.now()
    for (const c of more) c.kill('SIGTERM')
    for (const c of more) assert.equal((await c.exit).code, 0, c.output())
    return [grown, await h.recovered(shrunkAt)]
  }
}

/**
 * Rideshare with Redis stopped for `downMs` mid-stream. The app reaches Redis through a proxy that is
 * cut while the server is down and restored only once the counting subscriber is back, so a message
 * the app publishes after the outage is never missed by the reader.
 */
export async function rideshareRedisOutage(
  ctx: ScenarioContext,
  guarantee: Guarantee,
  load: LoadOptions,
  downMs: number,
): Promise<FaultRow> {
  const redis = await startRedisServer(ctx.cleanup)
  const proxy = await tcpProxy(ctx.cleanup, { host: redis.host, port: redis.port })
  const sub = await subscriber(ctx.cleanup, redis)
  const app = rideshareUnderTest({
    brokers: ctx.brokers,
    guarantee,
    redis: { host: '127.0.0.1', port: proxy.port },
    received: () => sub.received,
  })
  return runScenario(ctx, `Redis stopped ${downMs / 1000} s`, app, guarantee, load, async (h) => {
    await sleep(4000)
    await proxy.cut()
    await redis.stop()
    await sleep(downMs)
    await redis.start()
    await sub.listening(redis)
    const back = Date.now()
    await proxy.restore()
    return [await h.recovered(back)]
  })
}

/** A subscriber on `trip-updates` that counts messages by event id and reconnects by itself. */
export async function subscriber(cleanup: Cleanup, redis: RedisServer) {
  const SENTINEL = 'weir-faults-sentinel'
  const client = new Redis({
    host: redis.host,
    port: redis.port,
    lazyConnect: true,
    retryStrategy: () => 25,
    maxRetriesPerRequest: null,
  })
  client.on('error', () => {})
  cleanup(() => client.disconnect())
  const received = new Map<string, number>()
  let sentinels = 0
  client.on('message', (channel: string, message: string) => {
    if (channel === SENTINEL) {
      sentinels++
      return
    }
    const id = (JSON.parse(message) as { data?: { event_id?: string } }).data?.event_id ?? '?'
    received.set(id, (received.get(id) ?? 0) + 1)
  })
  await client.connect()
  await client.subscribe('trip-updates', SENTINEL)
  return {
    received,
    /** Resolves once a message published now reaches the subscriber. */
    async listening(server: { host: string; port: number }) {
      const pub = new Redis({
        host: server.host,
        port: server.port,
        lazyConnect: true,
        retryStrategy: () => 50,
      })
      pub.on('error', () => {})
      try {
        await pub.connect()
        const before = sentinels
        await waitFor(
          'the subscriber back after the restart',
          async () => {
            await pub.publish(SENTINEL, 'ping').catch(() => 0)
            await sleep(50)
            return sentinels > before
          },
          30_000,
          50,
        )
      } finally {
        pub.disconnect()
      }
    },
  }
}

/** The window and lag gauges of a running instance (its ops server's /metrics, Prometheus text). */
async function windowProgress(child: WeirChild): Promise<string> {
  const port = child.logs().find((l) => l.msg === 'ops server listening')?.port
  if (typeof port !== 'number') return '(no ops server)'
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics?format=prometheus`, {
      signal: AbortSignal.timeout(5000),
    })
    const text = await res.text()
    return text
      .split('\n')
      .filter((l) => /^weir_(window_watermark|window_closed_through|consumer_lag|state_keys)/.test(l))
      .join('\n')
  } catch (err) {
    return `(metrics unavailable: ${(err as Error).message})`
  }
}

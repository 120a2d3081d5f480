/**
 * The fault suite (`npm run faults`, ~15 min here): every scenario of issue 10 for both guarantees,
 * against real processes and services, counted by an independent reader; prints one table (also
 * written to $FAULTS_TABLE when set) and checks the rules: nothing lost anywhere, no duplicate Kafka
 * output under exactly-once, window results equal to a clean run's.
 *
 * FAULTS_ONLY=<substring> runs the scenarios whose name contains it. FAULTS_SETTLE_MS: how long a windowed
 * scenario waits for its last window results before stopping the app (default 60 s); if they do not come,
 * each instance's window progress (watermark, closed-through times, lag) is printed. FAULTS_KILLS (default 5)
 * and FAULTS_COUNT (default 100,000 at FAULTS_RATE 2,000/s) make the kill -9 rows longer and harsher.
 * FAULTS_DEBUG_DIR=<dir>: a failed row leaves its instances' output and its topics' raw logs there (dump.ts).
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { kafkaBrokers } from '../integration/helpers/kafka.ts'
import { startRedisServer, suiteCleanup, testCleanup } from '../integration/helpers/services.ts'
import { type AppOptions, rideshareUnderTest, trafficUnderTest, trafficWindowsUnderTest } from './apps.ts'
import { type FaultRow, type Guarantee, table } from './harness.ts'
import { type PrivateBroker, startPrivateBroker } from './kafka-broker.ts'
import { postgresOutage } from './postgres-outage.ts'
import {
  brokerRestart,
  killRandomly,
  rebalance,
  rideshareRedisOutage,
  runScenario,
  type ScenarioContext,
  subscriber,
} from './scenarios.ts'

const GUARANTEES: readonly Guarantee[] = ['at_least_once', 'exactly_once']
// 50 s of input at 2,000 records/s: faults happen while it flows.
const LOAD = {
  count: Number(process.env.FAULTS_COUNT ?? 100_000),
  ratePerSec: Number(process.env.FAULTS_RATE ?? 2000),
}
// Kills per kill -9 scenario; more (with a larger FAULTS_COUNT) make rare timings likelier.
const KILLS = Number(process.env.FAULTS_KILLS ?? 5)
const rows: FaultRow[] = []
const only = process.env.FAULTS_ONLY

function check(row: FaultRow): void {
  rows.push(row)
  assert.equal(row.lost, 0, `${row.scenario} ${row.app} ${row.guarantee}: ${row.lost} lost`)
  if (!row.duplicatesAllowed)
    assert.equal(
      row.duplicated,
      0,
      `${row.scenario} ${row.app} ${row.guarantee}: ${row.duplicated} duplicated`,
    )
  assert.equal(row.note, undefined, `${row.scenario} ${row.app} ${row.guarantee}: ${row.note}`)
}

function scenario(name: string, fn: (ctx: ScenarioContext) => Promise<FaultRow>): void {
  const skip = only !== undefined && !name.includes(only)
  it(name, { skip }, async (t) => {
    const ctx = { cleanup: testCleanup(t), brokers: kafkaBrokers(), log: (l: string) => t.diagnostic(l) }
    check(await fn(ctx))
  })
}

describe('fault suite', { timeout: 3_600_000 }, () => {
  after(() => {
    const text = table(rows)
    process.stdout.write(`\n${text}\n\n`)
    if (process.env.FAULTS_TABLE) writeFileSync(process.env.FAULTS_TABLE, `${text}\n`)
  })

  for (const g of GUARANTEES) {
    const opts = (brokers: readonly string[], extra: Partial<AppOptions> = {}): AppOptions => ({
      brokers,
      guarantee: g,
      ...extra,
    })
    scenario(`kill -9 ×${KILLS} traffic ${g}`, (ctx) =>
      runScenario(
        ctx,
        `kill -9 ×${KILLS}`,
        trafficUnderTest(opts(ctx.brokers)),
        g,
        LOAD,
        killRandomly(KILLS, 1),
      ),
    )
    scenario(`kill -9 ×${KILLS} static membership traffic ${g}`, (ctx) =>
      runScenario(
        ctx,
        `kill -9 ×${KILLS}, static membership`,
        trafficUnderTest(opts(ctx.brokers, { extraEnv: { KAFKA_GROUP_INSTANCE_ID: 'traffic-0' } })),
        g,
        LOAD,
        killRandomly(KILLS, 1),
      ),
    )
    // Seed 002's rules add a durable dedupe (segmented changelog): a record re-read after a kill must
    // pass again, never be dropped as a repeat of itself.
    scenario(`kill -9 ×${KILLS} DQ_RULES=seed-002 traffic ${g}`, (ctx) =>
      runScenario(
        ctx,
        `kill -9 ×${KILLS}, DQ_RULES=seed-002`,
        trafficUnderTest(opts(ctx.brokers, { extraEnv: { DQ_RULES: 'seed-002' } })),
        g,
        LOAD,
        killRandomly(KILLS, 1),
      ),
    )
    if (g === 'at_least_once') {
      // The commit interval bounds what a kill -9 repeats under at-least-once.
      scenario(`kill -9 ×${KILLS} COMMIT_INTERVAL_MS=200 traffic ${g}`, (ctx) =>
        runScenario(
          ctx,
          `kill -9 ×${KILLS}, COMMIT_INTERVAL_MS=200`,
          trafficUnderTest(opts(ctx.brokers, { extraEnv: { COMMIT_INTERVAL_MS: '200' } })),
          g,
          LOAD,
          killRandomly(KILLS, 1),
        ),
      )
    }
    scenario(`kill -9 ×${KILLS} traffic-windows ${g}`, (ctx) =>
      runScenario(
        ctx,
        `kill -9 ×${KILLS}`,
        trafficWindowsUnderTest(opts(ctx.brokers)),
        g,
        LOAD,
        killRandomly(KILLS, 2),
      ),
    )
    scenario(`kill -9 ×${KILLS} rideshare ${g}`, async (ctx) => {
      // rideshareRedisOutage with no outage: the same wiring, faults by killRandomly.
      return rideshareKills(ctx, g)
    })
    scenario(`malformed 10k traffic ${g}`, (ctx) =>
      runScenario(
        ctx,
        '10,000 malformed in 100,000',
        trafficUnderTest(opts(ctx.brokers, { malformedEvery: 10 })),
        g,
        LOAD,
        async () => [],
      ),
    )
    scenario(`rebalance 1→3→1 traffic-windows ${g}`, (ctx) =>
      runScenario(ctx, 'rebalance 1→3→1', trafficWindowsUnderTest(opts(ctx.brokers)), g, LOAD, rebalance()),
    )
    scenario(`Redis stopped 20 s rideshare ${g}`, (ctx) => rideshareRedisOutage(ctx, g, LOAD, 20_000))
    scenario(`PostgreSQL stopped 20 s ${g}`, (ctx) => postgresOutage(ctx, g, LOAD, 20_000))
  }

  describe('the Kafka broker stopped and restarted mid-stream (a private broker)', () => {
    let broker: PrivateBroker | undefined
    const cleanup = suiteCleanup()
    const wanted = only === undefined || 'broker restart'.includes(only) || only.startsWith('broker')
    before(async () => {
      if (wanted) broker = await startPrivateBroker(cleanup)
    })
    for (const g of GUARANTEES) {
      for (const make of [trafficUnderTest, trafficWindowsUnderTest]) {
        const name = `broker restart ${make === trafficUnderTest ? 'traffic' : 'traffic-windows'} ${g}`
        it(name, { skip: !wanted || (only !== undefined && !name.includes(only)) }, async (t) => {
          const ctx = {
            cleanup: testCleanup(t),
            brokers: broker!.brokers,
            log: (l: string) => t.diagnostic(l),
          }
          check(
            await runScenario(
              ctx,
              'broker stopped 10 s',
              make({ brokers: ctx.brokers, guarantee: g }),
              g,
              LOAD,
              brokerRestart(broker!, 10_000),
            ),
          )
        })
      }
    }
  })
})

async function rideshareKills(ctx: ScenarioContext, g: Guarantee): Promise<FaultRow> {
  const redis = await startRedisServer(ctx.cleanup)
  const sub = await subscriber(ctx.cleanup, redis)
  const app = rideshareUnderTest({ brokers: ctx.brokers, guarantee: g, redis, received: () => sub.received })
  return runScenario(ctx, `kill -9 ×${KILLS}`, app, g, LOAD, killRandomly(KILLS, 3))
}

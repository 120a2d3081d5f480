/**
 * The Kafka broker frozen (SIGSTOP) for 15 s while traffic-windows (at-least-once) reads a steady
 * input: no window may close on the wall clock while the broker cannot be read, so the records written
 * meanwhile are not late when it is back. A frozen broker keeps its connections open, so the app gets no
 * error for 30 s (the request timeout), only fetches that never answer: before the source's caught-up
 * signal, the wall clock closed the open windows during the freeze and their records were dead-lettered
 * as late once it was over. Windows equal a clean run's (computed from the inputs), no dead letter,
 * nothing lost. A private broker (test/faults/kafka-broker.ts); the shared one is never touched.
 * Part of `npm run faults` (about a minute here, a fifth of it the broker's start-up); the broker
 * stopped and started again is the fault suite's "broker stopped 10 s" row. Without a broker: the
 * operator logic in test/unit/window-caught-up.test.ts, the source's signal in
 * test/integration/kafka-caught-up.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { testCleanup } from '../integration/helpers/services.ts'
import { trafficWindowsUnderTest } from './apps.ts'
import { table } from './harness.ts'
import { startPrivateBroker } from './kafka-broker.ts'
import { brokerFreeze, runScenario } from './scenarios.ts'

describe('traffic-windows while the broker is away', { timeout: 180_000 }, () => {
  it('broker frozen 15 s mid-stream under at-least-once: the same windows as a clean run, nothing late', async (t) => {
    const cleanup = testCleanup(t)
    const broker = await startPrivateBroker(cleanup)
    const ctx = { cleanup, brokers: broker.brokers, log: (l: string) => t.diagnostic(l) }
    const row = await runScenario(
      ctx,
      'broker frozen 15 s',
      trafficWindowsUnderTest({ brokers: ctx.brokers, guarantee: 'at_least_once' }),
      'at_least_once',
      { count: 16_000, ratePerSec: 2000 },
      brokerFreeze(broker, 15_000),
    )
    t.diagnostic(`\n${table([row])}`)
    assert.equal(row.lost, 0, `${row.lost} windows lost`)
    assert.equal(row.deadLettered, 0, `${row.deadLettered} records dead-lettered (late)`)
    assert.equal(row.note, undefined, row.note)
  })
})

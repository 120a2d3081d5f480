/**
 * The Kafka broker stopped for 10 s while traffic-windows (at-least-once) reads a steady input: no
 * window may close on the wall clock while the broker cannot be read, so the records written meanwhile
 * are not late when it is back. Windows equal a clean run's (computed from the inputs), no dead letter,
 * nothing lost. A private broker (test/faults/kafka-broker.ts); the shared one is never stopped.
 * Part of `npm run faults` (about 40 s here, most of it two broker start-ups); the operator logic is
 * covered without a broker by test/unit/window-caught-up.test.ts, the source's signal by
 * test/integration/kafka-caught-up.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { testCleanup } from '../integration/helpers/services.ts'
import { trafficWindowsUnderTest } from './apps.ts'
import { table } from './harness.ts'
import { startPrivateBroker } from './kafka-broker.ts'
import { brokerRestart, runScenario } from './scenarios.ts'

describe('traffic-windows while the broker is away', { timeout: 180_000 }, () => {
  it('broker stopped 10 s mid-stream under at-least-once: the same windows as a clean run, nothing late', async (t) => {
    const cleanup = testCleanup(t)
    const broker = await startPrivateBroker(cleanup)
    const ctx = { cleanup, brokers: broker.brokers, log: (l: string) => t.diagnostic(l) }
    const row = await runScenario(
      ctx,
      'broker stopped 10 s',
      trafficWindowsUnderTest({ brokers: ctx.brokers, guarantee: 'at_least_once' }),
      'at_least_once',
      { count: 20_000, ratePerSec: 2000 },
      brokerRestart(broker, 10_000),
    )
    t.diagnostic(`\n${table([row])}`)
    assert.equal(row.lost, 0, `${row.lost} windows lost`)
    assert.equal(row.deadLettered, 0, `${row.deadLettered} records dead-lettered (late)`)
    assert.equal(row.note, undefined, row.note)
  })
})

/**
 * A trimmed run of the fault suite (test/faults/, `npm run faults`) for the default suite: kill -9
 * twice under load for a stateful app under exactly-once (static membership, so restarts are quick),
 * and Redis stopped mid-stream under the rideshare bridge. Same harness, same rules: nothing lost, no
 * duplicate Kafka output under exactly-once, windows equal to a clean run's.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { trafficWindowsUnderTest } from '../faults/apps.ts'
import { type FaultRow, table } from '../faults/harness.ts'
import { killRandomly, rideshareRedisOutage, runScenario } from '../faults/scenarios.ts'
import { kafkaBrokers } from './helpers/kafka.ts'
import { testCleanup } from './helpers/services.ts'

function assertRules(row: FaultRow): void {
  assert.equal(row.lost, 0, `${row.lost} lost`)
  if (!row.duplicatesAllowed) assert.equal(row.duplicated, 0, `${row.duplicated} duplicated`)
  assert.equal(row.note, undefined, row.note)
}

describe('faults, trimmed (the full suite: npm run faults)', { timeout: 180_000 }, () => {
  it('kill -9 twice while input flows: traffic-windows under exactly-once loses nothing, repeats nothing, same windows', async (t) => {
    const ctx = { cleanup: testCleanup(t), brokers: kafkaBrokers() }
    const app = trafficWindowsUnderTest({
      brokers: ctx.brokers,
      guarantee: 'exactly_once',
      extraEnv: { KAFKA_GROUP_INSTANCE_ID: 'quick-0' },
    })
    const row = await runScenario(
      ctx,
      'kill -9 ×2, static membership',
      app,
      'exactly_once',
      { count: 16_000, ratePerSec: 2000 },
      killRandomly(2, 7),
    )
    t.diagnostic(`\n${table([row])}`)
    assertRules(row)
  })

  it('Redis stopped 5 s under the rideshare bridge: every trip event is published once Redis is back', async (t) => {
    const ctx = { cleanup: testCleanup(t), brokers: kafkaBrokers() }
    const row = await rideshareRedisOutage(ctx, 'at_least_once', { count: 12_000, ratePerSec: 2000 }, 5000)
    t.diagnostic(`\n${table([row])}`)
    assertRules(row)
    assert.ok(row.out >= row.recordsIn)
  })
})

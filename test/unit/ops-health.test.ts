import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ConnectorStatus } from '../../src/connectors/contract.ts'
import { VirtualClock } from '../../src/core/clock.ts'
import { createHealthCheck, healthFrom, healthHttpStatus } from '../../src/ops/health.ts'

const up: ConnectorStatus = { connected: true }
const down = (message?: string): ConnectorStatus => ({ connected: false, message })

describe('healthFrom', () => {
  it('matches the rideshare bridge healthy example field for field, in order', () => {
    const report = healthFrom({ kafka: up, redis: up }, { uptimeSeconds: 125.44 })
    assert.equal(
      JSON.stringify(report),
      '{"status":"healthy","kafka_connected":true,"redis_connected":true,"uptime_seconds":125.4,"message":"All connections active"}',
    )
    assert.equal(healthHttpStatus(report), 200)
  })

  it('matches the degraded example when Kafka has just dropped', () => {
    const report = healthFrom({ kafka: down(), redis: up }, { uptimeSeconds: 125.4 })
    assert.deepEqual(report, {
      status: 'degraded',
      kafka_connected: false,
      redis_connected: true,
      uptime_seconds: 125.4,
      message: 'Kafka disconnected',
    })
    assert.equal(healthHttpStatus(report), 200, 'degraded stays in rotation')
  })

  it('names each component that is down, with its reason', () => {
    const report = healthFrom({ kafka: up, redis: down('ECONNREFUSED'), postgres: down() })
    assert.equal(report.status, 'degraded')
    assert.equal(report.message, 'Redis disconnected: ECONNREFUSED; Postgres disconnected')
    assert.equal(report.postgres_connected, false)
  })

  it('is unhealthy when everything is down', () => {
    const report = healthFrom({ kafka: down(), redis: down() })
    assert.equal(report.status, 'unhealthy')
    assert.equal(healthHttpStatus(report), 503)
  })

  it('is unhealthy when an essential component has been down longer than the limit', () => {
    const now = 1_000_000
    const components = { kafka: down(), redis: up }
    assert.equal(healthFrom(components, { now, downSince: { kafka: now - 29_999 } }).status, 'degraded')
    assert.equal(healthFrom(components, { now, downSince: { kafka: now - 30_000 } }).status, 'unhealthy')
  })

  it('lets the app choose which components are essential', () => {
    const now = 1_000_000
    const downSince = { kafka: 0, redis: 0 }
    assert.equal(healthFrom({ kafka: up, redis: down() }, { now, downSince }).status, 'degraded')
    assert.equal(
      healthFrom({ kafka: up, redis: down() }, { now, downSince, essential: ['redis'] }).status,
      'unhealthy',
    )
  })
})

describe('createHealthCheck', () => {
  it('turns a long Kafka outage from degraded into unhealthy and recovers when it reconnects', () => {
    const clock = new VirtualClock(0)
    let kafka: ConnectorStatus = up
    const check = createHealthCheck({
      components: () => ({ kafka, redis: up }),
      clock,
      unhealthyAfterMs: 10_000,
    })
    assert.equal(check().status, 'healthy')
    kafka = down('broker unreachable')
    assert.equal(check().status, 'degraded')
    clock.advance(9_000)
    assert.equal(check().status, 'degraded')
    clock.advance(1_000)
    assert.equal(check().status, 'unhealthy')
    kafka = up
    assert.equal(check().status, 'healthy')
    kafka = down()
    assert.equal(check().status, 'degraded', 'the outage clock restarts after recovery')
  })
})

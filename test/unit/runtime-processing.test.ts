import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Sink } from '../../src/connectors/contract.ts'
import { MemoryBroker, memoryTransport } from '../../src/connectors/memory/index.ts'
import { VirtualClock } from '../../src/core/clock.ts'
import { count } from '../../src/dsl/aggregations.ts'
import { tumbling } from '../../src/time/windows.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { run } from '../../src/runtime/runner.ts'
import { startService } from '../../src/service/service.ts'
import { trafficApp } from '../../src/apps/traffic/app.ts'

describe('processing guarantee', () => {
  it('refuses exactly-once on a transport without transactions, naming the option, before connecting', async () => {
    const p = pipeline('eos-memory')
    p.stream('in').to('out')
    await assert.rejects(
      run(p, { transport: memoryTransport(), metrics: createMetrics(), logger: silentLogger, processing: 'exactly-once' }),
      (err: { code?: string; message: string }) => {
        assert.equal(err.code, 'CONFIG_INVALID')
        assert.match(err.message, /'exactly-once' needs a transport whose sink writes Kafka transactions/)
        return true
      },
    )
  })

  it('PROCESSING_GUARANTEE is checked like every other variable', async () => {
    await assert.rejects(
      startService(trafficApp, {
        env: { PROCESSING_GUARANTEE: 'twice' },
        logger: silentLogger,
        handleSignals: false,
        http: false,
        transport: () => memoryTransport(),
      }),
      /PROCESSING_GUARANTEE.*at_least_once, exactly_once, exactly_once_v2/s,
    )
  })
})

describe('a failed start', () => {
  it('closes what it opened: an external sink that cannot open leaves no timers behind', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1))
    const broken: Sink<string> = {
      id: 'broken',
      open: async () => {
        throw new Error('connection refused')
      },
      add: () => {},
      flush: async () => {},
      backlog: () => 0,
      close: async () => {},
      status: () => ({ connected: false }),
    }
    const p = pipeline('failed-start')
    const s = p.stream<{ k: string }>('in')
    s.groupBy((v) => v.k)
      .window(tumbling({ size: 1000 }), { timestamp: () => clock.now() })
      .aggregate(count(), { name: 'counts', durable: false, emit: 'final' })
      .to('out')
    s.toSink(broken, { map: (r) => r.value.k })
    await assert.rejects(
      run(p, { transport: memoryTransport(new MemoryBroker(), { clock }), clock, metrics: createMetrics(), logger: silentLogger }),
      /connection refused/,
    )
    assert.equal(clock.pendingTimers(), 0, 'the window operator\'s timer was cancelled')
  })
})

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

describe('a stop with records still in an async step', () => {
  it('lets them reach the windows before the windows are drained: one result holding every record', async (t) => {
    const broker = new MemoryBroker()
    const p = pipeline('stop-drain')
    p.stream<{ k: string; slow?: boolean }>('in')
      .mapAsync(async (v) => {
        // Longer than a stop used to wait (1 s) before draining the windows.
        if (v.slow) await new Promise((r) => setTimeout(r, 1500))
        return v
      })
      .groupBy((v) => v.k, { repartition: false })
      .window(tumbling({ size: 3_600_000 }), { time: 'processing' })
      .aggregate(count(), { name: 'counts', durable: false, emit: 'final' })
      .to('out')
    const now = Date.now()
    broker.append({ topic: 'in', key: Buffer.from('a'), value: Buffer.from('{"k":"a"}') }, now)
    broker.append({ topic: 'in', key: Buffer.from('a'), value: Buffer.from('{"k":"a","slow":true}') }, now)
    const running = await run(p, {
      transport: memoryTransport(broker),
      metrics: createMetrics(),
      logger: silentLogger,
      fromBeginning: true,
    })
    t.after(() => running.stop())
    // Both records read: the fast one held by its open window, the slow one still in mapAsync.
    while (running.task.tracker.inFlight() < 2) await new Promise((r) => setTimeout(r, 10))
    await running.stop('test')
    const results = broker.all('out').map((r) => JSON.parse(r.value!.toString()) as { value: number })
    assert.deepEqual(results.map((r) => r.value), [2])
  })
})

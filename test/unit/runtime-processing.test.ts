import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { memoryTransport } from '../../src/connectors/memory/index.ts'
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

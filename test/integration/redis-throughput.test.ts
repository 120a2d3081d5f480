/**
 * Publish throughput through redisPublishSink into a private redis-server, reported as a test
 * diagnostic. The floor is deliberately low (a loaded CI box must pass); the number is what matters:
 *
 *   node --test test/integration/redis-throughput.test.ts    # ℹ publishes/s ...
 *
 * REDIS_THROUGHPUT_MESSAGES (default 200,000) and REDIS_THROUGHPUT_PAYLOAD bytes (default 200, about
 * a JSON driver position) tune the run.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { redisPublishSink } from '../../src/connectors/redis/index.ts'
import { startRedisServer, testCleanup } from './helpers/services.ts'

const MESSAGES = Number(process.env.REDIS_THROUGHPUT_MESSAGES ?? 200_000)
const PAYLOAD = Number(process.env.REDIS_THROUGHPUT_PAYLOAD ?? 200)

it('publishes every message of a large burst through the sink (checkpoint every 10,000 adds); reports the rate', async (t) => {
  const cleanup = testCleanup(t)
  const server = await startRedisServer(cleanup)
  const sink = redisPublishSink({ port: server.port, name: 'throughput' })
  cleanup(() => sink.close())
  await sink.open()
  const message = Buffer.alloc(PAYLOAD, 'x')
  const started = performance.now()
  for (let i = 0; i < MESSAGES; i++) {
    sink.add({ channel: 'driver-updates', message })
    // What the runtime does between batches: give the event loop a turn, and checkpoint now and then.
    if (i % 10_000 === 9_999) await sink.flush()
  }
  await sink.flush()
  const seconds = (performance.now() - started) / 1000
  const rate = Math.round(MESSAGES / seconds)
  const { latency } = sink.stats()
  t.diagnostic(
    `publishes/s ${rate} (${MESSAGES} × ${PAYLOAD} B in ${seconds.toFixed(2)} s); ` +
      `round trip of a message's pipeline avg ${latency.avg_ms} ms, p95 ${latency.p95_ms} ms over ${latency.count} messages`,
  )
  assert.equal(sink.stats().written, MESSAGES)
})

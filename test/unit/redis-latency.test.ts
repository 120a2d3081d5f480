import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LatencyWindow } from '../../src/connectors/redis/latency.ts'

describe('redis publish latency (seed 000 redis_publish_latency: per message)', () => {
  it('counts messages, not round trips: a pipeline of 1,000 counts 1,000', () => {
    const w = new LatencyWindow()
    w.observe(2, 1000)
    w.observe(4, 500)
    const s = w.summary()
    assert.equal(s.count, 1500)
    // Each message waited its pipeline's round trip: (1000 × 2 + 500 × 4) / 1500.
    assert.equal(s.avg_ms, 2.667)
  })

  it('p95 is over messages: one slow pipeline of few messages does not make the 95th percentile', () => {
    const w = new LatencyWindow()
    w.observe(1, 990)
    w.observe(50, 10)
    assert.equal(w.summary().p95_ms, 1)
    w.observe(50, 100)
    assert.equal(w.summary().p95_ms, 50)
  })

  it('p95 is over the last `size` pipelines; avg and count over everything', () => {
    const w = new LatencyWindow(2)
    w.observe(100, 10)
    w.observe(1, 10)
    w.observe(1, 10)
    const s = w.summary()
    assert.equal(s.p95_ms, 1)
    assert.equal(s.count, 30)
    assert.equal(s.avg_ms, 34)
  })

  it('is zero before anything is observed, and ignores empty pipelines', () => {
    const w = new LatencyWindow()
    w.observe(5, 0)
    assert.deepEqual(w.summary(), { avg_ms: 0, p95_ms: 0, count: 0 })
  })
})

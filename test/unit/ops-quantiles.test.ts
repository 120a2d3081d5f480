import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HistogramSeries, latencyMs } from '../../src/ops/histogram.ts'
import { QuantileSketch, RELATIVE_ACCURACY } from '../../src/ops/sketch.ts'

/** A seeded PRNG so the distributions are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!
}

function assertClose(actual: number, expected: number, label: string): void {
  const error = Math.abs(actual - expected) / expected
  assert.ok(
    error <= RELATIVE_ACCURACY + 1e-9,
    `${label}: ${actual} vs ${expected} (${(error * 100).toFixed(2)}%)`,
  )
}

function checkDistribution(name: string, draw: () => number, n = 50_000): void {
  const sketch = new QuantileSketch()
  const values: number[] = []
  for (let i = 0; i < n; i++) {
    const v = draw()
    values.push(v)
    sketch.add(v)
  }
  values.sort((a, b) => a - b)
  for (const q of [0.5, 0.95, 0.99])
    assertClose(sketch.quantile(q), exactQuantile(values, q), `${name} p${q * 100}`)
  assert.equal(sketch.quantile(0), values[0])
  assert.equal(sketch.quantile(1), values.at(-1))
}

describe('quantile sketch', () => {
  it('is within 1% on a uniform distribution', () => {
    const rand = mulberry32(1)
    checkDistribution('uniform', () => 0.001 + rand() * 0.999)
  })

  it('is within 1% on an exponential (long-tailed) latency distribution', () => {
    const rand = mulberry32(2)
    checkDistribution('exponential', () => -Math.log(1 - rand()) * 0.005)
  })

  it('is within 1% on a log-normal distribution spanning several orders of magnitude', () => {
    const rand = mulberry32(3)
    const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
    checkDistribution('lognormal', () => Math.exp(-6 + 2 * normal()))
  })

  it('gives exact answers for constant input', () => {
    const sketch = new QuantileSketch()
    for (let i = 0; i < 1000; i++) sketch.add(0.25)
    assert.equal(sketch.quantile(0.5), 0.25)
    assert.equal(sketch.quantile(0.99), 0.25)
  })

  it('keeps memory bounded however many values it sees', () => {
    const sketch = new QuantileSketch()
    const rand = mulberry32(4)
    for (let i = 0; i < 1_000_000; i++) sketch.add(1e-6 * 10 ** (rand() * 12))
    assert.equal(sketch.count, 1_000_000)
    assert.ok(sketch.allocatedBuckets <= 2500, `buckets: ${sketch.allocatedBuckets}`)
  })

  it('handles zero, negative, NaN and huge values without breaking', () => {
    const sketch = new QuantileSketch()
    for (const v of [0, -1, Number.NaN, 1e300, Infinity, 0.5]) sketch.add(v)
    assert.equal(sketch.count, 5, 'NaN is ignored')
    assert.equal(sketch.quantile(0), -1)
    assert.equal(sketch.quantile(0.25), 0)
    assert.ok(Math.abs(sketch.quantile(0.5) - 0.5) <= 0.5 * RELATIVE_ACCURACY)
    assert.equal(sketch.quantile(1), Infinity)
    assert.equal(new QuantileSketch().quantile(0.5), 0, 'empty is 0')
  })
})

describe('histogram series', () => {
  it('summarises count, sum, avg, min, max and percentiles', () => {
    const h = new HistogramSeries([0.01, 0.1])
    for (let i = 1; i <= 100; i++) h.observe(i / 1000)
    const s = h.summary()
    assert.equal(s.count, 100)
    assert.ok(Math.abs(s.sum - 5.05) < 1e-9)
    assert.equal(s.min, 0.001)
    assert.equal(s.max, 0.1)
    assertClose(s.p50, 0.05, 'p50')
    assertClose(s.p95, 0.095, 'p95')
    assert.deepEqual(h.cumulative(), [10, 100, 100])
  })

  it('converts to the millisecond shape apps publish', () => {
    assert.deepEqual(
      latencyMs({ count: 2, sum: 0.0046, p50: 0.0023, p95: 0.0058, p99: 0.0058, max: 0.006 }),
      {
        avg_ms: 2.3,
        p50_ms: 2.3,
        p95_ms: 5.8,
        p99_ms: 5.8,
        max_ms: 6,
        count: 2,
      },
    )
  })
})

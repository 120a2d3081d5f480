import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { VirtualClock } from '../../src/core/clock.ts'
import { createMetrics } from '../../src/ops/metrics.ts'
import { createRateMeter, rateOf } from '../../src/ops/rate.ts'

describe('rate meter', () => {
  it('reports events per second over the last 10 seconds', () => {
    const clock = new VirtualClock(1_000_000)
    const meter = createRateMeter({ clock })
    for (let s = 0; s < 30; s++) {
      meter.mark(100)
      clock.advance(1000)
    }
    assert.ok(Math.abs(meter.perSecond() - 100) <= 10, `${meter.perSecond()}`)
    assert.equal(meter.total(), 3000)
  })

  it('drops to zero once the window has passed with no events', () => {
    const clock = new VirtualClock(0)
    const meter = createRateMeter({ clock })
    meter.mark(500)
    clock.advance(11_000)
    assert.equal(meter.perSecond(), 0)
  })

  it('does not underestimate right after creation', () => {
    const clock = new VirtualClock(5_000)
    const meter = createRateMeter({ clock })
    for (let i = 0; i < 4; i++) {
      meter.mark(50)
      clock.advance(500)
    }
    assert.equal(meter.perSecond(), 100)
  })
})

describe('rateOf', () => {
  it('made on the first read with since, reads the rate since then instead of 0', () => {
    const clock = new VirtualClock(10_000)
    const since = clock.now()
    let total = 0
    clock.advance(3000)
    total = 6000
    const rate = rateOf(() => total, { clock, since })
    assert.equal(rate.perSecond(), 2000)
    clock.advance(1000)
    total += 2500
    assert.equal(rate.perSecond(), (6000 + 2500) / 4) // over the window, which still reaches back to since
  })

  it('made on the first read without since, reads 0 until a second sample exists', () => {
    const clock = new VirtualClock(10_000)
    const rate = rateOf(() => 6000, { clock })
    assert.equal(rate.perSecond(), 0)
  })

  it('derives a per-second rate from a counter without touching the hot path', () => {
    const clock = new VirtualClock(0)
    const consumed = createMetrics({ processMetrics: false }).counter('consumed_total', 'c')
    const rate = rateOf(consumed, { clock })
    for (let s = 0; s < 20; s++) {
      consumed.inc(undefined, 154)
      clock.advance(1000)
      rate.perSecond()
    }
    assert.ok(Math.abs(rate.perSecond() - 154) < 1, `${rate.perSecond()}`)
  })

  it('follows a change of pace within the window', () => {
    const clock = new VirtualClock(0)
    let total = 0
    const rate = rateOf(() => total, { clock })
    for (let s = 0; s < 20; s++) {
      total += 10
      clock.advance(1000)
      rate.perSecond()
    }
    for (let s = 0; s < 12; s++) {
      total += 1000
      clock.advance(1000)
      rate.perSecond()
    }
    assert.ok(Math.abs(rate.perSecond() - 1000) < 1, `${rate.perSecond()}`)
  })

  it('gives the rate since the last read when read less often than the window', () => {
    const clock = new VirtualClock(0)
    let total = 0
    const rate = rateOf(() => total, { clock })
    total = 600
    clock.advance(60_000)
    assert.equal(rate.perSecond(), 10)
    total = 1200
    clock.advance(30_000)
    assert.equal(rate.perSecond(), 20)
  })

  it('sums every label set of a registry counter when no labels are given', () => {
    const clock = new VirtualClock(0)
    const c = createMetrics({ processMetrics: false }).counter('c_total', 'c')
    assert.equal(c.total(), 0)
    const rate = rateOf(c, { clock })
    c.inc({ topic: 'a' }, 30)
    c.inc({ topic: 'b' }, 20)
    clock.advance(5000)
    assert.equal(c.total(), 50)
    assert.equal(rate.perSecond(), 10)
  })

  it('reads a labelled series', () => {
    const clock = new VirtualClock(0)
    const c = createMetrics({ processMetrics: false }).counter('c_total', 'c')
    const rate = rateOf(c, { clock, labels: { topic: 'a' } })
    c.inc({ topic: 'a' }, 50)
    c.inc({ topic: 'b' }, 999)
    clock.advance(5000)
    assert.equal(rate.perSecond(), 10)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OffsetTracker } from '../../src/runtime/offset-tracker.ts'

const tp = { topic: 't', partition: 0 }

describe('OffsetTracker', () => {
  it('commits only below the lowest record still in flight', () => {
    const t = new OffsetTracker()
    const a = t.begin(tp, 10)
    const b = t.begin(tp, 11)
    const c = t.begin(tp, 12)
    b.done()
    c.done()
    assert.deepEqual(t.committable(), [], 'offset 10 still in flight')
    a.done()
    assert.deepEqual(t.committable(), [{ ...tp, offset: 13 }])
  })

  it('a hold keeps a processed record uncommitted until released', () => {
    const t = new OffsetTracker()
    const a = t.begin(tp, 0)
    const release = a.hold()
    a.done()
    assert.deepEqual(t.committable(), [])
    release()
    release() // twice is harmless
    assert.deepEqual(t.committable(), [{ ...tp, offset: 1 }])
  })

  it('does not offer the same offset twice once committed', () => {
    const t = new OffsetTracker()
    t.begin(tp, 0).done()
    const first = t.committable()
    t.markCommitted(first)
    assert.deepEqual(t.committable(), [])
    t.begin(tp, 1).done()
    assert.deepEqual(t.committable(), [{ ...tp, offset: 2 }])
  })

  it('idle resolves when a partition has nothing in flight', async () => {
    const t = new OffsetTracker()
    const a = t.begin(tp, 0)
    let idle = false
    const p = t.idle([tp]).then(() => {
      idle = true
    })
    await Promise.resolve()
    assert.equal(idle, false)
    a.done()
    await p
    assert.equal(idle, true)
  })

  it('handles long runs without growing (100k records)', () => {
    const t = new OffsetTracker()
    const pending = []
    for (let i = 0; i < 100_000; i++) pending.push(t.begin(tp, i))
    for (const p of pending) p.done()
    assert.equal(t.inFlight(), 0)
    assert.deepEqual(t.committable(), [{ ...tp, offset: 100_000 }])
  })
})

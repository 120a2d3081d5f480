import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { WeirError } from '../../src/core/errors.ts'
import { boundedSeenSet, compileRules, type RuleInput, type SeenFn } from '../../src/rules/index.ts'

const rule: RuleInput = {
  id: 'dup',
  type: 'duplicate',
  keys: ['sensor_id', 'timestamp'],
  timestampField: 'timestamp',
  withinMs: 3_600_000,
  maxKeys: 1000,
}

describe('duplicate rule', () => {
  it('flags the second record with the same key fields', () => {
    const c = compileRules({ rules: [rule] }, { now: () => 0 })
    const r = { sensor_id: 'METR_LA_001', timestamp: '2025-06-01T12:00:00Z' }
    assert.deepEqual(c(r), [])
    const vs = c({ ...r })
    assert.equal(vs.length, 1)
    assert.equal(vs[0]!.rule, 'dup')
    assert.equal(vs[0]!.field, 'sensor_id,timestamp')
    assert.equal(vs[0]!.value, 'METR_LA_001|2025-06-01T12:00:00Z')
    assert.deepEqual(c({ ...r, timestamp: '2025-06-01T12:05:00Z' }), [])
  })

  it('treats the same key further apart than withinMs as new', () => {
    const c = compileRules(
      { rules: [{ type: 'duplicate', keys: ['id'], timestampField: 'ts', withinMs: 1000 }] },
      { now: () => 0 },
    )
    assert.deepEqual(c({ id: 'a', ts: 0 }), [])
    assert.equal(c({ id: 'a', ts: 1000 }).length, 1)
    assert.deepEqual(c({ id: 'a', ts: 2001 }), [])
  })

  it('uses the clock when there is no timestamp field', () => {
    let t = 0
    const c = compileRules({ rules: [{ type: 'duplicate', keys: ['id'], withinMs: 10 }] }, { now: () => t })
    assert.deepEqual(c({ id: 'a' }), [])
    t = 5
    assert.equal(c({ id: 'a' }).length, 1)
    t = 100
    assert.deepEqual(c({ id: 'a' }), [])
  })

  it('does not remember records that fail another error rule', () => {
    const c = compileRules({ rules: [{ type: 'range', field: 'v', max: 1 }, rule] }, { now: () => 0 })
    const bad = { sensor_id: 'S', timestamp: '2025-06-01T12:00:00Z', v: 5 }
    assert.deepEqual(
      c(bad).map((v) => v.type),
      ['range'],
    )
    assert.deepEqual(c({ ...bad, v: 0 }), [], 'the corrected resend is not a duplicate')
    assert.deepEqual(
      c({ ...bad, v: 0 }).map((v) => v.type),
      ['duplicate'],
    )
  })

  it('skips records missing a key field', () => {
    const c = compileRules({ rules: [rule] }, { now: () => 0 })
    assert.deepEqual(c({ sensor_id: 'S' }), [])
    assert.deepEqual(c({ sensor_id: 'S' }), [])
  })

  it('asks the caller for its memory when given a seen factory', () => {
    const asked: Array<[string, number]> = []
    const seen: SeenFn = (key, ts) => {
      asked.push([key, ts])
      return key.startsWith('dup')
    }
    const factoryFor: string[] = []
    const c = compileRules(
      { rules: [rule] },
      {
        now: () => 0,
        seen: (r) => {
          factoryFor.push(r.id)
          return seen
        },
      },
    )
    assert.deepEqual(factoryFor, ['dup'])
    assert.deepEqual(c({ sensor_id: 'x', timestamp: 5 }), [])
    assert.equal(c({ sensor_id: 'dup', timestamp: 6 }).length, 1)
    assert.deepEqual(asked, [
      ['x\u00005', 5],
      ['dup\u00006', 6],
    ])
  })
})

describe('boundedSeenSet', () => {
  it('never holds more than maxKeys, whatever comes in', () => {
    const s = boundedSeenSet({ withinMs: 1e12, maxKeys: 1000 })
    for (let i = 0; i < 200_000; i++) s.seen(`k${i}`, i)
    assert.equal(s.size, 1000)
  })

  it('stays O(1) a call when full (no rescans of evicted slots)', () => {
    const s = boundedSeenSet({ withinMs: 1e12, maxKeys: 100_000 })
    const t = performance.now()
    for (let i = 0; i < 300_000; i++) s.seen(`k${i}`, i)
    const ms = performance.now() - t
    // ~0.3 s on a busy laptop; a front-deleting Map took ~25 s here.
    assert.ok(ms < 5000, `${Math.round(ms)} ms`)
    assert.equal(s.size, 100_000)
  })

  it('forgets the least recently seen key first', () => {
    const s = boundedSeenSet({ withinMs: 1e12, maxKeys: 2 })
    s.seen('a', 1)
    s.seen('b', 2)
    assert.equal(s.seen('a', 3), true) // touches a
    s.seen('c', 4) // evicts b
    assert.equal(s.seen('a', 5), true)
    assert.equal(s.seen('b', 6), false)
  })

  it('drains expired keys as time moves on, without a sweep', () => {
    const s = boundedSeenSet({ withinMs: 100, maxKeys: 1_000_000 })
    for (let i = 0; i < 10_000; i++) s.seen(`k${i}`, i)
    assert.ok(s.size < 1000, `size ${s.size}`)
  })

  it('clears', () => {
    const s = boundedSeenSet({ withinMs: 10, maxKeys: 10 })
    s.seen('a', 0)
    s.clear()
    assert.equal(s.size, 0)
    assert.equal(s.seen('a', 0), false)
  })

  it('refuses nonsense bounds', () => {
    assert.throws(() => boundedSeenSet({ withinMs: -1, maxKeys: 1 }), WeirError)
    assert.throws(() => boundedSeenSet({ withinMs: 1, maxKeys: 0 }), WeirError)
  })
})

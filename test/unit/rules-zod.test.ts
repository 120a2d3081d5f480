import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { toEpochMs, validateWith } from '../../src/rules/index.ts'

const Order = z
  .object({
    id: z.string(),
    qty: z.int().min(1),
    price: z.number(),
    total: z.number(),
    tags: z.array(z.string()).max(2).optional(),
    status: z.enum(['new', 'paid']),
    email: z.email().optional(),
    ship: z.object({ city: z.string().min(2) }).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.total !== o.qty * o.price)
      ctx.addIssue({
        code: 'custom',
        path: ['total'],
        message: 'total ≠ qty × price',
        params: { rule: 'total', type: 'crossField' },
      })
  })

const good = { id: 'o1', qty: 2, price: 5, total: 10, status: 'new' }

describe('validateWith', () => {
  const check = validateWith(Order)

  it('returns the parsed value when valid', () => {
    assert.deepEqual(check({ ...good, extra: 1 }), { ok: true, value: good })
  })

  it('maps each issue to a violation with the dotted field and the value', () => {
    const r = check({ ...good, qty: 0, total: 0, ship: { city: 'X' } })
    assert.equal(r.ok, false)
    if (r.ok) return
    assert.deepEqual(
      r.violations.map((v) => [v.rule, v.type, v.field, v.value]),
      [
        ['qty:range', 'range', 'qty', 0],
        ['ship.city:length', 'length', 'ship.city', 'X'],
      ],
    )
    assert.equal(r.violations[0]!.severity, 'error')
  })

  it('maps zod codes onto the rule types', () => {
    const r = check({ qty: '2', price: 5, total: 10, status: 'gone', tags: ['a', 'b', 'c'], email: 'nope' })
    assert.equal(r.ok, false)
    if (r.ok) return
    const byField = Object.fromEntries(r.violations.map((v) => [v.field, v.type]))
    assert.deepEqual(byField, {
      id: 'required',
      qty: 'type',
      status: 'enum',
      tags: 'length',
      email: 'pattern',
    })
  })

  it('uses the rule and type a refinement gives in params', () => {
    const r = check({ ...good, total: 11 })
    assert.equal(r.ok, false)
    if (r.ok) return
    assert.deepEqual(
      r.violations.map((v) => [v.rule, v.type, v.field, v.value]),
      [['total', 'crossField', 'total', 11]],
    )
  })

  it('prefixes rule ids and reports a root problem as field ""', () => {
    const r = validateWith(Order, { prefix: 'Order' })('text')
    assert.equal(r.ok, false)
    if (r.ok) return
    assert.equal(r.violations[0]!.field, '')
    assert.equal(r.violations[0]!.rule, 'Order:$:type')
  })
})

describe('toEpochMs', () => {
  it('reads epoch ms and ISO-8601 text, and nothing else', () => {
    assert.equal(toEpochMs(5), 5)
    assert.equal(toEpochMs('2025-06-01T12:00:00.250Z'), Date.UTC(2025, 5, 1, 12, 0, 0, 250))
    assert.equal(toEpochMs('2025-06-01'), Date.UTC(2025, 5, 1))
    assert.equal(toEpochMs('2025-06-01T12:00:00+05:30'), Date.UTC(2025, 5, 1, 6, 30))
    assert.equal(toEpochMs('2025-06-01T12:00:00-0800'), Date.UTC(2025, 5, 1, 20))
    assert.equal(toEpochMs(new Date(7)), 7)
    for (const bad of [
      '1700000000000',
      '2025-02-30',
      '2025-06-01T25:00:00Z',
      '2025-06-01T12:00:00Zx',
      'now',
      Number.POSITIVE_INFINITY,
      null,
      {},
    ]) {
      assert.ok(Number.isNaN(toEpochMs(bad)), String(bad))
    }
  })
})

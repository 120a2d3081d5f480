import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { MarketOrder, SocialPost } from '../../src/apps/millionx/domain/models.ts'
import { millionxGenerator } from '../../src/generators/index.ts'
import { toEpochMs, validateWith, zodViolations } from '../../src/rules/index.ts'
import { countRuntimeRuns } from './helpers/zod-runtime.ts'

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

  it("decides a valid record without zod's runtime parser, an invalid one with it", () => {
    const schema = Order.clone()
    const runtimeRuns = countRuntimeRuns(schema)
    const check = validateWith(schema)
    assert.equal(check({ ...good, tags: ['a'], ship: { city: 'Dhaka' } }).ok, true)
    assert.equal(runtimeRuns(), 0)
    assert.equal(check({ ...good, total: 11 }).ok, false)
    assert.equal(runtimeRuns(), 1)
  })

  it('gives what zod gives, value and violations, on generated MillionX records', () => {
    const g = millionxGenerator({ seed: 7, invalidShare: 0.3 })
    const checks = { social: validateWith(SocialPost), market: validateWith(MarketOrder) }
    let valid = 0
    for (let i = 0; i < 3000; i++) {
      const r = g.next()
      const kind = r.topic.includes('.social.') ? 'social' : 'market'
      const input: unknown = JSON.parse(JSON.stringify(r.value))
      const z4 = (kind === 'social' ? SocialPost : MarketOrder).safeParse(input)
      const expected = z4.success
        ? { ok: true, value: z4.data }
        : { ok: false, violations: zodViolations(z4.error.issues, input) }
      const got = checks[kind](input)
      assert.deepStrictEqual(got, expected)
      // Key order too: the validated record is written as JSON.
      assert.equal(JSON.stringify(got), JSON.stringify(expected))
      if (got.ok) valid++
    }
    assert.ok(valid > 1500 && valid < 2700, `${valid} valid of 3000`)
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

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  MarketOrder,
  SocialPost,
  SOURCE_TOPICS,
  validateForTopic,
} from '../../src/apps/millionx/domain/index.ts'
import { MILLIONX_DEFECTS, millionxGenerator } from '../../src/generators/index.ts'

const T0 = Date.parse('2025-12-20T10:00:00Z')
const EMAIL = /[\w.+-]+@[\w-]+\.[a-z]{2,}/
const BD_PHONE = /\+8801[3-9]\d{8}/

describe('millionxGenerator', () => {
  const records = millionxGenerator({ seed: 21, invalidShare: 0.25, now: () => T0 }).take(20_000)

  it('is deterministic for a seed and clock', () => {
    const a = millionxGenerator({ seed: 5, invalidShare: 0.1, now: () => T0 }).take(2000)
    assert.deepEqual(a, millionxGenerator({ seed: 5, invalidShare: 0.1, now: () => T0 }).take(2000))
    assert.notDeepEqual(a, millionxGenerator({ seed: 6, invalidShare: 0.1, now: () => T0 }).take(2000))
  })

  it('writes to the four source topics', () => {
    assert.deepEqual([...new Set(records.map((r) => r.topic))].sort(), [...SOURCE_TOPICS].sort())
  })

  it('valid posts and orders parse with the zod models and pass their topic', () => {
    let n = 0
    for (const r of records) {
      if (r.defect !== undefined) continue
      const schema = r.topic.startsWith('source.social.') ? SocialPost : MarketOrder
      const parsed = schema.safeParse(r.value)
      assert.ok(parsed.success, JSON.stringify(parsed.error?.issues))
      assert.ok(validateForTopic(r.topic, r.value).ok)
      n++
    }
    assert.ok(n > 14_000)
  })

  it('invalid ones fail, with a violation on the spoiled field', () => {
    const kinds = new Set<string>()
    for (const r of records) {
      if (r.defect === undefined) continue
      kinds.add(r.defect.kind)
      const result = validateForTopic(r.topic, r.value)
      assert.ok(!result.ok, JSON.stringify(r))
      assert.ok(
        result.violations.some((v) => v.field === r.defect!.field),
        `${JSON.stringify(r.defect)} → ${JSON.stringify(result.violations)}`,
      )
    }
    assert.deepEqual([...kinds].sort(), [...MILLIONX_DEFECTS].sort())
  })

  it('only puts total mismatches on orders, reported by the cross-field check', () => {
    for (const r of records) {
      if (r.defect?.kind !== 'total_mismatch') continue
      assert.ok(r.topic.startsWith('source.market.'))
      const result = validateForTopic(r.topic, r.value)
      assert.ok(!result.ok && result.violations.some((v) => v.type === 'crossField'))
    }
  })

  it('carries PII for the privacy stage: e-mails and +8801 phone numbers in text and orders', () => {
    const valid = records.filter((r) => r.defect === undefined)
    const posts = valid
      .filter((r) => r.topic.startsWith('source.social.'))
      .map((r) => (r.value as SocialPost).content)
    assert.ok(posts.filter((c) => EMAIL.test(c)).length > posts.length * 0.1)
    assert.ok(posts.filter((c) => BD_PHONE.test(c)).length > posts.length * 0.1)
    const orders = valid
      .filter((r) => r.topic.startsWith('source.market.'))
      .map((r) => r.value as MarketOrder)
    for (const o of orders) assert.match(o.customer_phone!, /^\+8801[3-9]\d{8}$/)
    assert.ok(orders.filter((o) => o.customer_email !== undefined).length > orders.length * 0.5)
  })

  it('keys records by post or order id', () => {
    for (const r of records) {
      if (r.defect?.kind === 'missing_field') continue
      const v = r.value as { post_id?: string; order_id?: string }
      assert.equal(r.key, v.post_id ?? v.order_id)
    }
  })

})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  MarketOrder,
  SCHEMA_VALIDATION_ERRORS_TOPIC,
  SocialPost,
  SOURCE_TOPICS,
  VALIDATED_TOPICS,
  validateForTopic,
  validationErrorRecord,
} from '../../src/apps/millionx/domain/index.ts'

/** Seed 004's own integration-test message. */
const seedPost = {
  post_id: 'test_123',
  platform: 'tiktok',
  content: 'Check out my new phone! Contact me at john.doe@email.com or +880123456789',
  author: 'John Doe',
  engagement_count: 100,
  posted_at: '2025-12-20T10:00:00Z',
}

const order = {
  order_id: '402918374655120',
  platform: 'daraz',
  product_id: 'SKU-1',
  product_name: 'Xiaomi Redmi Note 13',
  quantity: 3,
  unit_price: 23999.99,
  total_price: 71999.97,
  currency: 'BDT',
  payment_method: 'bkash',
  status: 'confirmed',
  order_date: '2025-12-20T10:00:00+06:00',
}

describe('SocialPost', () => {
  it("accepts seed 004's test message", () => {
    assert.ok(SocialPost.safeParse(seedPost).success)
  })

  it('checks types, bounds and the platform enum', () => {
    assert.ok(!SocialPost.safeParse({ ...seedPost, engagement_count: '100' }).success)
    assert.ok(!SocialPost.safeParse({ ...seedPost, engagement_count: -1 }).success)
    assert.ok(!SocialPost.safeParse({ ...seedPost, engagement_count: 1.5 }).success)
    assert.ok(!SocialPost.safeParse({ ...seedPost, content: '' }).success)
    assert.ok(!SocialPost.safeParse({ ...seedPost, platform: 'myspace' }).success)
    assert.ok(!SocialPost.safeParse({ ...seedPost, posted_at: 'yesterday' }).success)
  })

  it('drops unknown fields, as Pydantic does', () => {
    const r = SocialPost.safeParse({ ...seedPost, surprise: true })
    assert.ok(r.success && !('surprise' in r.data))
  })
})

describe('MarketOrder', () => {
  it('accepts an order whose total is quantity × unit price (to the paisa)', () => {
    assert.ok(MarketOrder.safeParse(order).success)
    assert.ok(MarketOrder.safeParse({ ...order, total_price: 71999.98 }).success)
  })

  it('rejects a total that is off, on total_price', () => {
    const r = MarketOrder.safeParse({ ...order, total_price: 72000 })
    assert.ok(!r.success)
    assert.deepEqual(
      r.error.issues.map((i) => i.path),
      [['total_price']],
    )
  })

  it('checks quantity, price, enums', () => {
    for (const bad of [
      { quantity: 0 },
      { quantity: 2.5 },
      { unit_price: 0 },
      { payment_method: 'cheque' },
      { status: 'lost' },
      { currency: 'EUR' },
    ]) {
      assert.ok(!MarketOrder.safeParse({ ...order, ...bad }).success, JSON.stringify(bad))
    }
  })
})

describe('topics', () => {
  it('map each source topic to its validated topic', () => {
    assert.deepEqual(
      SOURCE_TOPICS.map((t) => VALIDATED_TOPICS[t]),
      [
        'validated.social.tiktok',
        'validated.social.facebook',
        'validated.market.shopify',
        'validated.market.daraz',
      ],
    )
    assert.equal(SCHEMA_VALIDATION_ERRORS_TOPIC, 'schema-validation-errors')
  })

  it('validateForTopic says where a valid record goes', () => {
    const r = validateForTopic('source.social.tiktok', seedPost)
    assert.ok(r.ok)
    assert.equal(r.topic, 'validated.social.tiktok')
    assert.equal(r.kind, 'social')
    const o = validateForTopic('source.market.daraz', order)
    assert.ok(o.ok && o.topic === 'validated.market.daraz')
  })

  it('validateForTopic rejects a record of the wrong platform for its topic', () => {
    const r = validateForTopic('source.social.facebook', seedPost)
    assert.ok(!r.ok)
    assert.deepEqual(
      r.violations.map((v) => [v.rule, v.field]),
      [['SocialPost:platform:topic', 'platform']],
    )
  })

  it('validateForTopic gives violations with prefixed rule ids', () => {
    const r = validateForTopic('source.market.daraz', { ...order, total_price: 1 })
    assert.ok(!r.ok)
    assert.deepEqual(
      r.violations.map((v) => [v.rule, v.type, v.field]),
      [['MarketOrder:total_price', 'crossField', 'total_price']],
    )
  })

  it('builds the dead-letter record with the original and every reason', () => {
    const r = validateForTopic('source.social.tiktok', { ...seedPost, engagement_count: -1 })
    assert.ok(!r.ok)
    const dlq = validationErrorRecord('source.social.tiktok', seedPost, r.violations, { now: 0 })
    assert.equal(dlq.failed_at, '1970-01-01T00:00:00.000Z')
    assert.equal(dlq.retry_count, 0)
    assert.match(dlq.error_message, /^engagement_count: /)
    assert.equal(dlq.errors, r.violations)
  })
})

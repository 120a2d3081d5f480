/**
 * What the embedding service takes from an enriched record (id, the text it embeds) and what it refuses
 * (dead letters with reasons); its env vars' checks. No services: the model and stores are tested in
 * test/integration/embeddings-model, pgvector-store and millionx-embedding-service.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  embeddable,
  embeddingServiceEnv,
  embeddingText,
  embeddingTopics,
} from '../../src/apps/millionx/stages/embedding-service.ts'
import { parseArgs } from '../../src/cli/args.ts'
import search from '../../src/cli/commands/search.ts'
import { loadConfig } from '../../src/config/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'

const json = (v: unknown) => Buffer.from(JSON.stringify(v))

describe('embedding service input', () => {
  it('embeds a post’s content with its hashtags, enriched category and location', () => {
    const text = embeddingText('social', {
      content: 'Selling my Redmi Note 12, like new',
      hashtags: ['smartphone', '#deal'],
      product_category: 'smartphone',
      location: 'Dhaka',
    })
    assert.equal(text, 'Selling my Redmi Note 12, like new · #smartphone #deal · smartphone · Dhaka')
  })

  it('reads the context enricher’s product_context.category and city, and turns PII tokens into their type word', () => {
    const text = embeddingText('social', {
      content:
        'Selling iPhone 13, call PHONE_3f9a0c1d2e4b5a69 or mail EMAIL_00aa11bb22cc33dd, ask for NAME_0123456789abcdef',
      product_context: { category: 'smartphone', confidence: 0.9, keywords: ['iphone'] },
      city: 'Sylhet',
    })
    assert.equal(text, 'Selling iPhone 13, call phone or mail email, ask for name · smartphone · Sylhet')
    assert.equal(
      embeddingText('market', {
        product_name: 'Saree',
        product_context: { category: 'fashion' },
        city: 'Dhaka',
      }),
      'Saree · fashion · Dhaka',
    )
    // Not a token: upper-case words, too-short hex, or no type prefix.
    assert.equal(
      embeddingText('market', { product_name: 'NAME_BRAND EMAIL_abc ORDER_0123456789abcdef' }),
      'NAME_BRAND EMAIL_abc ORDER_0123456789abcdef',
    )
  })

  it('embeds an order’s product name, category and shipping city, and skips what is missing', () => {
    assert.equal(
      embeddingText('market', { product_name: 'Rice cooker', category: 'home', shipping_city: 'Khulna' }),
      'Rice cooker · home · Khulna',
    )
    assert.equal(embeddingText('market', { product_name: 'Rice cooker' }), 'Rice cooker')
    assert.equal(embeddingText('market', { product_name: '   ' }), undefined)
  })

  it('keys posts and orders by post_id / order_id in their collections and keeps the record bytes', () => {
    const raw = json({ post_id: 'p1', content: 'hello', extra: { nested: true } })
    const r = embeddable('social', raw)
    assert.ok(r.ok)
    assert.equal(r.value.item.collection, 'SocialPost')
    assert.equal(r.value.item.id, 'p1')
    assert.equal(r.value.raw, raw)
    assert.deepEqual(r.value.item.properties, { post_id: 'p1', content: 'hello', extra: { nested: true } })
    const o = embeddable('market', json({ order_id: 'o1', product_name: 'Saree' }))
    assert.ok(o.ok && o.value.item.collection === 'MarketOrder' && o.value.item.id === 'o1')
  })

  it('refuses tombstones, non-JSON, non-objects, a missing or oversized id and empty text, saying why', () => {
    const reasons = (raw: Buffer | null, kind: 'social' | 'market' = 'social') => {
      const r = embeddable(kind, raw)
      assert.ok(!r.ok)
      return r.violations.map((v) => `${v.field}: ${v.message}`).join('; ')
    }
    assert.match(reasons(null), /tombstone/)
    assert.match(reasons(Buffer.from('{oops')), /not JSON/)
    assert.match(reasons(json([1, 2])), /not a JSON object/)
    assert.match(reasons(json({ content: 'no id' })), /post_id/)
    assert.match(
      reasons(json({ post_id: 'x'.repeat(600), content: 'long id' })),
      /post_id: must be a string of 1–512/,
    )
    assert.match(reasons(json({ order_id: 'o', quantity: 1 }), 'market'), /product_name: nothing to embed/)
    assert.match(reasons(json({ post_id: 7, content: '' })), /post_id.*; content: nothing to embed/)
  })

  it('puts the topic prefix in front of every topic', () => {
    assert.deepEqual(embeddingTopics('dev.'), {
      input: { social: 'dev.enriched.social.contextualized', market: 'dev.enriched.market.contextualized' },
      output: { social: 'dev.sink.snowflake.social', market: 'dev.sink.snowflake.market' },
      deadLetters: 'dev.embedding-service-errors',
    })
  })
})

describe('embedding service env', () => {
  it('has the seed’s defaults: port 6068, batches of 100, 512 tokens, the 30 s flush', () => {
    const c = loadConfig(embeddingServiceEnv, {})
    assert.equal(c.WEB_PORT, 6068)
    assert.equal(c.EMBEDDING_BATCH_SIZE, 100)
    assert.equal(c.EMBEDDING_MAX_LENGTH, 512)
    assert.equal(c.EMBEDDING_FLUSH_INTERVAL, 30_000)
    assert.equal(c.EMBEDDING_MODEL, 'sentence-transformers/all-MiniLM-L6-v2')
    assert.equal(String(c.PGVECTOR_URL), '[redacted]')
  })

  for (const [name, value] of [
    ['EMBEDDING_MAX_LENGTH', '1024'],
    ['EMBEDDING_BATCH_SIZE', '0'],
    ['EMBEDDING_DEVICE', 'tpu'],
    ['EMBEDDING_FLUSH_INTERVAL', 'soon'],
    ['VECTOR_STORE', 'weaviate'],
  ] as const) {
    it(`refuses ${name}=${value}, naming the variable`, () => {
      assert.throws(
        () => loadConfig(embeddingServiceEnv, { [name]: value }),
        (err: unknown) =>
          err instanceof WeirError && err.code === ErrorCode.CONFIG_INVALID && err.message.includes(name),
      )
    })
  }
})

describe('weir search', () => {
  for (const [argv, message] of [
    [['millionx'], /usage: weir search millionx "<query>"/],
    [['traffic', 'some query'], /only millionx has a search \(got "traffic"\)/],
    [['millionx', 'phone', '--limit', '0'], /--limit: expected a number ≥ 1/],
    [['millionx', 'phone', '--collection', 'Posts'], /--collection: expected SocialPost or MarketOrder/],
  ] as const) {
    it(`refuses \`weir search ${argv.join(' ')}\` before loading the model or connecting, saying what is expected`, async () => {
      await assert.rejects(
        search(parseArgs(argv)),
        (err: unknown) =>
          err instanceof WeirError && err.code === ErrorCode.CONFIG_INVALID && message.test(err.message),
      )
    })
  }
})

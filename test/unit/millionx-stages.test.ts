import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AppInstance, WeirApp } from '../../src/apps/app.ts'
import { millionxApp } from '../../src/apps/millionx/app.ts'
import { schemaErrorDeadLetter } from '../../src/apps/millionx/stages/dead-letter-body.ts'
import { MILLIONX_STAGES } from '../../src/apps/millionx/stages/index.ts'
import { privacyShieldStage } from '../../src/apps/millionx/stages/privacy-shield.ts'
import { schemaValidatorStage } from '../../src/apps/millionx/stages/schema-validator.ts'
import { systemClock } from '../../src/core/clock.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { originalValue } from '../../src/runtime/dead-letter.ts'
import { selectStages, stageEnv } from '../../src/service/stages.ts'
import { TestDriver } from '../../src/testing/index.ts'

const create = (app: WeirApp, env: Record<string, string> = {}) =>
  app.create({
    env,
    logger: silentLogger,
    metrics: createMetrics({ processMetrics: false }),
    clock: systemClock,
  }) as Promise<AppInstance>

const order = {
  order_id: '402918374655120',
  platform: 'daraz',
  product_id: 'SKU-1',
  product_name: 'Xiaomi Redmi Note 13',
  quantity: 1,
  unit_price: 24000,
  total_price: 24000,
  currency: 'BDT',
  customer_name: 'Nusrat Jahan',
  customer_phone: '+8801712345678',
  customer_email: 'nusrat@example.com',
  shipping_address: 'House 4, Road 2, Dhanmondi, Dhaka',
  payment_method: 'bkash',
  status: 'confirmed',
  order_date: '2025-12-20T10:00:00+06:00',
}

describe('privacy shield stage (test driver)', () => {
  it('anonymises every PII field, keeps ids, adds the seed’s metadata and counts', async () => {
    const instance = await create(privacyShieldStage, { PRIVACY_SALT: 'unit' })
    const driver = new TestDriver(instance.pipeline, { deadLetterTopic: instance.run.deadLetterTopic })
    driver.pipeRaw('validated.market.daraz', Buffer.from(JSON.stringify(order)), {
      key: Buffer.from(order.order_id),
    })
    driver.pipeRaw('validated.social.tiktok', Buffer.from('[1,2]'))
    await driver.settle()
    const [out] = driver.output<Record<string, unknown>>('enriched.market.anonymized').records()
    const v = out!.value
    assert.equal(out!.key, order.order_id)
    assert.equal(v.order_id, order.order_id)
    assert.equal(v.product_name, order.product_name)
    assert.match(String(v.customer_name), /^NAME_[0-9a-f]{16}$/)
    assert.match(String(v.customer_phone), /^PHONE_[0-9a-f]{16}$/)
    assert.match(String(v.customer_email), /^EMAIL_[0-9a-f]{16}$/)
    assert.equal(v.shipping_address, 'House 4, Road 2, Dhanmondi, Dhaka')
    assert.equal(v._anonymized, true)
    assert.equal(v._anonymization_version, '1.0')
    assert.deepEqual(v._pii_counts, { EMAIL: 1, CARD: 0, PHONE: 1, NID: 0, NAME: 1 })
    const dead = driver.deadLetters()
    assert.equal(dead.length, 1, 'a value that is not a JSON object is a dead letter')
    assert.match(dead[0]!.info.message!, /expected a JSON object, got an array/)
  })

  it('reads source.* instead with PRIVACY_SHIELD_INPUT=source, under the topic prefix', async () => {
    const instance = await create(privacyShieldStage, {
      PRIVACY_SHIELD_INPUT: 'source',
      TOPIC_PREFIX: 'dev.',
    })
    assert.deepEqual([...new Set(instance.pipeline.topology.inputTopics())].sort(), [
      'dev.source.market.daraz',
      'dev.source.market.shopify',
      'dev.source.social.facebook',
      'dev.source.social.tiktok',
    ])
  })
})

describe('schema validator dead letters (test driver)', () => {
  it('carry the seed’s JSON error body; the original comes back for replay', async () => {
    const instance = await create(schemaValidatorStage)
    const driver = new TestDriver(instance.pipeline, {
      deadLetterTopic: instance.run.deadLetterTopic,
      deadLetterValue: instance.run.deadLetterValue,
    })
    const bad = { ...order, total_price: 1 }
    const raw = Buffer.from(JSON.stringify(bad))
    driver.pipeRaw('source.market.daraz', raw, { headers: { 'weir.replay.count': Buffer.from('2') } })
    driver.pipeRaw('source.market.daraz', Buffer.from('not json'))
    await driver.settle()
    const [invalid, unreadable] = driver.broker.all('schema-validation-errors')
    const body = JSON.parse(invalid!.value!.toString())
    assert.equal(body.error_type, 'schema_validation')
    assert.match(body.error_message, /total_price/)
    assert.equal(body.retry_count, 2, 'replays so far')
    assert.equal(body.attempts, 1)
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)))
    assert.equal(body.source_topic, 'source.market.daraz')
    assert.deepEqual(body.original, bad)
    assert.ok(body.errors.some((e: { type: string }) => e.type === 'crossField'))
    assert.ok(originalValue(invalid!)!.equals(raw))
    const second = JSON.parse(unreadable!.value!.toString())
    assert.equal(second.error_type, 'deserialization')
    assert.equal(second.original, 'not json')
    assert.equal(originalValue(unreadable!)!.toString(), 'not json')
    assert.equal(schemaErrorDeadLetter.originalField, 'original_base64')
  })
})

describe('millionx stages runner', () => {
  it('lists the stages in pipeline order and runs all by default', () => {
    // The embedding service joins after the enricher when its branch is merged.
    const ids = MILLIONX_STAGES.map((s) => s.id)
    assert.deepEqual(ids.slice(0, 3), ['schema-validator', 'privacy-shield', 'context-enricher'])
    assert.deepEqual(ids.slice(3), ids.includes('embedding-service') ? ['embedding-service'] : [])
    assert.equal(selectStages(millionxApp, undefined).length, MILLIONX_STAGES.length)
    assert.deepEqual(
      selectStages(millionxApp, 'context-enricher,privacy-shield').map((s) => s.id),
      ['privacy-shield', 'context-enricher'],
    )
    assert.throws(
      () => selectStages(millionxApp, 'privacy-shield,nope'),
      /unknown stage "nope".*stages: schema-validator/,
    )
  })

  it('scopes ports, groups and dead-letter topics per stage', () => {
    const shield = MILLIONX_STAGES.find((s) => s.id === 'privacy-shield')!
    const validator = MILLIONX_STAGES.find((s) => s.id === 'schema-validator')!
    const env = {
      WEB_PORT: '7000',
      KAFKA_GROUP_ID: 'g',
      PRIVACY_SHIELD_WEB_PORT: '7066',
      KAFKA_BOOTSTRAP_SERVERS: 'k:9092',
    }
    const all = stageEnv(env, shield, { alone: false, primary: false })
    assert.equal(all.WEB_PORT, '7066')
    assert.equal(all.KAFKA_GROUP_ID, undefined, 'the validator’s group is not the shield’s')
    assert.equal(all.KAFKA_BOOTSTRAP_SERVERS, 'k:9092')
    assert.equal(stageEnv(env, validator, { alone: false, primary: true }).WEB_PORT, '7000')
    assert.equal(stageEnv({ WEB_PORT: '7000' }, shield, { alone: true, primary: false }).WEB_PORT, '7000')
  })
})

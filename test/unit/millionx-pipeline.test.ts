import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { millionxApp } from '../../src/apps/millionx/app.ts'
import { SOURCE_TOPICS, VALIDATED_TOPICS } from '../../src/apps/millionx/domain/index.ts'
import { ruleLabel, ValidatorMetrics } from '../../src/apps/millionx/metrics.ts'
import { millionxPipeline, millionxTopics } from '../../src/apps/millionx/pipeline.ts'
import { millionxGenerator } from '../../src/generators/index.ts'
import { systemClock } from '../../src/core/clock.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { TestDriver } from '../../src/testing/index.ts'

const post = {
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
  unit_price: 24000,
  total_price: 72000,
  currency: 'BDT',
  payment_method: 'bkash',
  status: 'confirmed',
  order_date: '2025-12-20T10:00:00+06:00',
}

function setup(prefix = '') {
  const metrics = createMetrics({ processMetrics: false })
  const validator = new ValidatorMetrics(metrics)
  const topics = millionxTopics(prefix)
  const p = millionxPipeline({ topics, partitions: 1, metrics: validator })
  const driver = new TestDriver(p, { metrics, deadLetterTopic: topics.deadLetters })
  return { driver, validator, metrics, topics }
}

describe('millionx schema validator (test driver)', () => {
  it('routes each valid record to its own validated topic, unknown fields dropped, key and headers kept', async () => {
    const { driver } = setup()
    const key = Buffer.from('test_123')
    driver.pipeRaw('source.social.tiktok', Buffer.from(JSON.stringify({ ...post, surprise: 1 })), {
      key,
      headers: { 'test-id': Buffer.from('a') },
    })
    driver.pipeRaw('source.social.facebook', Buffer.from(JSON.stringify({ ...post, platform: 'facebook' })))
    driver.pipeRaw('source.market.shopify', Buffer.from(JSON.stringify({ ...order, platform: 'shopify' })))
    driver.pipeRaw('source.market.daraz', Buffer.from(JSON.stringify(order)))
    await driver.settle()
    const tiktok = driver.output('validated.social.tiktok').records()
    assert.equal(tiktok.length, 1)
    assert.deepEqual(tiktok[0]!.value, post)
    assert.equal(tiktok[0]!.key, 'test_123')
    assert.equal(tiktok[0]!.headers['test-id']!.toString(), 'a')
    assert.equal(driver.output('validated.social.facebook').size, 1)
    assert.deepEqual(driver.output('validated.market.shopify').values(), [{ ...order, platform: 'shopify' }])
    assert.deepEqual(driver.output('validated.market.daraz').values(), [order])
    assert.equal(driver.deadLetters().length, 0)
  })

  it('dead-letters an invalid record with every violation, the stage and the source', async () => {
    const { driver } = setup()
    const bad = { ...order, quantity: 0, currency: 'EUR', total_price: 5, order_date: undefined }
    driver.pipeRaw('source.market.daraz', Buffer.from(JSON.stringify(bad)), { key: Buffer.from('o1') })
    await driver.settle()
    const [dl] = driver.deadLetters()
    assert.ok(dl)
    assert.equal(dl.info.code, 'VALIDATION_FAILED')
    assert.equal(dl.info.stage, 'validate-daraz')
    assert.equal(dl.info.source.topic, 'source.market.daraz')
    assert.equal(dl.info.attempts, 1)
    assert.equal(dl.value!.toString(), JSON.stringify(bad), 'the original bytes')
    const details = dl.info.details as Array<{ rule: string; field: string; type: string }>
    assert.deepEqual(details.map((v) => v.field).sort(), ['currency', 'order_date', 'quantity'])
    assert.deepEqual(details.map((v) => v.type).sort(), ['enum', 'range', 'required'])
    assert.match(dl.info.message!, /quantity/)
    assert.equal(driver.output('validated.market.daraz').size, 0)
  })

  it('checks total_price = quantity × unit_price, and that the platform is the topic’s', async () => {
    const { driver } = setup()
    driver.pipeRaw('source.market.daraz', Buffer.from(JSON.stringify({ ...order, total_price: 70000 })))
    driver.pipeRaw('source.social.tiktok', Buffer.from(JSON.stringify({ ...post, platform: 'facebook' })))
    await driver.settle()
    const [total, platform] = driver.deadLetters()
    assert.deepEqual(
      (total!.info.details as Array<{ rule: string }>).map((v) => v.rule),
      ['MarketOrder:total_price'],
    )
    assert.deepEqual(
      (platform!.info.details as Array<{ rule: string }>).map((v) => v.rule),
      ['SocialPost:platform:topic'],
    )
  })

  it('unreadable values are DESERIALIZE_FAILED dead letters with the reason', async () => {
    const { driver } = setup()
    driver.pipeRaw('source.social.facebook', Buffer.from('{"post_id": '))
    driver.pipeRaw('source.social.facebook', null)
    driver.pipeRaw('source.social.facebook', Buffer.alloc(0))
    driver.pipeRaw('source.social.facebook', Buffer.from([0xff, 0xfe, 0x00]))
    await driver.settle()
    const dls = driver.deadLetters()
    assert.deepEqual(
      dls.map((d) => d.info.code),
      Array(4).fill('DESERIALIZE_FAILED'),
    )
    assert.deepEqual(
      dls.map((d) => d.info.stage),
      Array(4).fill('deserialize:source.social.facebook'),
    )
    assert.match(dls[0]!.info.message!, /malformed JSON/)
    assert.match(dls[1]!.info.message!, /null value/)
    assert.match(dls[2]!.info.message!, /empty value/)
    assert.match(dls[3]!.info.message!, /UTF-8/)
    assert.equal(dls[1]!.value, null)
  })

  it('keeps violation details parseable when the offending value is huge', async () => {
    const { driver } = setup()
    driver.pipeRaw('source.social.tiktok', Buffer.from(JSON.stringify('x'.repeat(50_000))))
    await driver.settle()
    const details = driver.deadLetters()[0]!.info.details as Array<{ value: string }>
    assert.ok(Array.isArray(details), 'details are JSON, not a clipped string')
    assert.ok(details[0]!.value.length <= 121)
  })

  it('counts passed, failed, failure types and rules; pass rate and DLQ rate', async () => {
    const { driver, validator, metrics } = setup()
    for (let i = 0; i < 6; i++) driver.pipeRaw('source.market.daraz', Buffer.from(JSON.stringify(order)))
    driver.pipeRaw(
      'source.market.daraz',
      Buffer.from(JSON.stringify({ ...order, quantity: -1, status: 'lost' })),
    )
    driver.pipeRaw('source.social.tiktok', Buffer.from(JSON.stringify({ ...post, engagement_count: 'many' })))
    driver.pipeRaw('source.social.tiktok', Buffer.from('garbage'))
    driver.pipeRaw('source.social.tiktok', Buffer.from(JSON.stringify({ ...post, hashtags: ['ok', ''] })))
    await driver.settle()
    const m = driver.task.metrics
    const total = (c: { get(): number }) => (c as { total?: () => number }).total?.() ?? c.get()
    const json = validator.json({ consumed: total(m.consumed), deadLettered: total(m.deadLettered) })
    assert.equal(json.total_validated, 10)
    assert.equal(json.passed, 6)
    assert.equal(json.failed, 4)
    assert.equal(json.validation_pass_rate, 60)
    assert.equal(json.dlq_rate, 40)
    assert.deepEqual(Object.fromEntries(Object.entries(json.failure_types).sort()), {
      deserialize: 1,
      enum: 1,
      length: 1,
      range: 1,
      type: 1,
    })
    assert.deepEqual(Object.keys(json.failures_by_rule).sort(), [
      'MarketOrder:quantity:range',
      'MarketOrder:status:enum',
      'SocialPost:engagement_count:type',
      'SocialPost:hashtags.*:length',
      'deserialize',
    ])
    assert.deepEqual(json.by_source['source.market.daraz'], { validated: 7, passed: 6, failed: 1 })
    const prom = metrics.prometheus()
    assert.match(prom, /weir_validation_failures_total\{rule="MarketOrder:quantity:range"\} 1/)
    assert.match(prom, /weir_validation_failure_types_total\{type="deserialize"\} 1/)
    assert.match(prom, /weir_validated_records_total\{result="passed",source="source.market.daraz"\} 6/)
    assert.match(prom, /weir_validation_pass_rate 0\.6/)
  })

  it('generated data: every valid record passes, every defect is dead-lettered', async () => {
    const { driver, validator } = setup()
    const g = millionxGenerator({ seed: 5, invalidShare: 0.2, now: () => Date.UTC(2026, 0, 1) })
    const counts = new Map<string, number>()
    let defects = 0
    for (const r of g.take(2000)) {
      if (r.defect) defects++
      else counts.set(r.topic, (counts.get(r.topic) ?? 0) + 1)
      driver.pipeRaw(r.topic, Buffer.from(JSON.stringify(r.value)), { key: Buffer.from(r.key) })
    }
    await driver.settle()
    for (const s of SOURCE_TOPICS)
      assert.equal(driver.output(VALIDATED_TOPICS[s]).size, counts.get(s) ?? 0, s)
    assert.equal(driver.deadLetters().length, defects)
    assert.equal(validator.json().failed, defects)
  })

  it('a topic prefix applies to sources, validated topics and dead letters', async () => {
    const { driver, topics } = setup('t1.')
    assert.equal(topics.deadLetters, 't1.schema-validation-errors')
    driver.pipeRaw('t1.source.market.daraz', Buffer.from(JSON.stringify(order)))
    driver.pipeRaw('t1.source.market.daraz', Buffer.from('x'))
    await driver.settle()
    assert.equal(driver.output('t1.validated.market.daraz').size, 1)
    assert.equal(driver.deadLetters().length, 1)
  })
})

describe('millionx app', () => {
  it('reads the seed’s variables with their defaults', async () => {
    const instance = await millionxApp.create({
      env: {},
      logger: silentLogger,
      metrics: createMetrics(),
      clock: systemClock,
    })
    assert.deepEqual(instance.kafka.brokers, ['localhost:9092'])
    assert.equal(instance.http.port, 6069)
    assert.equal(instance.run.deadLetterTopic, 'schema-validation-errors')
    assert.deepEqual([...new Set(instance.pipeline.topology.inputTopics())].sort(), [...SOURCE_TOPICS].sort())
  })

  it('its generator writes the four sources, with the prefix asked for', () => {
    const g = millionxApp.generator!({ seed: 1, invalidShare: 0.1, topicPrefix: 'dev.' })
    const topics = new Set(Array.from({ length: 500 }, () => g.next().topic))
    assert.deepEqual([...topics].sort(), SOURCE_TOPICS.map((t) => `dev.${t}`).sort())
  })

  it('folds array indexes in rule labels', () => {
    assert.equal(ruleLabel('SocialPost:hashtags.12:length'), 'SocialPost:hashtags.*:length')
    assert.equal(ruleLabel('MarketOrder:total_price'), 'MarketOrder:total_price')
  })
})

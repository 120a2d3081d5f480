// Avro through a real schema registry (Apicurio, started by `scripts/registry.sh up`).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { avro, schemaRegistry } from '../../src/serdes/avro/index.ts'
import { readWireHeader } from '../../src/serdes/index.ts'
import { REGISTRY_API, registrySkip } from './helpers/registry.ts'

const API = REGISTRY_API

const skip = await registrySkip()

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const topicName = (name: string) => `weir-test-${run}-${name}`
const value = (topic: string) => ({ topic, isKey: false })

const v1 = {
  type: 'record',
  name: 'Download',
  namespace: 'weir.test',
  fields: [
    { name: 'contentId', type: 'string' },
    { name: 'count', type: 'int' },
    { name: 'legacy', type: 'string', default: '-' },
  ],
}
// v2: `region` added with a default, `legacy` removed, `count` promoted int → long.
const v2 = {
  type: 'record',
  name: 'Download',
  namespace: 'weir.test',
  fields: [
    { name: 'contentId', type: 'string' },
    { name: 'count', type: 'long' },
    { name: 'region', type: 'string', default: 'unknown' },
  ],
}

const plain = (v: unknown) => ({ ...(v as object) })
const client = () => schemaRegistry({ url: API, retry: { retries: 2, initialDelayMs: 50 } })
const weirError = (code: string, pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof WeirError, String(err))
  assert.equal(err.code, code)
  assert.match(err.message, pattern)
  return true
}

describe('Avro through a real schema registry', { skip }, () => {
  it('round-trips a record: registers on first use, then serializes and deserializes synchronously', async () => {
    const topic = topicName('roundtrip')
    const producer = avro<Record<string, unknown>>({ registry: client(), schema: v1 })
    const record = { contentId: 'movie-1', count: 3, legacy: 'x' }
    const bytes = (await producer.serialize(record, value(topic))) as Buffer
    const id = readWireHeader(bytes)
    const latest = await client().getLatest(`${topic}-value`)
    assert.equal(latest.id, id)
    assert.equal(latest.version, 1)

    const warm = producer.serialize({ ...record, count: 4 }, value(topic))
    assert.ok(Buffer.isBuffer(warm), 'a cached subject serializes without a promise')

    const consumer = avro<Record<string, unknown>>({ registry: client(), schema: v1 })
    assert.deepEqual(plain(await consumer.deserialize(bytes, value(topic))), record)
    const again = consumer.deserialize(warm as Buffer, value(topic))
    assert.ok(!(again instanceof Promise), 'a cached writer id deserializes without a promise')
    assert.equal((again as { count: number }).count, 4)
  })

  it('reads with the writer schema when the consumer gives none, and keeps tombstones null', async () => {
    const topic = topicName('generic')
    const bytes = (await avro({ registry: client(), schema: v2 }).serialize(
      { contentId: 'c', count: 1, region: 'eu' },
      value(topic),
    )) as Buffer
    const generic = avro<Record<string, unknown>>({ registry: client() })
    assert.deepEqual(plain(await generic.deserialize(bytes, value(topic))), {
      contentId: 'c',
      count: 1,
      region: 'eu',
    })
    assert.equal(generic.deserialize(null, value(topic)), null)
    assert.equal(generic.serialize(null, value(topic)), null)
    // with no schema of its own, a producer writes with the subject's latest schema
    const latest = (await generic.serialize(
      { contentId: 'd', count: 2, region: 'us' },
      value(topic),
    )) as Buffer
    assert.equal(readWireHeader(latest), readWireHeader(bytes))
  })

  it('uses the -key subject for keys', async () => {
    const topic = topicName('keys')
    const keys = avro<string>({ registry: client(), schema: '"string"' })
    const bytes = (await keys.serialize('user-7', { topic, isKey: true })) as Buffer
    assert.equal((await client().getLatest(`${topic}-key`)).id, readWireHeader(bytes))
    assert.equal(await keys.deserialize(bytes, { topic, isKey: true }), 'user-7')
  })

  it('lets a v2 consumer read v1 and v2 records (added field with default, removed field)', async () => {
    const topic = topicName('evolution')
    const registry = client()
    await registry.setCompatibility('BACKWARD', `${topic}-value`)
    const oldRecord = (await avro({ registry: client(), schema: v1 }).serialize(
      { contentId: 'old', count: 1, legacy: 'gone' },
      value(topic),
    )) as Buffer
    assert.deepEqual(await registry.checkCompatibility(`${topic}-value`, v2), {
      compatible: true,
      messages: [],
    })
    const newRecord = (await avro({ registry: client(), schema: v2 }).serialize(
      { contentId: 'new', count: 2, region: 'eu' },
      value(topic),
    )) as Buffer
    assert.notEqual(readWireHeader(oldRecord), readWireHeader(newRecord))
    assert.equal((await registry.getLatest(`${topic}-value`)).version, 2)

    const consumer = avro<Record<string, unknown>>({ registry: client(), schema: v2 })
    assert.deepEqual(plain(await consumer.deserialize(oldRecord, value(topic))), {
      contentId: 'old',
      count: 1,
      region: 'unknown',
    })
    assert.deepEqual(plain(await consumer.deserialize(newRecord, value(topic))), {
      contentId: 'new',
      count: 2,
      region: 'eu',
    })
    // v1 cannot read v2 (long does not narrow to int): a clear, non-retriable error, every time
    const oldConsumer = avro<Record<string, unknown>>({ registry: client(), schema: v1 })
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        async () => oldConsumer.deserialize(newRecord, value(topic)),
        weirError(
          ErrorCode.DESERIALIZE_FAILED,
          /cannot be read with the reader schema: cannot read "long" as "int"/,
        ),
      )
    }
  })

  it('refuses to register an incompatible schema under BACKWARD compatibility', async () => {
    const topic = topicName('incompatible')
    const registry = client()
    await registry.setCompatibility('BACKWARD', `${topic}-value`)
    await avro({ registry, schema: v1 }).serialize({ contentId: 'a', count: 1, legacy: 'l' }, value(topic))
    const v3 = { ...v2, fields: [...v2.fields, { name: 'mandatory', type: 'string' }] }
    assert.equal((await registry.checkCompatibility(`${topic}-value`, v3)).compatible, false)
    await assert.rejects(
      async () =>
        avro({ registry: client(), schema: v3 }).serialize(
          { contentId: 'a', count: 1, region: 'r', mandatory: 'm' },
          value(topic),
        ),
      weirError(ErrorCode.SERIALIZE_FAILED, /rejected by the schema registry/),
    )
  })

  it('finds a registered schema without registering when autoRegister is false', async () => {
    const topic = topicName('lookup')
    const id = await client().register(`${topic}-value`, v1)
    const strict = avro({ registry: client(), schema: v1, autoRegister: false })
    const bytes = (await strict.serialize({ contentId: 'a', count: 1, legacy: 'l' }, value(topic))) as Buffer
    assert.equal(readWireHeader(bytes), id)
    await assert.rejects(
      async () =>
        avro({ registry: client(), schema: v2, autoRegister: false }).serialize(
          { contentId: 'a', count: 1, region: 'r' },
          value(topic),
        ),
      weirError(ErrorCode.SCHEMA_NOT_FOUND, /not registered under subject/),
    )
  })

  it('fails an unknown schema id with SCHEMA_NOT_FOUND (not retriable)', async () => {
    const serde = avro({ registry: client(), schema: v1 })
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 2, 0x61, 2, 0])
    await assert.rejects(
      async () => serde.deserialize(unknownId, value(topicName('unknown'))),
      (err: unknown) => {
        weirError(ErrorCode.SCHEMA_NOT_FOUND, /unknown schema id 2147483392/)(err)
        assert.equal((err as WeirError).retriable, false)
        return true
      },
    )
  })

  it('fails a bad magic byte, a truncated payload and garbage with DESERIALIZE_FAILED', async () => {
    const topic = topicName('bad')
    const producer = avro({ registry: client(), schema: v1 })
    const good = (await producer.serialize(
      { contentId: 'content-1', count: 1, legacy: 'l' },
      value(topic),
    )) as Buffer
    const consumer = avro({ registry: client(), schema: v1 })
    const badMagic = Buffer.from(good)
    badMagic[0] = 1
    assert.throws(
      () => consumer.deserialize(badMagic, value(topic)),
      weirError(ErrorCode.DESERIALIZE_FAILED, /magic byte 0x01/),
    )
    assert.throws(
      () => consumer.deserialize(good.subarray(0, 3), value(topic)),
      weirError(ErrorCode.DESERIALIZE_FAILED, /too short/),
    )
    await assert.rejects(
      async () => consumer.deserialize(good.subarray(0, good.length - 3), value(topic)),
      weirError(ErrorCode.DESERIALIZE_FAILED, /truncated/),
    )
    assert.throws(
      () => consumer.deserialize(Buffer.concat([good, Buffer.from([1, 2, 3])]), value(topic)),
      weirError(ErrorCode.DESERIALIZE_FAILED, /3 byte\(s\) left over/),
    )
  })

  it('registers once when many records of a new subject arrive together', async () => {
    const topic = topicName('burst')
    const producer = avro({ registry: client(), schema: v1 })
    const all = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        producer.serialize({ contentId: `c${i}`, count: i, legacy: '' }, value(topic)),
      ),
    )
    assert.equal(new Set(all.map((b) => readWireHeader(b as Buffer))).size, 1)
    assert.equal((await client().getLatest(`${topic}-value`)).version, 1)
  })

  it('reports connected in status() once it has talked to the registry', async () => {
    const registry = client()
    assert.equal(registry.status().connected, false)
    assert.deepEqual(await registry.ping(), { connected: true })
    assert.deepEqual(registry.status(), { connected: true })
  })
})

// Error mapping of the registry client and the Avro serde, with an injected fetch. Round trips
// through a real registry are in test/integration/registry-*.test.ts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { avro } from '../../src/serdes/avro/index.ts'
import { backoffDelay, DEFAULT_RETRY } from '../../src/serdes/registry/http.ts'
import { schemaRegistry } from '../../src/serdes/index.ts'

type Step = { status: number; body?: unknown } | Error

/** A fetch that answers from a script and records every call. */
function scripted(...steps: Step[]) {
  const calls: { url: string; method: string; headers: Record<string, string>; body?: string }[] = []
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(url),
      method: init?.method ?? 'GET',
      headers: init?.headers as Record<string, string>,
      body: init?.body as string,
    })
    const step = steps.length > 1 ? steps.shift()! : steps[0]!
    if (step instanceof Error) throw step
    return new Response(step.body === undefined ? '' : JSON.stringify(step.body), { status: step.status })
  }) as typeof globalThis.fetch
  return { fetch, calls }
}

const refused = () =>
  Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  })
const fast = { retries: 3, initialDelayMs: 1, maxDelayMs: 2 }
const url = 'http://registry.test/apis/ccompat/v7'
const SCHEMA = '{"type":"record","name":"A","fields":[{"name":"a","type":"string"}]}'

function isWeir(code: string, retriable: boolean, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof WeirError, String(err))
    assert.equal(err.code, code)
    assert.equal(err.retriable, retriable)
    assert.match(err.message, pattern)
    return true
  }
}

describe('schema registry client: errors and retries', () => {
  it('retries 5xx and network errors, then succeeds', async () => {
    const { fetch, calls } = scripted({ status: 503 }, refused(), { status: 200, body: { schema: SCHEMA } })
    const registry = schemaRegistry({ url, fetch, retry: fast })
    const stored = await registry.getSchemaById(1)
    assert.equal(stored.schema, SCHEMA)
    assert.equal(stored.schemaType, 'AVRO')
    assert.equal(calls.length, 3)
    assert.equal(calls[0]!.url, `${url}/schemas/ids/1`)
    assert.deepEqual(registry.status(), { connected: true })
  })

  it('gives up after the retries with a retriable REGISTRY_UNAVAILABLE and reports it in status()', async () => {
    const { fetch, calls } = scripted(refused())
    const registry = schemaRegistry({ url, fetch, retry: fast })
    assert.deepEqual(registry.status(), { connected: false, message: 'not contacted yet' })
    await assert.rejects(
      registry.getSchemaById(1),
      isWeir(ErrorCode.REGISTRY_UNAVAILABLE, true, /after 4 attempt\(s\): ECONNREFUSED/),
    )
    assert.equal(calls.length, 4)
    assert.equal(registry.status().connected, false)
    assert.match(registry.status().message ?? '', /ECONNREFUSED/)
  })

  it('maps 404 on an id to SCHEMA_NOT_FOUND, not retried and not retriable', async () => {
    const { fetch, calls } = scripted({
      status: 404,
      body: { error_code: 40403, message: 'Schema 99 not found' },
    })
    const registry = schemaRegistry({ url, fetch, retry: fast })
    await assert.rejects(
      registry.getSchemaById(99),
      isWeir(ErrorCode.SCHEMA_NOT_FOUND, false, /schema id 99: not found .*Schema 99 not found/),
    )
    assert.equal(calls.length, 1)
    assert.deepEqual(registry.status(), { connected: true })
  })

  it('maps 409 (incompatible) on register to a non-retriable SERIALIZE_FAILED', async () => {
    const { fetch } = scripted({ status: 409, body: { error_code: 409, message: 'incompatible' } })
    const registry = schemaRegistry({ url, fetch, retry: fast })
    await assert.rejects(
      registry.register('t-value', SCHEMA),
      isWeir(ErrorCode.SERIALIZE_FAILED, false, /subject "t-value": rejected .*409/),
    )
  })

  it('maps 401 to a non-retriable REGISTRY_UNAVAILABLE and sends the credentials', async () => {
    const { fetch, calls } = scripted({ status: 401, body: { message: 'who are you' } })
    const registry = schemaRegistry({ url, fetch, retry: fast, auth: { username: 'u', password: 'p' } })
    await assert.rejects(
      registry.getLatest('t-value'),
      isWeir(ErrorCode.REGISTRY_UNAVAILABLE, false, /access denied/),
    )
    assert.equal(calls[0]!.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`)
  })

  it('times out a hanging request and retries it', async () => {
    let n = 0
    const fetch = ((_url: string, init: RequestInit) => {
      n++
      if (n === 1)
        return new Promise((_, reject) =>
          init.signal!.addEventListener('abort', () => reject(init.signal!.reason)),
        )
      return Promise.resolve(new Response(JSON.stringify({ schema: SCHEMA }), { status: 200 }))
    }) as unknown as typeof globalThis.fetch
    const registry = schemaRegistry({ url, fetch, retry: fast, timeoutMs: 20 })
    assert.equal((await registry.getSchemaById(3)).id, 3)
    assert.equal(n, 2)
  })

  it('caches schemas by id and shares one request among concurrent callers', async () => {
    const { fetch, calls } = scripted({ status: 200, body: { schema: SCHEMA } })
    const registry = schemaRegistry({ url, fetch })
    const all = await Promise.all([
      registry.getSchemaById(5),
      registry.getSchemaById(5),
      registry.getSchemaById(5),
    ])
    assert.equal(new Set(all).size, 1)
    assert.equal(registry.cachedSchemaById(5)?.schema, SCHEMA)
    await registry.getSchemaById(5)
    assert.equal(calls.length, 1)
  })

  it('caches the id of a registered (subject, schema) and sends JSON Schema with its type', async () => {
    const { fetch, calls } = scripted({ status: 200, body: { id: 12 } })
    const registry = schemaRegistry({ url, fetch })
    assert.equal(await registry.register('t-value', JSON.parse(SCHEMA)), 12)
    assert.equal(await registry.register('t-value', SCHEMA), 12)
    assert.equal(calls.length, 1)
    assert.deepEqual(JSON.parse(calls[0]!.body!), { schema: SCHEMA })
    assert.equal(calls[0]!.url, `${url}/subjects/t-value/versions`)
    await registry.register('j-value', '{"type":"object"}', { schemaType: 'JSON' })
    assert.deepEqual(JSON.parse(calls[1]!.body!), { schema: '{"type":"object"}', schemaType: 'JSON' })
  })

  it('rejects bad options with CONFIG_INVALID', () => {
    assert.throws(
      () => schemaRegistry({ url: 'localhost:8081' }),
      isWeir(ErrorCode.CONFIG_INVALID, false, /url must be an http\(s\) URL/),
    )
    assert.throws(
      () => schemaRegistry({ url, timeoutMs: 0 }),
      isWeir(ErrorCode.CONFIG_INVALID, false, /timeoutMs/),
    )
    assert.throws(
      () => schemaRegistry({ url, retry: { retries: -1 } }),
      isWeir(ErrorCode.CONFIG_INVALID, false, /retry\.retries/),
    )
  })

  it('backs off exponentially with jitter, capped', () => {
    const retry = { ...DEFAULT_RETRY, initialDelayMs: 100, maxDelayMs: 1000 }
    assert.equal(
      backoffDelay(0, retry, () => 0),
      50,
    )
    assert.equal(
      backoffDelay(0, retry, () => 1),
      100,
    )
    assert.equal(
      backoffDelay(3, retry, () => 0),
      400,
    )
    assert.equal(
      backoffDelay(10, retry, () => 1),
      1000,
    )
  })
})

describe('avro serde: error mapping', () => {
  const ctx = { topic: 'orders', isKey: false }

  it('rejects a bad magic byte or a short payload without asking the registry', () => {
    const { fetch, calls } = scripted({ status: 500 })
    const serde = avro({ registry: schemaRegistry({ url, fetch }), schema: SCHEMA })
    assert.throws(
      () => serde.deserialize(Buffer.from([7, 0, 0, 0, 1, 2]), ctx),
      isWeir(ErrorCode.DESERIALIZE_FAILED, false, /magic byte 0x07/),
    )
    assert.throws(
      () => serde.deserialize(Buffer.from([0, 0]), ctx),
      isWeir(ErrorCode.DESERIALIZE_FAILED, false, /too short/),
    )
    assert.equal(calls.length, 0)
  })

  it('maps an unknown id to SCHEMA_NOT_FOUND and remembers it for a while', async () => {
    const { fetch, calls } = scripted({ status: 404, body: { error_code: 40403, message: 'not found' } })
    const serde = avro({ registry: schemaRegistry({ url, fetch }), schema: SCHEMA })
    const record = Buffer.from([0, 0, 0, 0x30, 0x39, 2, 0x61])
    await assert.rejects(
      async () => serde.deserialize(record, ctx),
      isWeir(ErrorCode.SCHEMA_NOT_FOUND, false, /unknown schema id 12345/),
    )
    assert.throws(
      () => serde.deserialize(record, ctx),
      isWeir(ErrorCode.SCHEMA_NOT_FOUND, false, /unknown schema id 12345/),
    )
    assert.equal(calls.length, 1)
  })

  it('passes REGISTRY_UNAVAILABLE through (retriable) and succeeds once the registry answers', async () => {
    const { fetch } = scripted(refused(), refused(), { status: 200, body: { schema: SCHEMA } })
    const serde = avro<{ a: string }>({
      registry: schemaRegistry({ url, fetch, retry: { retries: 0 } }),
      schema: SCHEMA,
    })
    const record = Buffer.from([0, 0, 0, 0, 1, 2, 0x61])
    await assert.rejects(
      async () => serde.deserialize(record, ctx),
      isWeir(ErrorCode.REGISTRY_UNAVAILABLE, true, /ECONNREFUSED/),
    )
    await assert.rejects(
      async () => serde.deserialize(record, ctx),
      isWeir(ErrorCode.REGISTRY_UNAVAILABLE, true, /ECONNREFUSED/),
    )
    assert.deepEqual({ ...((await serde.deserialize(record, ctx)) as object) }, { a: 'a' })
  })

  it('reports a schema id that is not Avro as DESERIALIZE_FAILED', async () => {
    const { fetch } = scripted({ status: 200, body: { schema: '{"type":"object"}', schemaType: 'JSON' } })
    const serde = avro({ registry: schemaRegistry({ url, fetch }), schema: SCHEMA })
    await assert.rejects(
      async () => serde.deserialize(Buffer.from([0, 0, 0, 0, 4, 2, 0x61]), ctx),
      isWeir(ErrorCode.DESERIALIZE_FAILED, false, /schema id 4 is a JSON schema/),
    )
  })

  it('with autoRegister false, a schema missing from the subject is SCHEMA_NOT_FOUND', async () => {
    const { fetch, calls } = scripted({
      status: 404,
      body: { error_code: 40403, message: 'Schema not found' },
    })
    const serde = avro({ registry: schemaRegistry({ url, fetch }), schema: SCHEMA, autoRegister: false })
    await assert.rejects(
      async () => serde.serialize({ a: 'x' }, ctx),
      isWeir(
        ErrorCode.SCHEMA_NOT_FOUND,
        false,
        /not registered under subject "orders-value" and autoRegister is false/,
      ),
    )
    assert.equal(calls[0]!.url, `${url}/subjects/orders-value`)
  })
})

// The registry going away and coming back: a second Apicurio on its own port (so the shared one on
// 8081 is never disturbed), started and stopped here through scripts/registry.sh.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, describe, it } from 'node:test'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { avro, schemaRegistry } from '../../src/serdes/avro/index.ts'
import { registryReachable, registrySkip } from './helpers/registry.ts'

const sh = promisify(execFile)
const SCRIPT = fileURLToPath(new URL('../../scripts/registry.sh', import.meta.url))
const PORT = process.env.WEIR_TEST_REGISTRY_PORT ?? '18081'
const API = `http://127.0.0.1:${PORT}/apis/ccompat/v7`

// This test starts its own registry, but only where `scripts/registry.sh up` is known to work:
// the shared registry answering says so.
const skip = await registrySkip()

const registryCtl = (cmd: 'up' | 'down') =>
  sh('bash', [SCRIPT, cmd], { env: { ...process.env, REGISTRY_PORT: PORT }, timeout: 150_000 })

const schema = { type: 'record', name: 'Ping', fields: [{ name: 'n', type: 'int' }] }
const ctx = { topic: 'weir-test-restart', isKey: false }

describe('a schema registry that is down, then up', { skip }, () => {
  after(async () => {
    await registryCtl('down')
  })

  it('retries while the registry is down and succeeds once it is up', { timeout: 300_000 }, async () => {
    await registryCtl('down')
    assert.equal(await registryReachable(API), false, `port ${PORT} must be free for this test`)
    const registry = schemaRegistry({
      url: API,
      // The budget must outlast a JVM start on a busy 2-core machine (80 s seen under load 16), not
      // only on a quiet one (~5 s): 400 tries ≈ 200 s.
      retry: { retries: 400, initialDelayMs: 100, maxDelayMs: 500 },
    })
    const producer = avro<{ n: number }>({ registry, schema })

    const pending = Promise.resolve(producer.serialize({ n: 1 }, ctx))
    await new Promise((resolve) => setTimeout(resolve, 700))
    assert.equal(registry.status().connected, false)
    assert.match(registry.status().message ?? '', /ECONNREFUSED/)

    const started = Date.now()
    await registryCtl('up')
    const bytes = (await pending) as Buffer
    assert.ok(Buffer.isBuffer(bytes) && bytes.length > 5)
    assert.deepEqual(registry.status(), { connected: true })

    const consumer = avro<{ n: number }>({ registry: schemaRegistry({ url: API }), schema })
    assert.deepEqual({ ...(await consumer.deserialize(bytes, ctx)) }, { n: 1 })
    console.log(
      `# registry on ${PORT} came up and the pending serialize finished ${Date.now() - started} ms later`,
    )

    // Down again: what is cached keeps working synchronously, what is not fails as retriable.
    await registryCtl('down')
    assert.deepEqual({ ...(consumer.deserialize(bytes, ctx) as object) }, { n: 1 })
    assert.ok(Buffer.isBuffer(producer.serialize({ n: 2 }, ctx)))
    const cold = avro({
      registry: schemaRegistry({ url: API, retry: { retries: 1, initialDelayMs: 10 } }),
      schema,
    })
    await assert.rejects(
      async () => cold.deserialize(bytes, ctx),
      (err: unknown) =>
        err instanceof WeirError &&
        err.code === ErrorCode.REGISTRY_UNAVAILABLE &&
        err.retriable &&
        /after 2 attempt/.test(err.message),
    )
  })
})

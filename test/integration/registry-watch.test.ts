// watchRegistry against the real registry behind a TCP proxy the test cuts: the status follows an
// outage and the return without any request of the caller's (every schema cached, nothing to fetch).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { avro, schemaRegistry, watchRegistry } from '../../src/serdes/avro/index.ts'
import { eventually, tcpProxy, testCleanup } from './helpers/services.ts'
import { REGISTRY_ADDRESS, REGISTRY_API, registrySkip } from './helpers/registry.ts'

const API = REGISTRY_API

const skip = await registrySkip()

describe('watchRegistry', { skip, timeout: 60_000 }, () => {
  it('sees the registry go and come back while every schema is cached', async (t) => {
    const cleanup = testCleanup(t)
    const proxy = await tcpProxy(cleanup, REGISTRY_ADDRESS)
    const registry = schemaRegistry({ url: `http://127.0.0.1:${proxy.port}/apis/ccompat/v7` })
    const watch = watchRegistry(registry, { everyMs: 500, downEveryMs: 200 })
    cleanup(() => watch.stop())
    const ctx = { topic: `weir-test-watch-${Date.now().toString(36)}`, isKey: false }
    cleanup(() => fetch(`${API}/subjects/${ctx.topic}-value`, { method: 'DELETE' }).catch(() => {}))
    const serde = avro<{ n: number }>({
      registry,
      schema: { type: 'record', name: 'N', fields: [{ name: 'n', type: 'int' }] },
    })
    const bytes = (await serde.serialize({ n: 1 }, ctx)) as Buffer
    await serde.deserialize(bytes, ctx)
    await eventually(() => watch.status().connected, 5000)

    await proxy.cut()
    const cutAt = Date.now()
    // Cached: works without the registry, and asks it nothing.
    assert.ok(Buffer.isBuffer(serde.serialize({ n: 2 }, ctx)))
    await eventually(() => watch.status().connected === false, 5000)
    const seenDown = Date.now() - cutAt
    assert.match(
      watch.status().message ?? '',
      /schema registry http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7: \S+/,
    )

    await proxy.restore()
    const restoredAt = Date.now()
    await eventually(() => watch.status().connected, 5000)
    t.diagnostic(
      `registry seen down ${seenDown} ms after the cut, up ${Date.now() - restoredAt} ms after the restore`,
    )

    // Stopped: no more pings, so the status stays as it was even across another cut.
    watch.stop()
    await proxy.cut()
    await new Promise((r) => setTimeout(r, 1000))
    assert.equal(watch.status().connected, true)
  })
})

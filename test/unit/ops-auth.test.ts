import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { silentLogger } from '../../src/log/logger.ts'
import { opsAccessFromEnv } from '../../src/ops/auth.ts'
import { healthFrom } from '../../src/ops/health.ts'
import { createOpsServer } from '../../src/ops/http.ts'

function server(env: Record<string, string>) {
  const access = opsAccessFromEnv(env)
  return createOpsServer({
    logger: silentLogger,
    health: () => healthFrom({ kafka: { connected: true } }),
    metricsJson: () => ({ records: 1 }),
    prometheus: () => 'weir_up 1\n',
    auth: access.auth,
  })
}

const basic = (login: string) => `Basic ${Buffer.from(login).toString('base64')}`

describe('ops auth', () => {
  it('without OPS_AUTH_TOKEN or OPS_BASIC_AUTH, everything answers anyone', async () => {
    const s = server({})
    for (const url of ['/health', '/metrics', '/', '/dashboard/summary.json']) {
      assert.notEqual((await s.handle({ url })).status, 401, url)
    }
  })

  it('with a bearer token: /health stays open, the rest needs the token', async () => {
    const s = server({ OPS_AUTH_TOKEN: 's3cret-token' })
    assert.equal((await s.handle({ url: '/health' })).status, 200)
    for (const url of [
      '/',
      '/dashboard',
      '/metrics',
      '/metrics/prometheus',
      '/dashboard/dead-letters.json',
      '/nope',
    ]) {
      const res = await s.handle({ url })
      assert.equal(res.status, 401, url)
      assert.match(res.headers['www-authenticate']!, /^Bearer realm="weir ops"/)
      assert.doesNotMatch(String(res.body), /s3cret/)
      const wrong = await s.handle({ url, headers: { Authorization: 'Bearer s3cret-tokeN' } })
      assert.equal(wrong.status, 401, url)
    }
    const ok = await s.handle({ url: '/metrics', headers: { Authorization: 'Bearer s3cret-token' } })
    assert.equal(ok.status, 200)
    assert.deepEqual(JSON.parse(String(ok.body)), { records: 1 })
  })

  it('a browser opens /?token= once: a session cookie (not the token) and a redirect without it', async () => {
    const s = server({ OPS_AUTH_TOKEN: 's3cret-token' })
    const res = await s.handle({ url: '/?token=s3cret-token&x=1' })
    assert.equal(res.status, 303)
    assert.equal(res.headers.location, './?x=1')
    const setCookie = res.headers['set-cookie']!
    assert.match(setCookie, /^weir_ops_[\w-]{8}=[^;]+; HttpOnly; SameSite=Strict; Path=\//)
    assert.doesNotMatch(setCookie, /s3cret/)
    const session = setCookie.split(';')[0]!
    assert.equal((await s.handle({ url: '/metrics', headers: { Cookie: `a=b; ${session}` } })).status, 200)
    assert.equal(
      (await s.handle({ url: '/metrics', headers: { Cookie: `${session.split('=')[0]}=forged` } })).status,
      401,
    )
    assert.equal((await s.handle({ url: '/?token=wrong' })).status, 401)
  })

  it('basic auth from OPS_BASIC_AUTH_FILE', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-auth-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'login')
    await writeFile(file, 'ops:pa:ss\n')
    const s = server({ OPS_BASIC_AUTH_FILE: file })
    assert.equal((await s.handle({ url: '/health' })).status, 200)
    const denied = await s.handle({ url: '/' })
    assert.equal(denied.status, 401)
    assert.match(denied.headers['www-authenticate']!, /^Basic realm="weir ops"/)
    assert.equal((await s.handle({ url: '/', headers: { Authorization: basic('ops:pa:ss') } })).status, 200)
    assert.equal((await s.handle({ url: '/', headers: { Authorization: basic('ops:wrong') } })).status, 401)
  })

  it('names the variable when OPS_BASIC_AUTH is not user:password, and never prints it', () => {
    assert.throws(
      () => opsAccessFromEnv({ OPS_BASIC_AUTH: 'nopassword' }),
      (err: Error) =>
        /OPS_BASIC_AUTH: expected user:password/.test(err.message) && !/nopassword/.test(err.message),
    )
  })

  it('OPS_SHOW_VALUES defaults to false for apps with personal data, true otherwise', () => {
    assert.equal(opsAccessFromEnv({}).showValues, true)
    assert.equal(opsAccessFromEnv({}, { personalData: true }).showValues, false)
    assert.equal(opsAccessFromEnv({ OPS_SHOW_VALUES: 'true' }, { personalData: true }).showValues, true)
    assert.equal(opsAccessFromEnv({ OPS_SHOW_VALUES: 'false' }).showValues, false)
  })
})

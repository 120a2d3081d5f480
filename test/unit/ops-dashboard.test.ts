import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { silentLogger } from '../../src/log/logger.ts'
import { dashboardHtml } from '../../src/ops/dashboard.ts'
import { healthFrom } from '../../src/ops/health.ts'
import { createOpsServer } from '../../src/ops/http.ts'

function scripts(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!)
}

describe('dashboard', () => {
  const server = createOpsServer({
    logger: silentLogger,
    title: 'Rideshare <bridge>',
    health: () => healthFrom({ kafka: { connected: true } }),
    metricsJson: () => ({}),
    prometheus: () => '',
  })

  it('is served as HTML at / and /dashboard with a same-origin-only CSP', async () => {
    for (const url of ['/', '/dashboard']) {
      const res = await server.handle({ url })
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8')
      assert.match(res.headers['content-security-policy']!, /default-src 'none'; connect-src 'self'/)
      assert.match(String(res.body), /^<!doctype html>/)
    }
  })

  it('is self-contained: no external URLs, no external scripts, styles or fonts', () => {
    const html = dashboardHtml()
    assert.doesNotMatch(html, /https?:\/\//)
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|@import|url\(/)
    assert.doesNotMatch(html, /\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, 'no protocol-relative URLs')
  })

  it('polls health and metrics relative to where it is mounted', () => {
    const html = dashboardHtml()
    assert.match(html, /getJson\('\.\/health'\)/)
    assert.match(html, /getJson\('\.\/metrics'\)/)
  })

  it('has no control characters (a lost backslash in the template literal would leave one)', () => {
    const controls = [...dashboardHtml()].filter((c) => c.charCodeAt(0) < 32 && c !== '\n' && c !== '\t')
    assert.deepEqual(controls, [])
  })

  it('has inline JavaScript that parses', () => {
    const code = scripts(dashboardHtml())
    assert.equal(code.length, 1)
    assert.doesNotThrow(() => new Function(code[0]!))
  })

  it('escapes the title', () => {
    const html = dashboardHtml({ title: 'Rideshare <bridge>' })
    assert.match(html, /<h1>Rideshare &#60;bridge&#62;<\/h1>/)
    assert.doesNotMatch(html, /<bridge>/)
  })
})

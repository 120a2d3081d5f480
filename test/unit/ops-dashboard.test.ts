import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { silentLogger } from '../../src/log/logger.ts'
import { dashboardHtml, formatValue, humanLabel } from '../../src/ops/dashboard/index.ts'
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

describe('dashboard labels', () => {
  it('turns raw metric keys into words a person reads, with units', () => {
    assert.deepEqual(humanLabel('consumer_lag.traffic-raw:0'), {
      label: 'Lag, traffic-raw partition 0',
      unit: '',
    })
    assert.deepEqual(humanLabel('messagesInvalid'), { label: 'Invalid records (dead-lettered)', unit: '' })
    assert.deepEqual(humanLabel('lastMessageTime'), { label: 'Last record at', unit: 'time' })
    assert.deepEqual(humanLabel('messages_per_sec'), { label: 'Records in / s', unit: '/s' })
    assert.deepEqual(humanLabel('validation_errors_by_type_per_sec'), {
      label: 'Validation errors by type / s',
      unit: '/s',
    })
    assert.deepEqual(humanLabel('state_size_bytes'), { label: 'State size', unit: 'bytes' })
    assert.deepEqual(humanLabel('record_latency.p99'), { label: 'Record latency: p99', unit: 'ms' })
    assert.deepEqual(humanLabel('record_latency.count'), { label: 'Record latency: count', unit: '' })
  })

  it('formats numbers with thousands separators and units', () => {
    assert.equal(formatValue(1234567, ''), '1,234,567')
    assert.equal(formatValue(2003.4, '/s'), '2,003 / s')
    assert.equal(formatValue(0.605, 'ms'), '0.605 ms')
    assert.equal(formatValue(229_000_000, 'bytes'), '218.4 MiB')
    assert.equal(formatValue(3725, 's'), '1h 2m')
    assert.equal(formatValue(null, ''), '—')
  })
})

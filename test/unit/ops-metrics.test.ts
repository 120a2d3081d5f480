import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { WeirError } from '../../src/core/errors.ts'
import { escapeLabelValue } from '../../src/ops/exposition.ts'
import { createMetrics } from '../../src/ops/metrics.ts'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

interface Family {
  help: string
  type: string
  samples: Sample[]
}

/** A strict parser of text format 0.0.4: whatever we emit must come back out of it unchanged. */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'exposition ends with a line feed')
  const families = new Map<string, Family>()
  const unescapeValue = (s: string) => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
  let current: string | undefined
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (help) {
      assert.ok(!families.has(help[1]!), `family ${help[1]} appears once`)
      families.set(help[1]!, { help: unescapeValue(help[2]!), type: '', samples: [] })
      current = help[1]
      continue
    }
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (type) {
      assert.equal(type[1], current, 'TYPE follows its HELP')
      families.get(type[1]!)!.type = type[2]!
      continue
    }
    if (line.startsWith('#')) continue
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(sample, `sample line is well formed: ${line}`)
    const [, name, rawLabels = '', rawValue] = sample
    assert.ok(current !== undefined && name!.startsWith(current), `${name} belongs to ${current}`)
    const labels: Record<string, string> = {}
    const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy
    let consumed = 0
    for (let m = pair.exec(rawLabels); m; m = pair.exec(rawLabels)) {
      labels[m[1]!] = unescapeValue(m[2]!)
      consumed = pair.lastIndex
      if (m[3] === '') break
    }
    assert.equal(consumed, rawLabels.length, `labels parse completely: ${rawLabels}`)
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue)
    assert.ok(!Number.isNaN(value) || rawValue === 'NaN', `value ${rawValue} is a number`)
    families.get(current)!.samples.push({ name: name!, labels, value })
  }
  return families
}

describe('metrics registry', () => {
  it('counts per label set regardless of the order the label names are given in', () => {
    const m = createMetrics({ processMetrics: false })
    const c = m.counter('records_in_total', 'Records read')
    c.inc({ topic: 'a', partition: '0' })
    c.inc({ partition: '0', topic: 'a' }, 2)
    c.inc()
    assert.equal(c.get({ topic: 'a', partition: '0' }), 3)
    assert.equal(c.get(), 1)
    assert.equal(c.get({ topic: 'never' }), 0)
  })

  it('returns the same metric when a name is registered twice and refuses another kind', () => {
    const m = createMetrics({ processMetrics: false })
    m.counter('x_total', 'x').inc()
    assert.equal(m.counter('x_total', 'x').get(), 1)
    assert.equal(m.counter('weir_x_total', 'x').get(), 1, 'the prefixed name is the same metric')
    assert.throws(
      () => m.gauge('x_total', 'x'),
      (e: unknown) => e instanceof WeirError && e.code === 'CONFIG_INVALID',
    )
    assert.throws(() => m.counter('bad-name', 'x'), WeirError)
    assert.throws(() => m.histogram('h', 'h', [1, 1]), WeirError)
  })

  it('refuses to decrease a counter', () => {
    const c = createMetrics({ processMetrics: false }).counter('c_total', 'c')
    assert.throws(() => c.inc(undefined, -1), RangeError)
  })

  it('folds label sets beyond the cap into one overflow series', () => {
    const m = createMetrics({ processMetrics: false, maxSeriesPerMetric: 3 })
    const c = m.counter('ids_total', 'ids')
    for (let i = 0; i < 100; i++) c.inc({ id: String(i) })
    assert.equal(c.get({ overflow: 'true' }), 97)
    const family = parseExposition(m.prometheus()).get('weir_ids_total')!
    assert.equal(family.samples.length, 4)
  })

  it('reads computed gauges at scrape time', () => {
    const m = createMetrics({ processMetrics: false })
    let lag = 1
    m.collect('consumer_lag', 'Lag', () => [{ labels: { partition: '0' }, value: lag }])
    lag = 42
    const family = parseExposition(m.prometheus()).get('weir_consumer_lag')!
    assert.deepEqual(family.samples, [{ name: 'weir_consumer_lag', labels: { partition: '0' }, value: 42 }])
    assert.deepEqual(m.snapshot().consumer_lag, { 'partition=0': 42 })
  })

  it('keeps the scrape alive when a computed gauge throws', () => {
    const m = createMetrics({ processMetrics: false })
    m.collect('broken', 'b', () => {
      throw new Error('boom\nbang')
    })
    m.gauge('ok', 'ok').set(1)
    const families = parseExposition(m.prometheus())
    assert.equal(families.get('weir_ok')!.samples[0]!.value, 1)
    assert.deepEqual(m.snapshot().broken, { error: 'boom bang' })
  })
})

describe('prometheus exposition', () => {
  it('emits HELP, TYPE and samples that parse back to what was recorded', () => {
    const m = createMetrics()
    m.counter('messages_consumed_total', 'Records read\nfrom Kafka \\ all topics').inc({ topic: 'trips' }, 5)
    m.gauge('weir_lag', 'Lag').set(7)
    m.gauge('ratio', 'r').set(Number.NaN)
    const families = parseExposition(m.prometheus())
    const consumed = families.get('weir_messages_consumed_total')!
    assert.equal(consumed.type, 'counter')
    assert.equal(consumed.help, 'Records read\nfrom Kafka \\ all topics')
    assert.deepEqual(consumed.samples, [
      { name: 'weir_messages_consumed_total', labels: { topic: 'trips' }, value: 5 },
    ])
    assert.equal(
      families.get('weir_lag')!.samples[0]!.value,
      7,
      'an already prefixed name is not prefixed twice',
    )
    assert.ok(Number.isNaN(families.get('weir_ratio')!.samples[0]!.value))
  })

  it('escapes label values so quotes, backslashes and newlines round-trip', () => {
    const m = createMetrics({ processMetrics: false })
    const nasty = 'say "hi"\\path\nnext'
    m.counter('c_total', 'c').inc({ value: nasty, 'bad-name': 'x' })
    assert.equal(escapeLabelValue(nasty), 'say \\"hi\\"\\\\path\\nnext')
    const sample = parseExposition(m.prometheus()).get('weir_c_total')!.samples[0]!
    assert.deepEqual(sample.labels, { value: nasty, bad_name: 'x' })
  })

  it('renders histograms as cumulative _bucket{le} series with _sum and _count', () => {
    const m = createMetrics({ processMetrics: false })
    const h = m.histogram('latency_seconds', 'Latency', [0.1, 1])
    for (const v of [0.05, 0.1, 0.5, 2, 3]) h.observe(v, { op: 'publish' })
    const family = parseExposition(m.prometheus()).get('weir_latency_seconds')!
    assert.equal(family.type, 'histogram')
    const buckets = family.samples
      .filter((s) => s.name.endsWith('_bucket'))
      .map((s) => [s.labels.le, s.value])
    assert.deepEqual(buckets, [
      ['0.1', 2],
      ['1', 3],
      ['+Inf', 5],
    ])
    assert.ok(family.samples.every((s) => s.labels.op === 'publish'))
    assert.equal(family.samples.find((s) => s.name === 'weir_latency_seconds_sum')!.value, 5.65)
    assert.equal(family.samples.find((s) => s.name === 'weir_latency_seconds_count')!.value, 5)
  })

  it('includes process metrics', () => {
    const families = parseExposition(createMetrics().prometheus())
    for (const name of [
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
      'weir_uptime_seconds',
    ]) {
      assert.ok(families.get(name)!.samples[0]!.value >= 0, name)
    }
    assert.equal(families.get('process_cpu_seconds_total')!.type, 'counter')
  })
})

describe('metrics snapshot', () => {
  it('is plain JSON: numbers for unlabelled metrics, objects keyed by labels, summaries for histograms', () => {
    const m = createMetrics()
    m.counter('in_total', 'in').inc(undefined, 3)
    m.counter('errors_total', 'e').inc({ type: 'parse' })
    m.histogram('lat_seconds', 'l').observe(0.002)
    m.counter('untouched_total', 'u')
    const snap = JSON.parse(JSON.stringify(m.snapshot()))
    assert.equal(snap.in_total, 3)
    assert.deepEqual(snap.errors_total, { 'type=parse': 1 })
    assert.equal(snap.untouched_total, 0)
    assert.equal(snap.lat_seconds.count, 1)
    assert.ok(Math.abs(snap.lat_seconds.p99 - 0.002) < 0.002 * 0.01 + 1e-12)
    assert.ok(snap.process.resident_memory_bytes > 0)
    assert.ok(snap.process.heap_used_bytes > 0)
  })
})

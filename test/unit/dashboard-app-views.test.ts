import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chainRows, joinChain, stageCounts } from '../../src/apps/millionx/stages/chain.ts'
import {
  embeddingPanel,
  enricherPanel,
  searchPreviewRoute,
  shieldPanel,
  stageView,
  validatorPanel,
} from '../../src/apps/millionx/stages/views.ts'
import type { PartRow } from '../../src/apps/streampulse/domain.ts'
import { type StreamPulseNumbers, streamPulsePanel } from '../../src/apps/streampulse/views.ts'
import { alertsFor, WindowBoard } from '../../src/apps/streampulse/window-board.ts'
import { dashboardHtml, type PanelData, type PanelTable, panelView } from '../../src/ops/dashboard/index.ts'
import { createMetrics } from '../../src/ops/metrics.ts'
import type { OpsRequest } from '../../src/ops/router.ts'

const MIN = 60_000
const T0 = Date.UTC(2026, 0, 1, 12, 0)

function part(
  kind: PartRow['kind'],
  group: string,
  windowIndex: number,
  partition: number,
  t: { downloads: number; successful: number; speedMbps?: number; bytes?: number },
): PartRow {
  const start = T0 + windowIndex * MIN
  return {
    kind,
    window_start: new Date(start),
    window_end: new Date(start + MIN),
    group_key: group,
    sub_key: '',
    source_partition: partition,
    downloads: t.downloads,
    successful: t.successful,
    failed: t.downloads - t.successful,
    bytes: t.bytes ?? t.downloads * 1000,
    speed_milli: Math.round((t.speedMbps ?? 50) * 1000) * t.downloads,
    duration_ms: 2000 * t.downloads,
  }
}

function table(data: PanelData, id: string): PanelTable {
  const t = data.sections.flatMap((s) => s.tables ?? []).find((x) => x.id === id)
  assert.ok(t, `table ${id}`)
  return t
}

function card(data: PanelData, id: string) {
  const c = data.sections.flatMap((s) => s.cards ?? []).find((x) => x.id === id)
  assert.ok(c, `card ${id}`)
  return c
}

const request = (query: string): OpsRequest => ({
  method: 'GET',
  path: '/',
  query: new URLSearchParams(query),
  headers: {},
  params: {},
  body: '',
})

describe('StreamPulse window board', () => {
  it('merges partitions, replaces a rewritten share, and raises the seed’s alerts', () => {
    const board = new WindowBoard()
    board.committed([
      part('region', 'dhaka', 0, 0, { downloads: 50, successful: 45 }),
      part('region', 'dhaka', 0, 1, { downloads: 50, successful: 30 }),
      part('region', 'sylhet', 0, 0, { downloads: 10, successful: 10, speedMbps: 4 }),
    ])
    // A late event rewrites partition 1's share of dhaka's window: it replaces, not adds.
    board.committed([part('region', 'dhaka', 0, 1, { downloads: 51, successful: 31 })])
    const [dhaka, sylhet] = board.latestPerRegion().sort((a, b) => a.region.localeCompare(b.region))
    assert.equal(dhaka!.downloads, 101)
    assert.equal(dhaka!.successful, 76)
    assert.equal(dhaka!.success_rate, 0.7525)
    const alerts = board.alerts()
    assert.deepEqual(
      alerts.map((a) => `${a.region} ${a.alert_type} ${a.severity}`),
      ['dhaka LOW_SUCCESS_RATE CRITICAL', 'dhaka HIGH_ERROR_RATE WARNING', 'sylhet SLOW_DOWNLOADS WARNING'],
    )
    assert.equal(alerts[0]!.message, 'Success rate 75.3% in dhaka (below 80%)')
    assert.equal(sylhet!.avg_speed_mbps, 4)
  })

  it('applies the thresholds as the SQL does (strictly below / above)', () => {
    const base = {
      region: 'r',
      window_start: T0,
      window_end: T0 + MIN,
      downloads: 100,
      avg_duration_s: 1,
      total_bytes: 1,
    }
    const at = (successful: number, speed: number) =>
      alertsFor({
        ...base,
        successful,
        failed: 100 - successful,
        success_rate: successful / 100,
        avg_speed_mbps: speed,
      })
    assert.deepEqual(at(90, 10), [])
    assert.deepEqual(
      at(89, 10).map((a) => [a.alert_type, a.severity]),
      [
        ['LOW_SUCCESS_RATE', 'WARNING'],
        ['HIGH_ERROR_RATE', 'WARNING'],
      ],
    )
    assert.equal(at(80, 10)[0]!.severity, 'WARNING')
    assert.equal(at(79, 10)[0]!.severity, 'CRITICAL')
    assert.deepEqual(
      at(95, 9.999).map((a) => a.alert_type),
      ['SLOW_DOWNLOADS'],
    )
  })

  it('keeps only the newest windows and adds content up over the last ones', () => {
    const board = new WindowBoard({ keepWindows: 3 })
    for (let w = 0; w < 5; w++)
      board.committed([
        part('content', 'movie_1', w, 0, { downloads: 10, successful: 10 }),
        part('content', 'game_2', w, 0, { downloads: w, successful: w }),
      ])
    // A window older than every one kept is not taken back in.
    board.committed([part('content', 'old', 0, 0, { downloads: 99, successful: 99 })])
    assert.deepEqual(board.windowStarts(), [T0 + 4 * MIN, T0 + 3 * MIN, T0 + 2 * MIN])
    assert.deepEqual(
      board.topContent({ windows: 2, limit: 10 }).map((c) => [c.content_id, c.downloads]),
      [
        ['movie_1', 20],
        ['game_2', 7],
      ],
    )
  })

  it('panel: worst region first, coloured by its alerts; rows written per table; alert cards', () => {
    const board = new WindowBoard()
    board.committed([
      part('region', 'ok-region', 0, 0, { downloads: 100, successful: 99 }),
      part('region', 'bad-region', 0, 0, { downloads: 100, successful: 50 }),
      part('region', 'slow-region', 0, 0, { downloads: 100, successful: 99, speedMbps: 5 }),
      part('content', 'c1', 0, 0, { downloads: 5, successful: 5 }),
    ])
    const numbers: StreamPulseNumbers = {
      events_processed: 300,
      windows_flushed: 1,
      rows_written: { content_stats: 1, region_health: 3, device_stats: 0, alerts: 3 },
      alerts_generated: { WARNING: 2, CRITICAL: 1 },
      processing_lag_seconds: 700,
      window_close_to_row_seconds: { p50: 0.01, p99: 0.05 },
    }
    const data = streamPulsePanel(numbers, board, { windowMs: MIN, now: T0 + 2 * MIN })
    const regions = table(data, 'regions').rows
    assert.deepEqual(
      regions.map((r) => [r.region, r._level]),
      [
        ['bad-region', 'bad'],
        ['slow-region', 'warn'],
        ['ok-region', ''],
      ],
    )
    assert.match(String(regions[0]!.alerts), /LOW_SUCCESS_RATE \(CRITICAL\)/)
    assert.deepEqual(table(data, 'rows-written').rows.find((r) => r.table === 'region_health')?.rows, 3)
    assert.equal(card(data, 'lag').level, 'bad')
    assert.equal(card(data, 'alerts-critical').level, 'bad')
    assert.equal(card(data, 'alerts-critical').sub, '1 in the newest window')
    assert.deepEqual(table(data, 'top-content').rows[0]?.content_id, 'c1')
  })
})

describe('MillionX stage views', () => {
  it('validator: failures by type with shares, pass-rate colour, sources', () => {
    const data = validatorPanel(
      {
        total_validated: 10,
        passed: 7,
        failed: 3,
        validation_pass_rate: 70,
        failure_types: { required: 3, range: 1 },
        failures_by_rule: { 'price:range': 1, product_id: 3 },
        dlq_rate: 30,
        by_source: { 'source.market.daraz': { validated: 10, passed: 7, failed: 3 } },
      },
      T0,
      [],
    )
    assert.deepEqual(
      table(data, 'failure-types').rows.map((r) => [r.name, r.count, r.share]),
      [
        ['required', 3, 75],
        ['range', 1, 25],
      ],
    )
    assert.equal(card(data, 'pass-rate').level, 'bad')
    assert.equal(table(data, 'sources').rows[0]!._level, 'warn')
  })

  it('privacy shield: PII per type and per 100 records', () => {
    const data = shieldPanel(
      {
        processed: 200,
        withPii: 50,
        counts: { phone: 30, email: 10, nid: 0 },
        latency: { count: 0, p50: 0, p99: 0 },
      },
      T0,
      [],
    )
    assert.deepEqual(
      table(data, 'pii-types').rows.map((r) => [r.name, r.count, r.per_100]),
      [
        ['phone', 30, 15],
        ['email', 10, 5],
        ['nid', 0, 0],
      ],
    )
    assert.equal(card(data, 'with-pii').sub, '25% of records')
    assert.equal(card(data, 'latency').value, null)
  })

  it('context enricher: breaker state coloured, API errors by reason', () => {
    const weather = {
      lookups: 100,
      cache_hit_rate: 90,
      api_calls: 10,
      api_errors: 5,
      api_errors_by_reason: { timeout: 4, http_500: 1 },
      circuit_state: 'open',
      circuit_opens: 1,
      cache_errors: 0,
    }
    const data = enricherPanel(
      {
        enriched: 100,
        redisConnected: false,
        latency: { count: 3, p50: 0.001, p99: 0.0123 },
        categories: { general: 100 },
        weather,
      },
      T0,
      [],
    )
    assert.equal(card(data, 'breaker').level, 'bad')
    assert.equal(card(data, 'breaker').value, 'open')
    assert.equal(card(data, 'cache-hit-rate').level, 'bad')
    assert.equal(card(data, 'latency').value, 12.3)
    assert.deepEqual(
      table(data, 'api-errors').rows.map((r) => [r.name, r.count]),
      [
        ['timeout', 4],
        ['http_500', 1],
      ],
    )
    const closed = enricherPanel(
      {
        enriched: 0,
        redisConnected: true,
        latency: { count: 0, p50: 0, p99: 0 },
        categories: {},
        weather: { ...weather, circuit_state: 'half-open' },
      },
      T0,
      [],
    )
    assert.equal(card(closed, 'breaker').level, 'warn')
  })

  it('embedding service: batch sizes, model latency, write success', () => {
    const data = embeddingPanel(
      {
        embedded: 250,
        stored: 250,
        storeWrites: 3,
        storeWriteFailures: 0,
        modelFailures: 0,
        lastBatchSize: 50,
        backlog: 7,
        batchSize: 100,
        writeSuccessRate: 1,
        modelBatch: { count: 3, p50: 0.2, p99: 0.5 },
        modelRecord: undefined,
      },
      T0,
      [],
    )
    assert.equal(card(data, 'batch').value, 50)
    assert.equal(card(data, 'batch').sub, 'average 83.3 · full at 100')
    assert.equal(card(data, 'model-batch').value, 500)
    assert.equal(card(data, 'model-record').value, null)
    assert.equal(card(data, 'write-success').level, 'ok')
  })

  it('chain: the runtime counters of the stages in this process, the others named as elsewhere', () => {
    const registry = createMetrics({ processMetrics: false })
    // The runtime's own counters (same names: the registry hands back the same metric).
    const consumed = registry.counter('weir_records_consumed_total', 'Records read from input topics')
    const dead = registry.counter('weir_records_dead_lettered_total', 'Records sent to the dead-letter topic')
    const leave = joinChain('privacy-shield', stageCounts(registry))
    try {
      consumed.inc({ topic: 'a' }, 5)
      dead.inc({ topic: 'a', code: 'VALIDATION_FAILED' }, 2)
      const rows = chainRows()
      assert.deepEqual(
        rows.map((r) => r.stage),
        ['schema-validator', 'privacy-shield', 'context-enricher', 'embedding-service'],
      )
      const shield = rows[1]!
      assert.equal(shield.records_in, 5)
      assert.equal(shield.dead_letters, 2)
      assert.equal(shield.dead_letter_codes, 'VALIDATION_FAILED 2')
      assert.equal(rows[0]!.records_in, null)
      assert.match(rows[0]!.where, /not in this process/)
    } finally {
      leave()
    }
    assert.equal(chainRows()[1]!.records_in, null)
  })

  it('search box route: record text only with OPS_SHOW_VALUES', async () => {
    const hits = async () => [
      { collection: 'SocialPost', id: 'p1', score: 0.912345, text: 'Call me at 01711' },
    ]
    const hidden = await searchPreviewRoute(hits, false).handler(request('q=phone'))
    const body = JSON.parse(String(hidden.body))
    assert.equal(hidden.status, 200)
    assert.equal(body.results[0].score, 0.9123)
    assert.doesNotMatch(String(hidden.body), /01711/)
    const shown = JSON.parse(String((await searchPreviewRoute(hits, true).handler(request('q=phone'))).body))
    assert.equal(shown.results[0].text, 'Call me at 01711')
    assert.equal((await searchPreviewRoute(hits, true).handler(request('q='))).status, 400)
    const failing = searchPreviewRoute(async () => {
      throw new Error('store down')
    }, true)
    assert.equal((await failing.handler(request('q=x'))).status, 503)
  })
})

describe('panel views on the page', () => {
  it('serve their data as JSON and their scripts compile inside the page', async () => {
    const view = panelView({
      id: 'demo-panel',
      title: 'Demo',
      deadLetterCodes: ['LATE_RECORD'],
      data: () => ({
        time: 1,
        sections: [{ title: 'S', cards: [{ id: 'x', name: 'X', value: 1, rate: true }] }],
      }),
    })
    const route = view.routes!.find((r) => r.path === '/views/demo-panel/panel.json')!
    const res = await route.handler(request(''))
    assert.equal(JSON.parse(String(res.body)).sections[0].cards[0].value, 1)
    const validator = stageView('schema-validator', () => ({ time: 1, sections: [] }))
    assert.equal(validator.title, 'Schema validator')
    const html = dashboardHtml({ views: [view, validator] })
    const code = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!)
    assert.doesNotThrow(() => new Function(code[0]!))
  })
})

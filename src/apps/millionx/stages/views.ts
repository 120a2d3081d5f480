/**
 * Each MillionX stage's dashboard tab: its own numbers (validation failures by type, PII found per type,
 * cache and weather API, batches and model latency with a search box), the chain's throughput stage by
 * stage as far as this process sees it (./chain.ts), and dead letters by failure type. No record values:
 * the stages carry personal data, so search results show text only with OPS_SHOW_VALUES=true.
 */

import {
  type DashboardView,
  type PanelCard,
  type PanelData,
  type PanelSection,
  panelView,
  percent,
} from '../../../ops/dashboard/index.ts'
import { json } from '../../../ops/json.ts'
import type { OpsRoute } from '../../../ops/router.ts'
import { type ChainRow, chainRows } from './chain.ts'

/** A latency histogram's summary, in seconds. */
export interface LatencySummary {
  readonly count: number
  readonly p50: number
  readonly p99: number
}

const ms = (s: number) => Math.round(s * 100_000) / 100

function latencyCard(id: string, name: string, l: LatencySummary | undefined): PanelCard {
  return l === undefined || l.count === 0
    ? { id, name, value: null, sub: 'nothing measured yet' }
    : {
        id,
        name,
        value: ms(l.p99),
        unit: 'ms',
        sub: `p50 ${ms(l.p50)} ms · ${l.count.toLocaleString('en-US')} measured`,
      }
}

const countRows = (counts: Readonly<Record<string, number>>, total: number) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => ({ name, count: n, share: percent(n, total) }))

/** The chain section every stage shows. */
export function chainSection(rows: readonly ChainRow[] = chainRows()): PanelSection {
  return {
    title: 'The chain, stage by stage',
    note: 'schema-validator → privacy-shield → context-enricher → embedding-service. Stages run elsewhere show their numbers on their own port.',
    tables: [
      {
        id: 'chain',
        title: 'Throughput per stage',
        key: 'stage',
        columns: [
          { field: 'stage', title: 'Stage', text: true },
          { field: 'records_in', title: 'Records in', rate: true },
          { field: 'records_out', title: 'Records out', rate: true },
          { field: 'dead_letters', title: 'Dead letters', rate: true },
          { field: 'dead_letter_codes', title: 'Dead letters by failure type', text: true },
          { field: 'where', title: 'Runs', text: true },
        ],
        rows: rows.map((r) => ({ ...r, _level: (r.dead_letters ?? 0) > 0 ? 'warn' : '' })),
      },
    ],
  }
}

export interface ValidatorNumbers {
  readonly total_validated: number
  readonly passed: number
  readonly failed: number
  readonly validation_pass_rate: number
  readonly failure_types: Readonly<Record<string, number>>
  readonly failures_by_rule: Readonly<Record<string, number>>
  readonly dlq_rate: number
  readonly by_source: Readonly<Record<string, { validated: number; passed: number; failed: number }>>
}

export function validatorPanel(v: ValidatorNumbers, now: number, chain?: readonly ChainRow[]): PanelData {
  const violations = Object.values(v.failure_types).reduce((a, n) => a + n, 0)
  return {
    time: now,
    sections: [
      {
        title: 'Validation',
        cards: [
          { id: 'validated', name: 'Records validated', value: v.total_validated, rate: true },
          { id: 'passed', name: 'Passed', value: v.passed, rate: true },
          {
            id: 'failed',
            name: 'Failed (dead-lettered)',
            value: v.failed,
            rate: true,
            level: v.failed > 0 ? 'warn' : 'ok',
          },
          {
            id: 'pass-rate',
            name: 'Pass rate',
            value: v.validation_pass_rate,
            unit: '%',
            level: v.validation_pass_rate < 80 ? 'bad' : v.validation_pass_rate < 95 ? 'warn' : 'ok',
            sub: `dead-letter rate ${v.dlq_rate}%`,
          },
        ],
        tables: [
          {
            id: 'failure-types',
            title: 'Validation failures by type',
            note: 'Per violation: a record breaking three rules counts three times.',
            key: 'name',
            empty: 'No failures.',
            columns: [
              { field: 'name', title: 'Type', text: true },
              { field: 'count', title: 'Violations', rate: true },
              { field: 'share', title: 'Share', unit: '%' },
            ],
            rows: countRows(v.failure_types, violations),
          },
          {
            id: 'failure-rules',
            title: 'Failures by rule (top 20)',
            key: 'name',
            empty: 'No failures.',
            columns: [
              { field: 'name', title: 'Rule', text: true },
              { field: 'count', title: 'Violations' },
              { field: 'share', title: 'Share', unit: '%' },
            ],
            rows: countRows(v.failures_by_rule, violations).slice(0, 20),
          },
          {
            id: 'sources',
            title: 'By source topic',
            key: 'source',
            columns: [
              { field: 'source', title: 'Source', text: true },
              { field: 'validated', title: 'Validated', rate: true },
              { field: 'failed', title: 'Failed' },
              { field: 'failed_share', title: 'Failed', unit: '%' },
            ],
            rows: Object.entries(v.by_source).map(([source, c]) => ({
              source,
              ...c,
              failed_share: percent(c.failed, c.validated),
              _level: c.failed > 0 && c.failed / c.validated > 0.2 ? 'warn' : '',
            })),
          },
        ],
      },
      chainSection(chain),
    ],
  }
}

export interface ShieldNumbers {
  readonly processed: number
  readonly withPii: number
  readonly counts: Readonly<Record<string, number>>
  readonly latency: LatencySummary
}

export function shieldPanel(s: ShieldNumbers, now: number, chain?: readonly ChainRow[]): PanelData {
  const found = Object.values(s.counts).reduce((a, n) => a + n, 0)
  return {
    time: now,
    sections: [
      {
        title: 'Privacy shield',
        cards: [
          { id: 'processed', name: 'Records anonymised', value: s.processed, rate: true },
          {
            id: 'with-pii',
            name: 'Records with PII',
            value: s.withPii,
            rate: true,
            sub: `${percent(s.withPii, s.processed)}% of records`,
          },
          { id: 'pii-found', name: 'PII values replaced', value: found, rate: true },
          latencyCard('latency', 'Anonymisation time, p99', s.latency),
        ],
        tables: [
          {
            id: 'pii-types',
            title: 'PII found per type',
            key: 'name',
            columns: [
              { field: 'name', title: 'Type', text: true },
              { field: 'count', title: 'Values replaced', rate: true },
              { field: 'share', title: 'Share', unit: '%' },
              { field: 'per_100', title: 'Per 100 records' },
            ],
            rows: countRows(s.counts, found).map((r) => ({
              ...r,
              per_100: s.processed === 0 ? 0 : Math.round((10_000 * r.count) / s.processed) / 100,
            })),
          },
        ],
      },
      chainSection(chain),
    ],
  }
}

export interface EnricherNumbers {
  readonly enriched: number
  readonly redisConnected: boolean
  readonly latency: LatencySummary
  readonly categories: Readonly<Record<string, number>>
  readonly weather: {
    readonly lookups: number
    readonly cache_hit_rate: number
    readonly api_calls: number
    readonly api_errors: number
    readonly api_errors_by_reason: Readonly<Record<string, number>>
    readonly circuit_state: string
    readonly circuit_opens: number
    readonly cache_errors: number
  }
}

export function enricherPanel(e: EnricherNumbers, now: number, chain?: readonly ChainRow[]): PanelData {
  const w = e.weather
  const breaker = w.circuit_state
  return {
    time: now,
    sections: [
      {
        title: 'Context enricher',
        cards: [
          { id: 'enriched', name: 'Records enriched', value: e.enriched, rate: true },
          {
            id: 'cache-hit-rate',
            name: 'Weather cache hit rate',
            value: w.cache_hit_rate,
            unit: '%',
            sub: `${w.lookups.toLocaleString('en-US')} lookups · Redis ${e.redisConnected ? 'connected' : 'unreachable'}`,
            level: e.redisConnected ? 'ok' : 'bad',
          },
          { id: 'api-calls', name: 'Weather API calls', value: w.api_calls, rate: true },
          {
            id: 'api-errors',
            name: 'Weather API errors',
            value: w.api_errors,
            rate: true,
            level: w.api_errors > 0 ? 'warn' : 'ok',
            sub: `${percent(w.api_errors, w.api_calls)}% of calls`,
          },
          {
            id: 'breaker',
            name: 'Weather API circuit',
            value: breaker,
            level: breaker === 'open' ? 'bad' : breaker === 'closed' ? 'ok' : 'warn',
            sub: `opened ${w.circuit_opens.toLocaleString('en-US')} times; open: records go on with weather null`,
          },
          latencyCard('latency', 'Enrichment time, p99', e.latency),
        ],
        tables: [
          {
            id: 'api-errors',
            title: 'Weather API errors by reason',
            key: 'name',
            empty: 'No weather API errors.',
            columns: [
              { field: 'name', title: 'Reason', text: true },
              { field: 'count', title: 'Errors', rate: true },
              { field: 'share', title: 'Share', unit: '%' },
            ],
            rows: countRows(w.api_errors_by_reason, w.api_errors).map((r) => ({ ...r, _level: 'warn' })),
          },
          {
            id: 'categories',
            title: 'Product categories',
            key: 'name',
            columns: [
              { field: 'name', title: 'Category', text: true },
              { field: 'count', title: 'Records', rate: true },
              { field: 'share', title: 'Share', unit: '%' },
            ],
            rows: countRows(e.categories, e.enriched),
          },
        ],
      },
      chainSection(chain),
    ],
  }
}

export interface EmbeddingNumbers {
  readonly embedded: number
  readonly stored: number
  readonly storeWrites: number
  readonly storeWriteFailures: number
  readonly modelFailures: number
  readonly lastBatchSize: number
  readonly backlog: number
  readonly batchSize: number
  readonly writeSuccessRate: number
  readonly modelBatch: LatencySummary | undefined
  readonly modelRecord: LatencySummary | undefined
}

export function embeddingPanel(e: EmbeddingNumbers, now: number, chain?: readonly ChainRow[]): PanelData {
  const successPct = Math.round(e.writeSuccessRate * 10_000) / 100
  return {
    time: now,
    sections: [
      {
        title: 'Embeddings',
        cards: [
          { id: 'embedded', name: 'Records embedded', value: e.embedded, rate: true },
          { id: 'stored', name: 'Vectors stored', value: e.stored, rate: true },
          {
            id: 'batch',
            name: 'Last batch size',
            value: e.lastBatchSize,
            sub: `average ${e.storeWrites === 0 ? '—' : Math.round((10 * e.stored) / e.storeWrites) / 10} · full at ${e.batchSize}`,
          },
          {
            id: 'backlog',
            name: 'Waiting for the next batch',
            value: e.backlog,
            level: e.backlog > 10 * e.batchSize ? 'warn' : '',
          },
          latencyCard('model-batch', 'Model time per batch, p99', e.modelBatch),
          latencyCard('model-record', 'Model time per record, p99', e.modelRecord),
          {
            id: 'write-success',
            name: 'Vector store write success',
            value: successPct,
            unit: '%',
            level: successPct < 99 ? 'bad' : 'ok',
            sub: `${e.storeWriteFailures.toLocaleString('en-US')} failed writes · ${e.modelFailures.toLocaleString('en-US')} model failures`,
          },
        ],
      },
      chainSection(chain),
    ],
  }
}

export interface SearchHit {
  readonly collection: string
  readonly id: string
  readonly score: number
  readonly text?: string
}

/**
 * The search box's route: the stage's own search, record text only when values may be shown (the
 * seed's `/search` answers in full; this one is what the page shows).
 */
export function searchPreviewRoute(
  search: (q: string, options: { limit: number }) => Promise<readonly SearchHit[]>,
  showValues: boolean,
): OpsRoute {
  return {
    method: 'GET',
    path: '/views/embedding-service/search.json',
    async handler(req) {
      const q = req.query.get('q')?.trim() ?? ''
      if (q === '' || q.length > 500)
        return json(400, { error: 'bad_request', message: 'give the query text (1–500 characters) as ?q=…' })
      const started = performance.now()
      try {
        const hits = await search(q, { limit: 10 })
        return json(200, {
          took_ms: Math.round((performance.now() - started) * 10) / 10,
          values_shown: showValues,
          results: hits.map((h) => ({
            collection: h.collection,
            id: h.id,
            score: Math.round(h.score * 10_000) / 10_000,
            text: showValues ? (h.text ?? '') : 'hidden (OPS_SHOW_VALUES=true shows it)',
          })),
        })
      } catch (err) {
        return json(503, { error: 'unavailable', message: `search failed: ${(err as Error).message}` })
      }
    },
  }
}

const SEARCH_CLIENT = String.raw`
var form = weir.el('form'), input = weir.el('input'), button = weir.el('button', '', 'Search'), out = weir.el('div');
input.type = 'search'; input.id = 'search-q'; input.placeholder = 'Semantic search over stored posts and orders';
input.style.cssText = 'width:420px;max-width:100%;padding:4px 8px;background:#0b1015;color:inherit;border:1px solid #3a4754;border-radius:5px;margin-right:8px';
form.appendChild(input); form.appendChild(button);
root.insertBefore(out, root.firstChild); root.insertBefore(form, out); root.insertBefore(weir.el('h2', '', 'Search'), form);
form.addEventListener('submit', function (ev) {
  ev.preventDefault();
  var q = input.value.trim();
  if (!q) return;
  weir.replace(out, [weir.el('p', 'dim', 'Searching\u2026')]);
  weir.getJson('./views/embedding-service/search.json?q=' + encodeURIComponent(q)).then(function (d) {
    var t = weir.table([{ key: 'score', title: 'Score' }, { key: 'collection', title: 'Collection', text: true },
      { key: 'id', title: 'Id', text: true }, { key: 'text', title: 'Text', text: true }], d.results, {
      caption: d.results.length + ' results in ' + weir.fmt(d.took_ms, 'ms') });
    t.id = 'search-results';
    weir.replace(out, [d.results.length ? t : weir.el('p', 'dim', 'No results.')]);
  }, function (err) { weir.replace(out, [weir.el('p', 'dim', 'Search failed: ' + err.message)]); });
});
`

/** One stage's tab. */
export function stageView(
  stage: string,
  data: () => PanelData,
  extra: { script?: string; routes?: readonly OpsRoute[] } = {},
): DashboardView {
  return panelView({
    id: stage,
    title: stage.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase()),
    deadLetterCodes: [],
    data,
    ...(extra.script !== undefined && { extraScript: extra.script }),
    ...(extra.routes !== undefined && { routes: extra.routes }),
  })
}

export function embeddingView(
  data: () => PanelData,
  search: (q: string, options: { limit: number }) => Promise<readonly SearchHit[]>,
  showValues: boolean,
): DashboardView {
  return stageView('embedding-service', data, {
    script: SEARCH_CLIENT,
    routes: [searchPreviewRoute(search, showValues)],
  })
}

/**
 * A ready-made app view: the latest row per key (a sensor's last window, a region's health), as a
 * sortable table the page refreshes every 2 s while its tab is shown, with cards for dead letters of the
 * error codes it names (e.g. LATE_RECORD). Rows are kept in memory, at most `maxRows` keys (the least
 * recently added leave first); `update()` is cheap enough for a pipeline's peek.
 *
 * @example
 * const windows = latestTable<TrafficWindowAggregate>({ id: 'windows', title: 'Windows per sensor', key: (w) => w.sensor_id,
 *   columns: [{ field: 'sensor_id', title: 'Sensor', text: true }, { field: 'avg_speed', title: 'Avg speed', unit: 'mph' }] })
 * stream.peek((w) => windows.update(w))   // and `views: [windows.view]` on the app instance
 */
import { json } from '../json.ts'
import type { DashboardView } from './view.ts'

export interface LatestTableColumn {
  readonly field: string
  readonly title: string
  /** Left-aligned text, not a number. */
  readonly text?: boolean
  /** A unit formatValue knows ('ms', '/s', 'bytes', 'time', '%', '×') or any suffix (e.g. 'mph'). */
  readonly unit?: string
}

export interface LatestTableOptions<R> {
  readonly id: string
  readonly title: string
  readonly key: (row: R) => string
  readonly columns: readonly LatestTableColumn[]
  /** Sorted by this field at first (descending for numbers). */
  readonly sortBy?: string
  /** Dead-letter codes shown as cards above the table (from the runtime's counters). */
  readonly deadLetterCodes?: readonly string[]
  readonly note?: string
  /** Default 10,000. */
  readonly maxRows?: number
}

export interface LatestTable<R> {
  update(row: R): void
  rows(): R[]
  readonly view: DashboardView
}

export function latestTable<R extends object>(options: LatestTableOptions<R>): LatestTable<R> {
  const { id, maxRows = 10_000 } = options
  const latest = new Map<string, R>()
  const rowsPath = `/views/${id}/rows.json`
  const config = {
    title: options.title,
    rows: `.${rowsPath}`,
    columns: options.columns,
    sortBy: options.sortBy ?? null,
    codes: options.deadLetterCodes ?? [],
    note: options.note ?? '',
  }
  return {
    update(row) {
      const k = options.key(row)
      // A known key keeps its place (no reordering on the hot path); past maxRows the oldest key leaves.
      const known = latest.has(k)
      latest.set(k, row)
      if (!known && latest.size > maxRows) latest.delete(latest.keys().next().value as string)
    },
    rows: () => [...latest.values()],
    view: {
      id,
      title: options.title,
      script: `var CONFIG = ${JSON.stringify(config)};\n${LATEST_TABLE_CLIENT}`,
      routes: [
        {
          method: 'GET',
          path: rowsPath,
          handler: () => json(200, { time: Date.now(), total: latest.size, rows: [...latest.values()] }),
        },
      ],
    },
  }
}

const LATEST_TABLE_CLIENT = String.raw`
var cards = weir.el('div', 'grid'), box = weir.el('div');
if (CONFIG.codes.length && weir.has('summary')) { root.appendChild(weir.el('h2', '', 'Dead letters')); root.appendChild(cards); }
root.appendChild(weir.el('h2', '', CONFIG.title));
if (CONFIG.note) root.appendChild(weir.el('p', 'note', CONFIG.note));
root.appendChild(box);
var state = { key: CONFIG.sortBy, desc: true };
var lastData = null;
var KNOWN = { ms: 1, '/s': 1, bytes: 1, time: 1, '%': 1, '\u00d7': 1, s: 1 };
var columns = CONFIG.columns.map(function (c) {
  return { key: c.field, title: c.title + (c.unit && !KNOWN[c.unit] ? ' (' + c.unit + ')' : ''), text: c.text, nowrap: c.text,
    render: function (r) { var v = r[c.field]; return c.unit === 'time' && typeof v === 'number' ? new Date(v).toISOString().slice(0, 16).replace('T', ' ') : weir.fmt(v, KNOWN[c.unit] ? c.unit : ''); } };
});
function draw() {
  if (!lastData) return;
  var t = weir.table(columns, lastData.rows, { sortable: true, state: state, onSort: draw, limit: 500,
    caption: weir.fmt(lastData.total) + ' rows \u00b7 click a heading to sort' });
  t.id = 'latest-' + root.getAttribute('data-view');
  weir.replace(box, [lastData.rows.length ? t : weir.el('p', 'dim', 'No rows yet.')]);
}
weir.every(2000, function () { return weir.getJson(CONFIG.rows).then(function (d) { lastData = d; draw(); }); }, root.getAttribute('data-view'));
if (CONFIG.codes.length && weir.has('summary')) {
  var history = {};
  weir.every(1000, function () {
    return weir.getJson('./dashboard/summary.json').then(function (s) {
      weir.replace(cards, CONFIG.codes.map(function (code) {
        var n = s.dead_letters_by_code[code] || 0, h = history[code] || (history[code] = weir.series(305000));
        h.add(s.time, n);
        var d = h.delta(300000);
        return weir.card({ id: 'card-' + code, name: weir.label(code.toLowerCase()).label, value: n, level: d.value > 0 ? 'warn' : 'ok',
          sub: weir.fmt(d.value) + ' (' + weir.span(d.ms) + ') \u00b7 see Dead letters' });
      }));
    });
  }, root.getAttribute('data-view'));
}
`

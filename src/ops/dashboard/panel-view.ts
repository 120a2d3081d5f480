/**
 * A ready-made app view of numbers the app already keeps: a data function returns sections of cards and
 * tables (cheap, in memory: it runs on every poll), and one client draws them, refreshed every 2 s while
 * the tab is shown. Cards and table columns marked `rate` also show a per-second rate the page derives
 * from successive totals; a row's `_level` ('warn' or 'bad') colours it. Dead-letter codes named in
 * `deadLetterCodes` get cards from the runtime's counters, as in latestTable.
 *
 * @example
 * const view = panelView({ id: 'validator', title: 'Validation', data: () => ({ time: Date.now(), sections: [
 *   { title: 'Records', cards: [{ id: 'passed', name: 'Passed', value: m.passed, rate: true }] },
 * ] }) })
 */
import { json } from '../json.ts'
import type { OpsRoute } from '../router.ts'
import type { DashboardView } from './view.ts'

export type PanelLevel = '' | 'ok' | 'warn' | 'bad'

export interface PanelCard {
  /** Unique on the page (the card's element id is `card-<view>-<id>`). */
  readonly id: string
  readonly name: string
  readonly value: number | string | null
  /** A unit formatValue knows ('ms', '/s', 'bytes', 'time', '%', '×', 's'). */
  readonly unit?: string
  readonly level?: PanelLevel
  readonly sub?: string
  /** The value is a growing total: the page adds its rate per second under it. */
  readonly rate?: boolean
}

export interface PanelColumn {
  readonly field: string
  readonly title: string
  /** Left-aligned text, not a number. */
  readonly text?: boolean
  readonly unit?: string
  /** A growing total: the page shows its rate per second (rows told apart by the table's `key`). */
  readonly rate?: boolean
}

export type PanelRow = Readonly<Record<string, unknown>> & { readonly _level?: PanelLevel }

export interface PanelTable {
  readonly id: string
  readonly title: string
  readonly columns: readonly PanelColumn[]
  readonly rows: readonly PanelRow[]
  /** Field that names a row (for rates); default the first column. */
  readonly key?: string
  readonly sortBy?: string
  readonly note?: string
  /** Shown instead of an empty table. */
  readonly empty?: string
}

export interface PanelSection {
  readonly title: string
  readonly note?: string
  readonly cards?: readonly PanelCard[]
  readonly tables?: readonly PanelTable[]
}

export interface PanelData {
  readonly time: number
  readonly sections: readonly PanelSection[]
}

export interface PanelViewOptions {
  readonly id: string
  readonly title: string
  readonly data: () => PanelData | Promise<PanelData>
  readonly note?: string
  /**
   * Dead letters by code as cards above the panel (the runtime's counters): these codes always, then
   * any other code that has occurred. Unset: no dead-letter cards.
   */
  readonly deadLetterCodes?: readonly string[]
  /** More browser code run after the panel's (e.g. a search box); sees `root`, `weir` and `CONFIG`. */
  readonly extraScript?: string
  /** More data routes (e.g. the search box's). */
  readonly routes?: readonly OpsRoute[]
}

export function panelView(options: PanelViewOptions): DashboardView {
  const path = `/views/${options.id}/panel.json`
  const config = {
    data: `.${path}`,
    note: options.note ?? '',
    dlq: options.deadLetterCodes !== undefined,
    codes: options.deadLetterCodes ?? [],
  }
  return {
    id: options.id,
    title: options.title,
    script: `var CONFIG = ${JSON.stringify(config)};\n${PANEL_CLIENT}\n${options.extraScript ?? ''}`,
    routes: [
      { method: 'GET', path, handler: async () => json(200, await options.data()) },
      ...(options.routes ?? []),
    ],
  }
}

/** A share as a percentage with one decimal, 0 when there is nothing to divide. */
export function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((1000 * part) / whole) / 10
}

const PANEL_CLIENT = String.raw`
var VIEW = root.getAttribute('data-view');
var dlqBox = weir.el('div'), body = weir.el('div');
if (CONFIG.note) root.appendChild(weir.el('p', 'note', CONFIG.note));
root.appendChild(dlqBox);
root.appendChild(body);
var history = {}, sortState = {};
function seriesOf(k) { return history[k] || (history[k] = weir.series(65000)); }
/** Per second over the last 10 s of a total, or null until two reads. */
function rateOf(k, t, v) { var s = seriesOf(k); s.add(t, v); return s.rate(10000); }
function drawCards(cards, t) {
  var grid = weir.el('div', 'grid');
  cards.forEach(function (c) {
    var sub = c.sub || '';
    if (c.rate && typeof c.value === 'number') {
      var r = rateOf('card|' + c.id, t, c.value);
      sub = (r === null ? '\u2026 / s' : weir.fmt(r, '/s')) + (sub ? ' \u00b7 ' + sub : '');
    }
    var opts = { id: 'card-' + VIEW + '-' + c.id, name: c.name, value: c.value, unit: c.unit, level: c.level, sub: sub };
    if (typeof c.value !== 'number') opts.text = c.value === null || c.value === undefined ? '\u2014' : String(c.value);
    grid.appendChild(weir.card(opts));
  });
  return grid;
}
function drawTable(tb, t) {
  var keyField = tb.key || tb.columns[0].field;
  var state = sortState[tb.id] || (sortState[tb.id] = { key: tb.sortBy || null, desc: true });
  var rows = tb.rows.map(function (row) {
    var out = {};
    Object.keys(row).forEach(function (k) { out[k] = row[k]; });
    tb.columns.forEach(function (c) {
      if (c.rate && typeof row[c.field] === 'number') out[c.field + '__rate'] = rateOf(tb.id + '|' + row[keyField] + '|' + c.field, t, row[c.field]);
    });
    return out;
  });
  var columns = [];
  tb.columns.forEach(function (c) {
    columns.push({ key: c.field, title: c.title, text: c.text, nowrap: c.text, unit: c.unit });
    if (c.rate) columns.push({ key: c.field + '__rate', title: c.title + ' / s', unit: '/s' });
  });
  var wrap = weir.el('div', 'scroll');
  wrap.appendChild(weir.el('h2', '', tb.title));
  if (tb.note) wrap.appendChild(weir.el('p', 'note', tb.note));
  var holder = weir.el('div');
  function draw() {
    var table = weir.table(columns, rows, { sortable: true, state: state, onSort: draw, limit: 200 });
    table.id = 'table-' + VIEW + '-' + tb.id;
    weir.replace(holder, [table]);
  }
  if (rows.length) draw(); else holder.appendChild(weir.el('p', 'dim', tb.empty || 'Nothing yet.'));
  wrap.appendChild(holder);
  return wrap;
}
weir.every(2000, function () {
  return weir.getJson(CONFIG.data).then(function (d) {
    var parts = [];
    d.sections.forEach(function (s) {
      parts.push(weir.el('h2', '', s.title));
      if (s.note) parts.push(weir.el('p', 'note', s.note));
      if (s.cards && s.cards.length) parts.push(drawCards(s.cards, d.time));
      (s.tables || []).forEach(function (tb) { parts.push(drawTable(tb, d.time)); });
    });
    weir.replace(body, parts);
  });
}, VIEW);
if (CONFIG.dlq && weir.has('summary')) {
  var dlqHistory = {};
  weir.every(2000, function () {
    return weir.getJson('./dashboard/summary.json').then(function (s) {
      var codes = CONFIG.codes.concat(Object.keys(s.dead_letters_by_code).sort().filter(function (c) { return CONFIG.codes.indexOf(c) < 0; }));
      var cards = codes.map(function (code) {
        var n = s.dead_letters_by_code[code] || 0, h = dlqHistory[code] || (dlqHistory[code] = weir.series(305000));
        h.add(s.time, n);
        var delta = h.delta(300000);
        return weir.card({ id: 'card-' + VIEW + '-dlq-' + code, name: 'Dead letters: ' + weir.label(code.toLowerCase()).label, value: n,
          level: delta.value > 0 ? 'warn' : 'ok', sub: weir.fmt(delta.value) + ' (' + weir.span(delta.ms) + ') \u00b7 see Dead letters' });
      });
      weir.replace(dlqBox, [weir.el('h2', '', 'Dead letters by failure type'),
        cards.length ? (function () { var g = weir.el('div', 'grid'); cards.forEach(function (c) { g.appendChild(c); }); return g; })()
          : weir.el('p', 'dim', 'None so far.')]);
    });
  }, VIEW);
}
`

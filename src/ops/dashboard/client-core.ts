/**
 * The page's shared browser code: the `weir` helpers every panel and app view uses (elements, labels,
 * numbers, JSON polling that runs only while its tab is shown, rates from successive totals, sortable
 * tables, sparklines), the tabs (`#hash` picks one) and the health header. Plain ES5-ish JavaScript in a
 * string: no modules, no build step. labels.ts's functions are put in front of it by page.ts.
 */
export const CLIENT_CORE = String.raw`
var weir = (function () {
  'use strict';
  var tabs = {};
  var current = null;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(v, unit) { return formatValue(v, unit || ''); }
  function label(key) { return humanLabel(key); }
  function getJson(path) {
    return fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) { var e = new Error(path + ': HTTP ' + r.status); e.status = r.status; throw e; }
        return r.json();
      });
  }
  /** Runs fn now and every ms while the tab (id) is shown; with no id, always. fn may return a promise. */
  function every(ms, fn, tabId) {
    var busy = false;
    function run() {
      if (busy || (tabId && current !== tabId)) return;
      busy = true;
      var done = function () { busy = false; };
      try { Promise.resolve(fn()).then(done, function (err) { done(); if (!err || err.status !== 404) console.warn(err); }); }
      catch (err) { done(); console.warn(err); }
    }
    setInterval(run, ms);
    if (tabId) onShow(tabId, run);
    run();
  }
  var showHooks = {};
  function onShow(id, fn) { (showHooks[id] = showHooks[id] || []).push(fn); }
  function onHide(id, fn) { (showHooks['-' + id] = showHooks['-' + id] || []).push(fn); }
  function show(id) {
    if (!tabs[id]) id = 'overview';
    if (current === id) return;
    var previous = current;
    current = id;
    Object.keys(tabs).forEach(function (k) {
      tabs[k].section.classList.toggle('active', k === id);
      tabs[k].link.classList.toggle('active', k === id);
    });
    (showHooks['-' + previous] || []).forEach(function (f) { f(); });
    (showHooks[id] || []).forEach(function (f) { f(); });
  }
  function addTab(id, title) {
    var link = el('a', '', title);
    link.href = '#' + id;
    link.id = 'tab-' + id;
    document.getElementById('tabs').appendChild(link);
    var section = el('section');
    section.setAttribute('data-view', id);
    section.id = 'view-' + id;
    document.getElementById('main').appendChild(section);
    tabs[id] = { link: link, section: section };
    return section;
  }
  /** Keeps timestamped samples of a total, to turn it into a rate and a "last N minutes" figure. */
  function series(keepMs) {
    var points = [];
    return {
      add: function (t, v) {
        points.push([t, v]);
        while (points.length > 2 && t - points[1][0] > keepMs) points.shift();
      },
      /** Per second over the last windowMs (the oldest sample inside it as the base). */
      rate: function (windowMs) {
        if (points.length < 2) return null;
        var last = points[points.length - 1], base = null;
        for (var i = points.length - 2; i >= 0; i--) { base = points[i]; if (last[0] - points[i][0] >= windowMs) break; }
        var dt = (last[0] - base[0]) / 1000;
        return dt > 0 ? Math.max(0, (last[1] - base[1]) / dt) : null;
      },
      /** Growth over the last windowMs and how much time it really covers. */
      delta: function (windowMs) {
        if (points.length === 0) return { value: 0, ms: 0 };
        var last = points[points.length - 1], base = points[0];
        for (var i = 0; i < points.length; i++) { if (last[0] - points[i][0] <= windowMs) { base = points[i]; break; } }
        return { value: last[1] - base[1], ms: last[0] - base[0] };
      },
      values: function () { return points.map(function (p) { return p[1]; }); },
      points: points
    };
  }
  function sparkline(values, colour) {
    var wrap = el('div');
    if (values.length < 2) return wrap;
    var min = Math.min.apply(null, values), max = Math.max.apply(null, values), span = max - min || 1;
    var pts = values.map(function (v, i) {
      return (i * 100 / (values.length - 1)).toFixed(2) + ',' + (28 - ((v - min) / span) * 26).toFixed(2);
    }).join(' ');
    wrap.innerHTML = '<svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none"><polyline fill="none" stroke="' +
      (colour || '#58a6ff') + '" stroke-width="1.5" vector-effect="non-scaling-stroke" points="' + pts + '"/></svg>';
    return wrap;
  }
  /** A card: name, big value, a line under it, a sparkline; level '', 'ok', 'warn' or 'bad'. */
  function card(opts) {
    var c = el('div', 'card ' + (opts.level || ''));
    if (opts.id) c.id = opts.id;
    c.appendChild(el('div', 'name', opts.name));
    var v = el('div', 'value', opts.text !== undefined ? opts.text : fmt(opts.value, opts.unit));
    if (typeof opts.value === 'number') v.setAttribute('data-value', String(opts.value));
    c.appendChild(v);
    if (opts.sub) c.appendChild(el('div', 'sub', opts.sub));
    if (opts.spark) c.appendChild(sparkline(opts.spark, opts.level === 'bad' ? '#f85149' : opts.level === 'warn' ? '#d29922' : undefined));
    return c;
  }
  /**
   * A table; columns: [{ key, title, unit, text (left-aligned), render(row) }]. sortable: clicking a
   * heading sorts by it (again: the other way), kept across redraws through state.
   */
  function table(columns, rows, opts) {
    opts = opts || {};
    var state = opts.state || {};
    var t = el('table');
    if (opts.caption) t.appendChild(el('caption', '', opts.caption));
    var head = el('tr');
    columns.forEach(function (c) {
      var th = el('th', (c.text ? 'text ' : '') + (opts.sortable ? 'sortable' : ''), c.title + (state.key === c.key ? (state.desc ? ' \u25bc' : ' \u25b2') : ''));
      if (state.key === c.key) th.classList.add('sorted');
      if (opts.sortable) th.addEventListener('click', function () {
        state.desc = state.key === c.key ? !state.desc : !c.text;
        state.key = c.key;
        if (opts.onSort) opts.onSort();
      });
      head.appendChild(th);
    });
    t.appendChild(head);
    var sorted = rows.slice();
    if (state.key) {
      sorted.sort(function (a, b) {
        var x = a[state.key], y = b[state.key];
        var r = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return state.desc ? -r : r;
      });
    }
    var limit = opts.limit || sorted.length;
    sorted.slice(0, limit).forEach(function (row) {
      var tr = el('tr', row._level || '');
      columns.forEach(function (c) {
        var td = el('td', (c.text ? 'text' : '') + (c.nowrap ? ' nowrap' : ''));
        if (c.render) { var x = c.render(row); if (typeof x === 'string') td.textContent = x; else if (x) td.appendChild(x); }
        else td.textContent = fmt(row[c.key], c.unit);
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    if (sorted.length > limit) {
      var more = el('tr'), td = el('td', 'text dim', '+' + (sorted.length - limit).toLocaleString('en-US') + ' more');
      td.colSpan = columns.length;
      more.appendChild(td);
      t.appendChild(more);
    }
    return t;
  }
  function replace(node, children) {
    node.textContent = '';
    children.forEach(function (c) { if (c) node.appendChild(c); });
  }
  function uptime(s) {
    var d = Math.floor(s / 86400), hh = Math.floor(s % 86400 / 3600), mm = Math.floor(s % 3600 / 60), ss = Math.floor(s % 60);
    return (d ? d + 'd ' : '') + (d || hh ? hh + 'h ' : '') + (d || hh || mm ? mm + 'm ' : '') + ss + 's';
  }
  function renderHealth(h) {
    var status = document.getElementById('status');
    status.textContent = h.status || 'unknown';
    status.className = 'badge ' + (h.status || '');
    document.getElementById('message').textContent = h.message || '';
    var pills = document.getElementById('pills');
    pills.textContent = '';
    Object.keys(h).forEach(function (k) {
      var m = /^(.*)_connected$/.exec(k);
      if (!m) return;
      var name = m[1].charAt(0).toUpperCase() + m[1].slice(1);
      var p = el('span', 'pill' + (h[k] ? '' : ' off'), name + (h[k] ? ' connected' : ' unreachable'));
      p.title = h[k] ? name + ' answers' : name + ' does not answer: records wait, nothing is committed past them';
      pills.appendChild(p);
      pills.appendChild(document.createTextNode(' '));
    });
    if (typeof h.uptime_seconds === 'number') document.getElementById('uptime').textContent = 'up ' + uptime(h.uptime_seconds);
  }
  function start() {
    every(1000, function () {
      return getJson('./health').then(renderHealth, function () {
        var s = document.getElementById('status');
        s.textContent = 'unreachable';
        s.className = 'badge down';
      });
    });
    window.addEventListener('hashchange', function () { show(location.hash.slice(1)); });
    show(location.hash.slice(1) || 'overview');
  }
  function has(source) { return WEIR_SOURCES[source] === true; }
  /** The span a "last 5 minutes" figure really covers (the page keeps history from when it opened). */
  function span(ms) { return ms >= 290000 ? 'last 5 min' : ms < 1500 ? 'since opened' : 'last ' + Math.round(ms / 1000) + ' s'; }
  return { has: has, span: span, el: el, fmt: fmt, label: label, getJson: getJson, every: every, onShow: onShow, onHide: onHide,
    addTab: addTab, series: series, sparkline: sparkline, card: card, table: table, replace: replace,
    start: start, current: function () { return current; } };
})();
`

/**
 * The live dashboard at `/`: one self-contained HTML page (inline CSS and JS, no external fetches) that
 * polls `./health` and `./metrics` every second. It renders any metrics JSON: top-level numbers as cards
 * with sparklines (grouped into throughput, errors, lag, memory and other), latency summaries
 * (objects with p50/p95/p99 or avg) as a percentile table, other nested objects as tables.
 * Relative URLs keep it working behind a path-prefixing proxy.
 */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** CSP for the page: it may only talk to its own origin and run its own inline code. */
export const DASHBOARD_CSP =
  "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

export function dashboardHtml(options: { title?: string } = {}): string {
  const title = escapeHtml(options.title ?? 'Weir')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ops</title>
<style>
:root { --bg:#0f1419; --panel:#182028; --line:#2a3540; --text:#d8e0e8; --dim:#8a98a6; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, Segoe UI, sans-serif; background:var(--bg); color:var(--text); }
header { display:flex; flex-wrap:wrap; gap:12px; align-items:center; padding:14px 20px; border-bottom:1px solid var(--line); }
h1 { font-size:18px; margin:0 12px 0 0; }
h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:22px 0 8px; }
main { padding:0 20px 30px; }
.badge { padding:3px 10px; border-radius:12px; font-weight:600; background:var(--line); }
.healthy { background:var(--ok); color:#04120a; } .degraded { background:var(--warn); color:#1d1300; } .unhealthy, .down { background:var(--bad); color:#fff; }
.pill { padding:2px 8px; border-radius:10px; font-size:12px; background:#1f3a26; color:var(--ok); }
.pill.off { background:#3d1d1d; color:var(--bad); }
.dim { color:var(--dim); }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(210px, 1fr)); gap:10px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.card .name { color:var(--dim); font-size:12px; overflow-wrap:anywhere; }
.card .value { font-size:22px; font-variant-numeric:tabular-nums; margin:2px 0; }
.card .row { color:var(--dim); font-size:12px; font-variant-numeric:tabular-nums; white-space:pre; overflow:hidden; text-overflow:ellipsis; }
.card.alert { border-color:var(--bad); } .card.alert .value { color:var(--bad); }
svg.spark { display:block; width:100%; height:30px; }
table { border-collapse:collapse; background:var(--panel); border:1px solid var(--line); border-radius:8px; margin-bottom:10px; min-width:320px; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:right; font-variant-numeric:tabular-nums; }
th:first-child, td:first-child { text-align:left; overflow-wrap:anywhere; }
th { color:var(--dim); font-weight:500; font-size:12px; }
caption { text-align:left; color:var(--dim); padding:4px 0; font-size:12px; }
</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <span id="status" class="badge">connecting…</span>
  <span id="message" class="dim"></span>
  <span id="pills"></span>
  <span id="uptime" class="dim" style="margin-left:auto"></span>
</header>
<main id="main"></main>
<script>
(function () {
  'use strict';
  var POLL_MS = 1000, KEEP = 120;
  var history = {};
  var previous = null;
  var SECTIONS = [
    ['Throughput', /per_?sec|per_second|_rate$|rps|throughput/i],
    ['Errors & dead letters', /error|fail|dead|dlq|reject|drop|invalid|retr/i],
    ['Lag', /lag|backlog|pending|queue/i],
    ['Memory', /memory|heap|rss|bytes/i],
    ['Totals & values', /./]
  ];
  var LATENCY_KEY = /^(p\\d+|avg|mean|min|max|median)(_ms|_s|_seconds)?$/;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }
  function fmt(v, key) {
    if (typeof v !== 'number') return String(v);
    if (!isFinite(v)) return String(v);
    if (/bytes/i.test(key || '') && Math.abs(v) >= 1024) {
      var units = ['KiB', 'MiB', 'GiB', 'TiB'], i = -1;
      do { v = v / 1024; i++; } while (Math.abs(v) >= 1024 && i < units.length - 1);
      return v.toFixed(1) + ' ' + units[i];
    }
    if (Number.isInteger(v)) return v.toLocaleString('en-US');
    var a = Math.abs(v);
    return a >= 100 ? Math.round(v).toLocaleString('en-US') : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
  }
  function remember(key, v) {
    var h = history[key] || (history[key] = []);
    h.push(v);
    if (h.length > KEEP) h.shift();
    return h;
  }
  function sparkline(values) {
    var wrap = el('div');
    if (values.length < 2) return wrap;
    var min = Math.min.apply(null, values), max = Math.max.apply(null, values), span = max - min || 1;
    var pts = values.map(function (v, i) {
      return (i * 100 / (values.length - 1)).toFixed(2) + ',' + (28 - ((v - min) / span) * 26).toFixed(2);
    }).join(' ');
    wrap.innerHTML = '<svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none">' +
      '<polyline fill="none" stroke="#58a6ff" stroke-width="1.5" vector-effect="non-scaling-stroke" points="' + pts + '"/></svg>';
    return wrap;
  }
  function card(name, value, hist, alert, note, breakdown) {
    var c = el('div', 'card' + (alert ? ' alert' : ''));
    c.appendChild(el('div', 'name', name));
    c.appendChild(el('div', 'value', fmt(value, name)));
    if (note) c.appendChild(el('div', 'name', note));
    c.appendChild(sparkline(hist));
    if (breakdown) {
      var keys = Object.keys(breakdown), shown = keys.slice(0, 8);
      shown.forEach(function (k) { c.appendChild(el('div', 'row', k + '  ' + fmt(breakdown[k], name))); });
      if (keys.length > shown.length) c.appendChild(el('div', 'row', '+' + (keys.length - shown.length) + ' more'));
    }
    return c;
  }
  function allNumbers(o) {
    var ks = Object.keys(o);
    return ks.length > 0 && ks.every(function (k) { return typeof o[k] === 'number'; });
  }
  /** Numbers to show as cards: top-level ones, labelled metrics summed, small plain objects flattened. */
  function numericItems(metrics) {
    var items = [];
    Object.keys(metrics).forEach(function (key) {
      var v = metrics[key];
      if (typeof v === 'number') items.push({ key: key, value: v });
      else if (isObj(v) && !isLatency(v) && allNumbers(v)) {
        var ks = Object.keys(v);
        if (ks.every(function (k) { return k.indexOf('=') > 0 || k === '{}'; })) {
          items.push({ key: key, value: ks.reduce(function (a, k) { return a + v[k]; }, 0), breakdown: v });
        } else if (ks.length <= 12) {
          ks.forEach(function (k) { items.push({ key: key + '.' + k, value: v[k] }); });
        }
      }
    });
    return items;
  }
  function isLatency(o) {
    return isObj(o) && Object.keys(o).some(function (k) { return LATENCY_KEY.test(k) && typeof o[k] === 'number'; });
  }
  /** Histograms in seconds read better in milliseconds. */
  function latencyRow(name, v) {
    if (!/_seconds\\b/.test(name)) return [name, v];
    var ms = {};
    Object.keys(v).forEach(function (k) { ms[k] = (LATENCY_KEY.test(k) || k === 'sum') && typeof v[k] === 'number' ? v[k] * 1000 : v[k]; });
    return [name + ' (ms)', ms];
  }
  function table(caption, rows) {
    var cols = [];
    rows.forEach(function (r) {
      if (isObj(r[1])) Object.keys(r[1]).forEach(function (k) { if (cols.indexOf(k) < 0) cols.push(k); });
    });
    var t = el('table');
    t.appendChild(el('caption', '', caption));
    var head = el('tr');
    head.appendChild(el('th', '', ''));
    (cols.length ? cols : ['value']).forEach(function (c) { head.appendChild(el('th', '', c)); });
    t.appendChild(head);
    rows.forEach(function (r) {
      var tr = el('tr');
      tr.appendChild(el('td', '', r[0]));
      if (cols.length && isObj(r[1])) cols.forEach(function (c) {
        var v = r[1][c];
        tr.appendChild(el('td', '', v === undefined ? '' : isObj(v) ? JSON.stringify(v) : fmt(v, c)));
      });
      else tr.appendChild(el('td', '', isObj(r[1]) || Array.isArray(r[1]) ? JSON.stringify(r[1]) : fmt(r[1], r[0])));
      t.appendChild(tr);
    });
    return t;
  }
  function render(metrics, now) {
    var main = document.getElementById('main');
    var groups = {}, latency = [], tables = [], flags = [], seen = {};
    SECTIONS.forEach(function (s) { groups[s[0]] = []; });
    var items = numericItems(metrics).filter(function (it) { return !/(^|\\.)(timestamp|uptime_seconds|start_time_seconds)$/.test(it.key); });
    var hasRates = items.some(function (it) { return SECTIONS[0][1].test(it.key); });
    var flat = {};
    items.forEach(function (it) {
      flat[it.key] = it.value;
      var section = SECTIONS.filter(function (s) { return s[1].test(it.key); })[0][0];
      var alert = section === 'Errors & dead letters' && it.value > 0 && !/per_?sec/.test(it.key);
      groups[section].push(card(it.key, it.value, remember(it.key, it.value), alert, '', it.breakdown));
      if (!hasRates && /_total$/.test(it.key) && !/cpu_seconds/.test(it.key) && previous && typeof previous.m[it.key] === 'number') {
        var r = Math.max(0, (it.value - previous.m[it.key]) * 1000 / Math.max(1, now - previous.t));
        groups.Throughput.push(card(it.key.replace(/_total$/, '') + ' /s', r, remember(it.key + '/s', r), false, 'derived'));
      }
      seen[it.key.split('.')[0]] = true;
    });
    Object.keys(metrics).forEach(function (key) {
      var v = metrics[key];
      if (seen[key] || typeof v === 'number') return;
      if (typeof v === 'boolean' || typeof v === 'string') flags.push([key, v]);
      else if (isLatency(v)) latency.push(latencyRow(key, v));
      else if (isObj(v)) {
        var vals = Object.keys(v).map(function (k) { return v[k]; });
        if (vals.length && vals.every(isLatency)) Object.keys(v).forEach(function (k) { latency.push(latencyRow(key + ' {' + k + '}', v[k])); });
        else tables.push(table(key, Object.keys(v).map(function (k) { return [k, v[k]]; })));
      } else if (Array.isArray(v)) {
        tables.push(table(key, v.map(function (x, i) { return [String(i), x]; })));
      }
    });
    main.textContent = '';
    SECTIONS.forEach(function (s) {
      if (groups[s[0]].length === 0) return;
      main.appendChild(el('h2', '', s[0]));
      var grid = el('div', 'grid');
      groups[s[0]].forEach(function (c) { grid.appendChild(c); });
      main.appendChild(grid);
    });
    if (latency.length) {
      main.appendChild(el('h2', '', 'Latency'));
      main.appendChild(table('percentiles', latency));
    }
    if (flags.length) {
      main.appendChild(el('h2', '', 'State'));
      main.appendChild(table('', flags));
    }
    if (tables.length) {
      main.appendChild(el('h2', '', 'Details'));
      tables.forEach(function (t) { main.appendChild(t); });
    }
    return flat;
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
      pills.appendChild(el('span', 'pill' + (h[k] ? '' : ' off'), m[1] + (h[k] ? ' \u2713' : ' \u2717')));
      pills.appendChild(document.createTextNode(' '));
    });
    if (typeof h.uptime_seconds === 'number') document.getElementById('uptime').textContent = 'up ' + uptime(h.uptime_seconds);
  }
  function uptime(s) {
    var d = Math.floor(s / 86400), hh = Math.floor(s % 86400 / 3600), mm = Math.floor(s % 3600 / 60), ss = Math.floor(s % 60);
    return (d ? d + 'd ' : '') + (d || hh ? hh + 'h ' : '') + (d || hh || mm ? mm + 'm ' : '') + ss + 's';
  }
  function getJson(path) {
    return fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' }).then(function (r) { return r.json(); });
  }
  function tick() {
    var now = Date.now();
    Promise.all([getJson('./health').catch(function () { return null; }), getJson('./metrics').catch(function () { return null; })])
      .then(function (res) {
        if (res[0]) renderHealth(res[0]);
        else {
          var s = document.getElementById('status');
          s.textContent = 'unreachable';
          s.className = 'badge down';
        }
        if (res[1] && isObj(res[1])) previous = { m: render(res[1], now), t: now };
      })
      .finally(function () { setTimeout(tick, POLL_MS); });
  }
  tick();
})();
</script>
</body>
</html>
`
}

/**
 * The overview tab (browser code): the numbers an operator checks first, from /dashboard/summary.json,
 * with rates the page derives from successive totals (right from the second read, no warm-up), and
 * colours that mean something: lag growing, dead letters above their usual rate, a failing checkpoint.
 * Below them, the app's own /metrics fields with human labels (the raw key in the tooltip).
 */
export const OVERVIEW_CLIENT = `
(function () {
  'use strict';
  var root = weir.addTab('overview', 'Overview');
  var cards = weir.el('div', 'grid'); cards.id = 'overview-cards';
  var lagBox = weir.el('div'), dlqBox = weir.el('div'), appBox = weir.el('div');
  if (weir.has('summary')) {
    root.appendChild(weir.el('h2', '', 'Now'));
    root.appendChild(cards);
  }
  var tables = weir.el('div', 'row');
  tables.appendChild(lagBox); tables.appendChild(dlqBox);
  root.appendChild(tables);
  root.appendChild(weir.el('h2', '', 'App metrics (/metrics)'));
  root.appendChild(appBox);
  var FIVE_MIN = 300000;
  var inS = weir.series(FIVE_MIN + 5000), outS = weir.series(FIVE_MIN + 5000), dlqS = weir.series(FIVE_MIN + 5000), lagS = weir.series(FIVE_MIN + 5000);
  var inHist = [], outHist = [], p99Hist = [], memHist = [];
  var lagByPartition = {};
  function push(list, v) { list.push(v); if (list.length > 120) list.shift(); }

  function render(s) {
    var t = s.time;
    inS.add(t, s.consumed_total); outS.add(t, s.produced_total); dlqS.add(t, s.dead_lettered_total);
    var lagTotal = s.lag.reduce(function (a, p) { return a + p.lag; }, 0);
    lagS.add(t, lagTotal);
    var inRate = inS.rate(5000), outRate = outS.rate(5000);
    if (inRate !== null) push(inHist, inRate);
    if (outRate !== null) push(outHist, outRate);
    push(p99Hist, s.latency_ms.p99); push(memHist, s.memory.rss_bytes);

    var dlq = dlqS.delta(FIVE_MIN), dlqNow = dlqS.rate(30000) || 0;
    var usual = dlq.ms > 0 ? dlq.value * 1000 / dlq.ms : 0;
    // Red when dead letters come faster than usual; the usual level needs a minute of history first.
    var dlqLevel = dlq.ms >= 60000 && dlqNow > 1 && dlqNow > 2 * usual ? 'bad' : dlq.value > 0 ? 'warn' : 'ok';

    var lag30 = lagS.delta(30000), lag120 = lagS.delta(120000);
    var lagLevel = lagTotal === 0 ? 'ok' : lag120.ms >= 110000 && lag120.value > 0 && lag30.value > 0 ? 'bad' : lag30.value > 0 && lagTotal > 1000 ? 'warn' : 'ok';
    var lagTrend = lag30.ms < 2000 ? '' : lag30.value > 0 ? 'growing, +' + weir.fmt(lag30.value) + ' in ' + Math.round(lag30.ms / 1000) + ' s' : lag30.value < 0 ? 'shrinking, ' + weir.fmt(lag30.value) + ' in ' + Math.round(lag30.ms / 1000) + ' s' : 'steady';

    var cp = s.checkpoint_error ? 'bad' : s.last_checkpoint_at && Date.now() - s.last_checkpoint_at > 60000 ? 'warn' : 'ok';
    weir.replace(cards, [
      weir.card({ id: 'card-in', name: 'Records in / s', value: inRate, unit: '/s', sub: weir.fmt(s.consumed_total) + ' since start', spark: inHist }),
      weir.card({ id: 'card-out', name: 'Records out to Kafka / s', value: outRate, unit: '/s', sub: weir.fmt(s.produced_total) + ' since start', spark: outHist }),
      weir.card({ id: 'card-dlq', name: 'Dead letters (' + weir.span(dlq.ms) + ')', value: dlq.value, level: dlqLevel,
        sub: weir.fmt(dlqNow, '/s') + ' now' + (dlq.ms >= 60000 ? ', usually ' + weir.fmt(usual, '/s') : '') + ' · ' + weir.fmt(s.dead_lettered_total) + ' since start' }),
      weir.card({ id: 'card-lag', name: 'Lag (records behind)', value: lagTotal, level: lagLevel, sub: lagTrend || s.lag.length + ' partitions', spark: lagS.values().slice(-120) }),
      weir.card({ id: 'card-latency', name: 'Record latency p99', value: s.latency_ms.p99, unit: 'ms', sub: 'p50 ' + weir.fmt(s.latency_ms.p50, 'ms') + ' · p95 ' + weir.fmt(s.latency_ms.p95, 'ms'), spark: p99Hist }),
      weir.card({ id: 'card-memory', name: 'Memory (RSS)', value: s.memory.rss_bytes, unit: 'bytes', sub: 'heap ' + weir.fmt(s.memory.heap_used_bytes, 'bytes'), spark: memHist }),
      weir.card({ id: 'card-checkpoint', name: 'Last checkpoint', value: s.last_checkpoint_at, unit: 'time', level: cp,
        sub: s.checkpoint_error ? 'failing: ' + s.checkpoint_error : 'pipeline ' + s.state })
    ]);

    var lagRows = s.lag.map(function (p) {
      var k = p.topic + ':' + p.partition, h = lagByPartition[k] || (lagByPartition[k] = weir.series(60000));
      h.add(t, p.lag);
      var d = h.delta(30000).value;
      return { name: 'Lag, ' + (s.lag.some(function (q) { return q.topic !== p.topic; }) ? p.topic + ' ' : '') + 'partition ' + p.partition,
        lag: p.lag, trend: d, _level: d > 0 && p.lag > 1000 ? 'warn' : '' };
    });
    weir.replace(lagBox, lagRows.length ? [weir.table([
      { key: 'name', title: 'Partition', text: true }, { key: 'lag', title: 'Records behind' },
      { key: 'trend', title: 'Change, 30 s', render: function (r) { return (r.trend > 0 ? '+' : '') + weir.fmt(r.trend); } }
    ], lagRows, { caption: 'Lag per partition', limit: 24 })] : []);

    var codes = Object.keys(s.dead_letters_by_code).map(function (c) { return { code: c, n: s.dead_letters_by_code[c] }; });
    var stages = Object.keys(s.errors_by_stage).map(function (c) { return { stage: c, n: s.errors_by_stage[c] }; });
    weir.replace(dlqBox, [
      codes.length ? weir.table([{ key: 'code', title: 'Error code', text: true }, { key: 'n', title: 'Dead letters' }], codes, { caption: 'Dead letters by code (since start)' }) : null,
      stages.length ? weir.table([{ key: 'stage', title: 'Stage', text: true }, { key: 'n', title: 'Errors' }], stages, { caption: 'Processing errors by stage (since start)' }) : null
    ]);
  }

  function flatten(prefix, v, out) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      Object.keys(v).forEach(function (k) { flatten(prefix ? prefix + '.' + k : k, v[k], out); });
    } else out.push([prefix, v]);
  }
  function renderApp(m) {
    var rows = [];
    flatten('', m, rows);
    var shown = rows.filter(function (r) { return !Array.isArray(r[1]) || r[1].length < 20; }).map(function (r) {
      var l = weir.label(r[0]);
      return { key: r[0], name: l.label, value: Array.isArray(r[1]) ? r[1].join(', ') : r[1], unit: l.unit };
    });
    weir.replace(appBox, [weir.table([
      { key: 'name', title: 'Field', text: true, render: function (r) { var s = weir.el('span', '', r.name); s.title = r.key; return s; } },
      { key: 'value', title: 'Value', render: function (r) { return weir.fmt(r.value, r.unit); } }
    ], shown, { limit: 80 })]);
  }
  if (weir.has('summary')) weir.every(1000, function () { return weir.getJson('./dashboard/summary.json').then(render); });
  weir.every(2000, function () { return weir.getJson('./metrics').then(renderApp); }, 'overview');
})();
`

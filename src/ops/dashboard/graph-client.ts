/**
 * The pipeline tab (browser code): the compiled topology from /dashboard/graph.json drawn as columns
 * (sources left, sinks right) in SVG, each node with its records / s; estimated rates (stages counted
 * from sampled records) are marked ≈, a node with errors is outlined red.
 */
export const GRAPH_CLIENT = String.raw`
(function () {
  'use strict';
  if (!weir.has('graph')) return;
  var root = weir.addTab('pipeline', 'Pipeline');
  root.appendChild(weir.el('h2', '', 'Pipeline graph'));
  var note = weir.el('p', 'note', 'Records / s per node: sources and topic sinks are exact; other stages are estimated from sampled records (\u2248).');
  root.appendChild(note);
  var box = weir.el('div', 'scroll');
  root.appendChild(box);
  var history = {};
  // Built as markup: the page needs no namespace URL and escapes every name it draws.
  function esc(t) { return String(t).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  function svg(tag, attrs, text) {
    var a = Object.keys(attrs).map(function (k) { return ' ' + k + '="' + esc(attrs[k]) + '"'; }).join('');
    return '<' + tag + a + '>' + (text === undefined ? '' : esc(text));
  }
  function end(tag) { return '</' + tag + '>'; }
  function layout(nodes) {
    var byId = {}, depth = {};
    nodes.forEach(function (n) { byId[n.id] = n; });
    function d(n) {
      if (depth[n.id] !== undefined) return depth[n.id];
      depth[n.id] = 0;
      var v = n.parents.length ? 1 + Math.max.apply(null, n.parents.map(function (p) { return d(byId[p]); })) : 0;
      depth[n.id] = v;
      return v;
    }
    nodes.forEach(d);
    var cols = [];
    nodes.forEach(function (n) { (cols[depth[n.id]] = cols[depth[n.id]] || []).push(n); });
    return cols;
  }
  function render(g) {
    var W = 190, H = 44, GX = 60, GY = 14;
    var cols = layout(g.nodes), pos = {};
    var rows = Math.max.apply(null, cols.map(function (c) { return c.length; }));
    var width = cols.length * (W + GX), height = rows * (H + GY) + 10;
    var out = [svg('svg', { 'class': 'graph', width: width, height: height, viewBox: '0 0 ' + width + ' ' + height })];
    cols.forEach(function (col, i) {
      col.forEach(function (n, j) { pos[n.id] = { x: 5 + i * (W + GX), y: 5 + j * (H + GY) }; });
    });
    g.nodes.forEach(function (n) {
      n.parents.forEach(function (p) {
        var a = pos[p], b = pos[n.id];
        var x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
        out.push(svg('path', { d: 'M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2 }) + end('path'));
      });
    });
    g.nodes.forEach(function (n) {
      var h = history[n.id] || (history[n.id] = weir.series(30000));
      h.add(g.time, n.count);
      var r = h.rate(5000);
      var p = pos[n.id];
      out.push(svg('g', { 'data-node': n.name }));
      out.push(svg('rect', { x: p.x, y: p.y, width: W, height: H, rx: 6, 'class': n.kind + (n.errors > 0 ? ' errors' : '') }) + end('rect'));
      var title = (n.kind === 'source' ? '\u25b6 ' : n.kind === 'topic-sink' ? '\u2192 ' : n.kind === 'external-sink' ? '\u21e5 ' : '') + (n.topic || n.name);
      out.push(svg('text', { x: p.x + 8, y: p.y + 17 }, title.length > 28 ? title.slice(0, 2) + '\u2026' + title.slice(-25) : title) + end('text'));
      var rateText = r === null ? '\u2026' : (n.exact ? '' : '\u2248 ') + weir.fmt(r, '/s');
      out.push(svg('text', { 'class': 'rate', x: p.x + 8, y: p.y + 34 }, rateText + (n.errors > 0 ? ' \u00b7 ' + weir.fmt(n.errors) + ' errors' : '')) + end('text'));
      out.push(svg('title', {}, n.kind + ' ' + n.name + (n.topic ? ' (' + n.topic + ')' : '')) + end('title') + end('g'));
    });
    box.innerHTML = out.join('') + end('svg');
  }
  weir.every(1000, function () { return weir.getJson('./dashboard/graph.json').then(render); }, 'pipeline');
})();
`

/**
 * The live map's browser code (run by the page shell with `root` and `weir`, after `CITY` is defined):
 * an EventSource on ./views/map/live while the tab is shown, each frame drawn on one canvas: the city's
 * bounding box and zones (coloured by surge), pending trip requests, and every driver as a dot coloured
 * by status. Drawing 100,000 dots is one pass per status colour (~10 ms), so the page stays responsive.
 */
export const LIVE_MAP_CLIENT = String.raw`
var COLOURS = { unknown: '#9aa7b4', offline: '#55606b', online: '#3fb950', en_route_pickup: '#d29922', on_trip: '#58a6ff' };
// The same colours as 32-bit pixels (little-endian RGBA), by state code.
var RGBA = CITY.states.map(function (st) {
  var h = COLOURS[st];
  return ((255 << 24) | (parseInt(h.slice(5, 7), 16) << 16) | (parseInt(h.slice(3, 5), 16) << 8) | parseInt(h.slice(1, 3), 16)) >>> 0;
});
var NAMES = { unknown: 'Status not seen yet', offline: 'Offline', online: 'Available', en_route_pickup: 'Going to pickup', on_trip: 'On a trip' };
var head = weir.el('div', 'row');
var legend = weir.el('div', 'legend');
var count = weir.el('span', 'badge', 'Drivers on map: 0');
count.id = 'map-count';
count.setAttribute('data-count', '0');
head.appendChild(count); head.appendChild(legend);
root.appendChild(weir.el('h2', '', 'Drivers in ' + CITY.name + ', live'));
root.appendChild(head);
var wrap = weir.el('div', 'row');
var canvas = weir.el('canvas');
canvas.id = 'driver-map';
// With tiles configured: a canvas of tiles under a transparent one of drivers.
var stack = weir.el('div'), tileCanvas = null;
stack.style.position = 'relative';
var lonSpan = CITY.bounds.maxLon - CITY.bounds.minLon, latSpan = CITY.bounds.maxLat - CITY.bounds.minLat;
var aspect = lonSpan * Math.cos((CITY.bounds.minLat + CITY.bounds.maxLat) / 2 * Math.PI / 180) / latSpan;
var H = 760, W = Math.round(H * aspect);
canvas.width = W; canvas.height = H;
stack.appendChild(canvas);
if (CITY.tiles) {
  tileCanvas = weir.el('canvas');
  tileCanvas.id = 'map-tiles';
  tileCanvas.width = W; tileCanvas.height = H;
  canvas.style.position = 'absolute'; canvas.style.left = '0'; canvas.style.top = '0';
  canvas.style.background = 'transparent';
  stack.insertBefore(tileCanvas, canvas);
  drawTiles();
}
var side = weir.el('div');
wrap.appendChild(stack); wrap.appendChild(side);
root.appendChild(wrap);
var note = weir.el('p', 'note', 'The bridge\'s GPS windows (one update per driver per window), driver status changes, trip requests and surge, as published to Redis. Zones from the app\'s own data; ' +
  (CITY.tiles ? 'tiles from OPS_MAP_TILES_URL.' : 'no map tiles (OPS_MAP_TILES_URL adds them).'));
root.appendChild(note);
var source = null, last = null;

/** Web Mercator tiles covering the city's box, each drawn where its corners fall on the canvas. */
function drawTiles() {
  var b = CITY.bounds, ctx = tileCanvas.getContext('2d');
  var z = Math.max(0, Math.min(18, Math.round(Math.log2(W * 360 / (lonSpan * 256)))));
  var n = Math.pow(2, z);
  function tx(lon) { return (lon + 180) / 360 * n; }
  function ty(lat) { var r = lat * Math.PI / 180; return (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n; }
  function lonOf(x) { return x / n * 360 - 180; }
  function latOf(y) { return Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI; }
  function px(lon) { return (lon - b.minLon) / lonSpan * W; }
  function py(lat) { return (b.maxLat - lat) / latSpan * H; }
  ctx.fillStyle = '#0b1015'; ctx.fillRect(0, 0, W, H);
  for (var x = Math.floor(tx(b.minLon)); x <= Math.floor(tx(b.maxLon)); x++) {
    for (var y = Math.floor(ty(b.maxLat)); y <= Math.floor(ty(b.minLat)); y++) {
      (function (x, y) {
        var img = new Image();
        img.onload = function () {
          var x0 = px(lonOf(x)), x1 = px(lonOf(x + 1)), y0 = py(latOf(y)), y1 = py(latOf(y + 1));
          ctx.globalAlpha = 0.55;
          ctx.drawImage(img, x0, y0, x1 - x0, y1 - y0);
          ctx.globalAlpha = 1;
        };
        img.src = CITY.tiles.replace('{z}', z).replace('{x}', x).replace('{y}', y);
      })(x, y);
    }
  }
}

function draw(f) {
  var t0 = performance.now();
  var ctx = canvas.getContext('2d');
  if (tileCanvas) ctx.clearRect(0, 0, W, H);
  else { ctx.fillStyle = '#0b1015'; ctx.fillRect(0, 0, W, H); }
  ctx.strokeStyle = '#1c252e'; ctx.lineWidth = 1;
  for (var g = 1; g < 10 && !tileCanvas; g++) {
    ctx.beginPath(); ctx.moveTo(g * W / 10, 0); ctx.lineTo(g * W / 10, H); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, g * H / 10); ctx.lineTo(W, g * H / 10); ctx.stroke();
  }
  ctx.strokeStyle = '#2a3540'; ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
  var sx = W / 65536, sy = H / 65536;
  CITY.zones.forEach(function (z) {
    var m = f.surge[z.id] || 1;
    ctx.beginPath(); ctx.arc(z.x * sx, z.y * sy, 26, 0, 2 * Math.PI);
    ctx.fillStyle = m >= 2 ? 'rgba(248,81,73,0.22)' : m > 1.2 ? 'rgba(210,153,34,0.2)' : 'rgba(88,166,255,0.07)';
    ctx.fill();
    ctx.strokeStyle = m >= 2 ? '#f85149' : m > 1.2 ? '#d29922' : '#2a3540'; ctx.stroke();
  });
  var bin = atob(f.xy), sts = atob(f.states);
  var n = f.shown;
  // Dots go straight into the pixels (one putImageData) rather than 100,000 fillRect calls.
  var img = ctx.getImageData(0, 0, W, H), px = new Uint32Array(img.data.buffer);
  var perState = [], size = n > 5000 ? 2 : 4;
  for (var s = 0; s < CITY.states.length; s++) perState.push(0);
  for (var j = 0; j < n; j++) {
    var st = sts.charCodeAt(j), colour = RGBA[st];
    perState[st]++;
    var x0 = Math.floor((bin.charCodeAt(4 * j) | (bin.charCodeAt(4 * j + 1) << 8)) * sx - size / 2);
    var y0 = Math.floor((bin.charCodeAt(4 * j + 2) | (bin.charCodeAt(4 * j + 3) << 8)) * sy - size / 2);
    for (var dy = 0; dy < size; dy++) {
      var y = y0 + dy;
      if (y < 0 || y >= H) continue;
      for (var dx = 0; dx < size; dx++) {
        var x = x0 + dx;
        if (x >= 0 && x < W) px[y * W + x] = colour;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
  ctx.strokeStyle = '#f85149'; ctx.lineWidth = 1.5;
  f.pending.forEach(function (p) {
    var x = p[0] * sx, y = p[1] * sy;
    ctx.beginPath(); ctx.moveTo(x - 3, y - 3); ctx.lineTo(x + 3, y + 3); ctx.moveTo(x + 3, y - 3); ctx.lineTo(x - 3, y + 3); ctx.stroke();
  });
  ctx.lineWidth = 1;
  ctx.font = '11px system-ui, sans-serif'; ctx.textAlign = 'center';
  CITY.zones.forEach(function (z) {
    var m = f.surge[z.id];
    ctx.fillStyle = '#d8e0e8';
    ctx.fillText(z.name + (m ? ' \u00d7' + m.toFixed(1) : ''), z.x * sx, z.y * sy - 30);
  });
  var ms = performance.now() - t0;
  count.textContent = 'Drivers on map: ' + weir.fmt(n) + (f.total > n ? ' (a sample of ' + weir.fmt(f.total) + ')' : '');
  count.setAttribute('data-count', String(n));
  count.setAttribute('data-total', String(f.total));
  weir.replace(legend, CITY.states.map(function (st, k) {
    var span = weir.el('span');
    var dot = weir.el('span', 'dot'); dot.style.background = COLOURS[st];
    span.appendChild(dot); span.appendChild(document.createTextNode(NAMES[st] + ' ' + weir.fmt(perState[k])));
    return span;
  }).concat([(function () { var s = weir.el('span'); s.textContent = '\u2715 waiting for a driver ' + weir.fmt(f.pending.length); s.style.color = '#f85149'; return s; })()]));
  var trips = Object.keys(f.trips).map(function (k) { return { status: k, n: f.trips[k] }; });
  var surge = CITY.zones.map(function (z) { return { zone: z.name, m: f.surge[z.id] || null }; }).filter(function (z) { return z.m !== null; });
  weir.replace(side, [
    weir.table([{ key: 'status', title: 'Trip events', text: true }, { key: 'n', title: 'Since opened' }], trips, { caption: 'Trips' }),
    surge.length ? weir.table([{ key: 'zone', title: 'Zone', text: true }, { key: 'm', title: 'Surge', render: function (r) { return r.m.toFixed(2) + '\u00d7'; } }], surge, { caption: 'Surge by zone', sortable: false }) : null,
    weir.el('p', 'note', 'Frame ' + new Date(f.time).toLocaleTimeString() + ' \u00b7 drawn in ' + ms.toFixed(1) + ' ms')
  ]);
}
function open() {
  if (source) return;
  source = new EventSource('./views/map/live');
  source.onmessage = function (e) {
    var f = JSON.parse(e.data);
    if (last) { last = f; return; }
    last = f;
    // Draw on the next animation frame; frames that arrive meanwhile replace the pending one.
    requestAnimationFrame(function () { var x = last; last = null; draw(x); });
  };
}
function close() { if (source) { source.close(); source = null; } }
weir.onShow('map', open);
weir.onHide('map', close);
`

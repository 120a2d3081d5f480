/**
 * The dead-letters tab (browser code): counts by error code over time (from the runtime's counters),
 * the last dead letters read from the dead-letter topic with reason, source and (when allowed) a
 * preview of the value, and the `weir dlq replay` command to copy.
 */
export const DLQ_CLIENT = String.raw`
(function () {
  'use strict';
  if (!weir.has('deadLetters')) return;
  var root = weir.addTab('dead-letters', 'Dead letters');
  var countsBox = weir.el('div', 'grid'), stageBox = weir.el('div'), cmdBox = weir.el('div'), listBox = weir.el('div');
  root.appendChild(weir.el('h2', '', 'Dead letters by error code'));
  root.appendChild(countsBox);
  root.appendChild(stageBox);
  root.appendChild(weir.el('h2', '', 'Replay after a fix'));
  root.appendChild(cmdBox);
  root.appendChild(weir.el('h2', '', 'Latest dead letters'));
  root.appendChild(listBox);
  var byCode = {};
  function renderCounts(s) {
    var stages = Object.keys(s.errors_by_stage).map(function (k) { return { stage: k, n: s.errors_by_stage[k] }; });
    weir.replace(stageBox, stages.length ? [weir.table([{ key: 'stage', title: 'Stage', text: true }, { key: 'n', title: 'Errors' }], stages,
      { caption: 'Errors by stage since start (dead-lettered, retried or skipped)' })] : []);
    var codes = Object.keys(s.dead_letters_by_code);
    codes.forEach(function (c) { (byCode[c] = byCode[c] || weir.series(305000)).add(s.time, s.dead_letters_by_code[c]); });
    if (!codes.length) { weir.replace(countsBox, [weir.el('p', 'dim', 'No dead letters since start.')]); return; }
    weir.replace(countsBox, codes.sort().map(function (c) {
      var h = byCode[c], d = h.delta(300000), now = h.rate(30000) || 0, usual = d.ms > 0 ? d.value * 1000 / d.ms : 0;
      var rates = [], pts = h.points;
      for (var i = 1; i < pts.length; i++) rates.push(Math.max(0, (pts[i][1] - pts[i - 1][1]) * 1000 / Math.max(1, pts[i][0] - pts[i - 1][0])));
      return weir.card({ name: c, value: s.dead_letters_by_code[c], sub: weir.fmt(now, '/s') + ' now \u00b7 ' + weir.fmt(d.value) + ' (' + weir.span(d.ms) + ')',
        level: d.ms >= 60000 && now > 1 && now > 2 * usual ? 'bad' : 'warn', spark: rates.slice(-120) });
    }));
  }
  var shownCommand = null;
  function renderTail(tail) {
    if (tail.replay_command !== shownCommand) {
      shownCommand = tail.replay_command;
      var cmd = weir.el('div', 'cmd'), code = weir.el('code', '', tail.replay_command), copy = weir.el('button', '', 'Copy');
      code.id = 'replay-command';
      copy.addEventListener('click', function () {
        var done = function () { copy.textContent = 'Copied'; setTimeout(function () { copy.textContent = 'Copy'; }, 1500); };
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(tail.replay_command).then(done, function () {});
        else { var r = document.createRange(); r.selectNodeContents(code); var sel = getSelection(); sel.removeAllRanges(); sel.addRange(r); copy.textContent = 'Selected: Ctrl-C'; }
      });
      cmd.appendChild(code); cmd.appendChild(copy);
      weir.replace(cmdBox, [cmd, weir.el('p', 'note', 'Drop --dry-run to re-inject; --filter CODE,\u2026 picks error codes; KAFKA_BROKERS or --brokers says where.')]);
    }
    var columns = [
      { key: 'time', title: 'When', text: true, nowrap: true, render: function (r) { return r.time ? weir.fmt(r.time, 'time') : '\u2014'; } },
      { key: 'code', title: 'Code', text: true, nowrap: true },
      { key: 'stage', title: 'Stage', text: true, nowrap: true },
      { key: 'message', title: 'Reason', text: true },
      { key: 'source', title: 'From', text: true, render: function (r) { return (r.source.topic || '?') + ' [' + r.source.partition + '] @' + r.source.offset; } }
    ];
    if (tail.values_shown) columns.push({ key: 'value', title: 'Value', text: true, render: function (r) { var c = weir.el('code', '', r.value); return c; } });
    var head = tail.error ? weir.el('p', 'dim', 'Cannot read ' + tail.topic + ': ' + tail.error)
      : weir.el('p', 'note', weir.fmt(tail.total) + (tail.total === 1 ? ' record in ' : ' records in ') + tail.topic + (tail.values_shown ? '' : ' \u00b7 values hidden (OPS_SHOW_VALUES=false or an app with personal data)'));
    var t = tail.rows.length ? weir.table(columns, tail.rows, { caption: 'The last ' + tail.rows.length + ' on the topic, newest first' }) : weir.el('p', 'dim', 'The topic is empty.');
    t.id = 'dead-letter-rows';
    weir.replace(listBox, [head, t]);
  }
  if (weir.has('summary')) weir.every(1000, function () { return weir.getJson('./dashboard/summary.json').then(renderCounts); }, 'dead-letters');
  weir.every(3000, function () { return weir.getJson('./dashboard/dead-letters.json?limit=25').then(renderTail); }, 'dead-letters');
})();
`

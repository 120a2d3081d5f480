/** The page's CSS: dark, dense, colours that mean something (green ok, amber watch, red act). */
export const DASHBOARD_CSS = `
:root { --bg:#0f1419; --panel:#182028; --line:#2a3540; --text:#d8e0e8; --dim:#8a98a6; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, Segoe UI, sans-serif; background:var(--bg); color:var(--text); }
header { display:flex; flex-wrap:wrap; gap:12px; align-items:center; padding:12px 20px; border-bottom:1px solid var(--line); }
h1 { font-size:18px; margin:0 12px 0 0; }
h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:20px 0 8px; }
nav { display:flex; flex-wrap:wrap; gap:2px; padding:0 20px; border-bottom:1px solid var(--line); }
nav a { color:var(--dim); text-decoration:none; padding:8px 14px; border-bottom:2px solid transparent; }
nav a.active { color:var(--text); border-bottom-color:var(--accent); }
main { padding:0 20px 30px; }
section[data-view] { display:none; } section[data-view].active { display:block; }
.badge { padding:3px 10px; border-radius:12px; font-weight:600; background:var(--line); }
.healthy { background:var(--ok); color:#04120a; } .degraded { background:var(--warn); color:#1d1300; } .unhealthy, .down { background:var(--bad); color:#fff; }
.pill { padding:2px 8px; border-radius:10px; font-size:12px; background:#1f3a26; color:var(--ok); }
.pill.off { background:#3d1d1d; color:var(--bad); }
.dim { color:var(--dim); } .note { color:var(--dim); font-size:12px; }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(220px, 1fr)); gap:10px; }
.card { background:var(--panel); border:1px solid var(--line); border-left:4px solid var(--line); border-radius:8px; padding:10px 12px; }
.card .name { color:var(--dim); font-size:12px; }
.card .value { font-size:24px; font-variant-numeric:tabular-nums; margin:2px 0; }
.card .sub { color:var(--dim); font-size:12px; font-variant-numeric:tabular-nums; }
.card.ok { border-left-color:var(--ok); } .card.warn { border-left-color:var(--warn); } .card.warn .value { color:var(--warn); }
.card.bad { border-left-color:var(--bad); } .card.bad .value { color:var(--bad); }
svg.spark { display:block; width:100%; height:30px; }
table { border-collapse:collapse; background:var(--panel); border:1px solid var(--line); margin-bottom:10px; min-width:320px; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:right; font-variant-numeric:tabular-nums; }
th:first-child, td:first-child, td.text, th.text { text-align:left; }
td.text { max-width:520px; overflow-wrap:anywhere; } td.nowrap { white-space:nowrap; }
.scroll { overflow-x:auto; }
th { color:var(--dim); font-weight:500; font-size:12px; }
th.sortable { cursor:pointer; user-select:none; } th.sorted { color:var(--text); }
caption { text-align:left; color:var(--dim); padding:4px 0; font-size:12px; }
tr.bad td { color:var(--bad); } tr.warn td { color:var(--warn); }
code, pre { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
.cmd { display:flex; gap:8px; align-items:center; background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:6px 10px; margin:6px 0 12px; }
.cmd code { flex:1; overflow-wrap:anywhere; }
button { background:var(--line); color:var(--text); border:1px solid #3a4754; border-radius:5px; padding:3px 10px; cursor:pointer; }
canvas { display:block; background:#0b1015; border:1px solid var(--line); border-radius:8px; max-width:100%; }
.legend span { margin-right:14px; white-space:nowrap; } .dot { display:inline-block; width:10px; height:10px; border-radius:5px; margin-right:4px; vertical-align:middle; }
.row { display:flex; flex-wrap:wrap; gap:20px; align-items:flex-start; }
svg.graph text { fill:var(--text); font-size:12px; } svg.graph .rate { fill:var(--dim); font-size:11px; }
svg.graph rect { fill:var(--panel); stroke:var(--line); } svg.graph rect.source { stroke:var(--accent); } svg.graph rect.topic-sink, svg.graph rect.external-sink { stroke:var(--ok); } svg.graph rect.errors { stroke:var(--bad); }
svg.graph path { stroke:#44515e; fill:none; }
`

/**
 * The page shell: one self-contained HTML page (inline CSS and JS, no external fetches, no build step)
 * with a health header, tabs (Overview, Pipeline, Dead letters, then the app's own views) and the
 * browser code of each. Relative URLs keep it working behind a path-prefixing proxy.
 */
import { CLIENT_CORE } from './client-core.ts'
import { DLQ_CLIENT } from './dlq-client.ts'
import { GRAPH_CLIENT } from './graph-client.ts'
import { formatValue, humanLabel } from './labels.ts'
import { OVERVIEW_CLIENT } from './overview-client.ts'
import { DASHBOARD_CSS } from './style.ts'
import type { DashboardView } from './view.ts'

/** CSP for the page: it may only talk to its own origin and run its own inline code. */
export const DASHBOARD_CSP =
  "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

/** The CSP with the image origins the views declare (map tiles), if any. */
export function dashboardCsp(views: readonly DashboardView[] = []): string {
  const origins = [...new Set(views.flatMap((v) => v.imageOrigins ?? []))]
  return origins.length === 0
    ? DASHBOARD_CSP
    : DASHBOARD_CSP.replace('img-src data:', `img-src data: ${origins.join(' ')}`)
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Inline script text must not close its own <script> element. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1')
}

function viewScript(view: DashboardView): string {
  return `(function (root, weir) {\n'use strict';\n${view.script}\n})(weir.addTab(${JSON.stringify(view.id)}, ${JSON.stringify(view.title)}), weir);`
}

/** Which of the server's data routes exist: the page leaves out the panels of the others. */
export interface DashboardSources {
  readonly summary?: boolean
  readonly graph?: boolean
  readonly deadLetters?: boolean
}

export function dashboardHtml(
  options: { title?: string; views?: readonly DashboardView[]; sources?: DashboardSources } = {},
): string {
  const title = escapeHtml(options.title ?? 'Weir')
  const sources = { summary: false, graph: false, deadLetters: false, ...options.sources }
  const code = [
    `var WEIR_SOURCES = ${JSON.stringify(sources)};`,
    humanLabel.toString(),
    formatValue.toString(),
    CLIENT_CORE,
    OVERVIEW_CLIENT,
    GRAPH_CLIENT,
    DLQ_CLIENT,
    ...(options.views ?? []).map(viewScript),
    'weir.start();',
  ].join('\n')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ops</title>
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <span id="status" class="badge">connecting…</span>
  <span id="message" class="dim"></span>
  <span id="pills"></span>
  <span id="uptime" class="dim" style="margin-left:auto"></span>
</header>
<nav id="tabs"></nav>
<main id="main"></main>
<script>
${inlineScript(code)}
</script>
</body>
</html>
`
}

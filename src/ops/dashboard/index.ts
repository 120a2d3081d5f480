/** The live dashboard: page shell, generic panels, dead letters, pipeline graph, and app views. */
export {
  type DeadLetterRow,
  type DeadLetterSource,
  type DeadLetterTail,
  deadLetterSource,
} from './dead-letters.ts'
export { type GraphNodeView, type PipelineGraphView, pipelineGraph } from './graph.ts'
export { formatValue, humanLabel } from './labels.ts'
export {
  type LatestTable,
  type LatestTableColumn,
  type LatestTableOptions,
  latestTable,
} from './latest-table.ts'
export { DASHBOARD_CSP, type DashboardSources, dashboardCsp, dashboardHtml } from './page.ts'
export {
  type PanelCard,
  type PanelColumn,
  type PanelData,
  type PanelLevel,
  type PanelRow,
  type PanelSection,
  type PanelTable,
  type PanelViewOptions,
  panelView,
  percent,
} from './panel-view.ts'
export { type DashboardOptions, dashboardRoutes } from './routes.ts'
export { type SseOptions, sseResponse } from './sse.ts'
export { type DashboardSummary, runtimeSummary } from './summary.ts'
export type { DashboardView } from './view.ts'

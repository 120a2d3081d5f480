/** Operations surface: metrics (JSON + Prometheus), rates, health rules and the ops HTTP server. */
export type { Counter, Gauge, Histogram, Labels, MetricsRegistry } from '../core/metrics.ts'
export { type OpsAccess, type OpsAuth, opsAccessFromEnv } from './auth.ts'
export {
  type DashboardOptions,
  type DashboardView,
  type LatestTable,
  type LatestTableColumn,
  type LatestTableOptions,
  latestTable,
  type SseOptions,
  sseResponse,
} from './dashboard/index.ts'
export { PROMETHEUS_CONTENT_TYPE } from './exposition.ts'
export {
  createHealthCheck,
  type HealthCheckOptions,
  type HealthFromOptions,
  type HealthReport,
  type HealthRules,
  type HealthStatus,
  healthFrom,
  healthHttpStatus,
} from './health.ts'
export { DEFAULT_BUCKETS, type HistogramSummary, type LatencyMs, latencyMs } from './histogram.ts'
export {
  createOpsServer,
  json,
  type OpsAddress,
  type OpsRequestInit,
  type OpsResult,
  type OpsServer,
  type OpsServerOptions,
} from './http.ts'
export {
  createMetrics,
  type Metrics,
  type MetricsOptions,
  type MetricsSnapshot,
  type TotalCounter,
} from './metrics.ts'
export { type ProcessStats, readProcessStats } from './process-metrics.ts'
export {
  createRateMeter,
  type Rate,
  type RateMeter,
  type RateOfOptions,
  type RateOptions,
  rateOf,
} from './rate.ts'
export type { HttpMethod, OpsHandler, OpsRequest, OpsResponse, OpsRoute } from './router.ts'

/**
 * Health from connector statuses, in the shape the rideshare bridge's /health returns:
 * `{ status, kafka_connected, redis_connected, uptime_seconds, message }`.
 *
 * - every component connected → `healthy`, "All connections active"
 * - some down → `degraded`, e.g. "Kafka disconnected" or "Redis disconnected: ECONNREFUSED"
 * - every component down, or an essential one (Kafka by default) down longer than `unhealthyAfterMs`
 *   → `unhealthy` (HTTP 503, so the orchestrator restarts the pod)
 */

import type { ConnectorStatus } from '../connectors/contract.ts'
import type { Clock } from '../core/clock.ts'

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'

export type HealthReport = {
  status: HealthStatus
  uptime_seconds: number
  message: string
} & { [component: `${string}_connected`]: boolean }

export interface HealthRules {
  /** Components whose prolonged absence makes the service unhealthy (default `['kafka']`). */
  essential?: readonly string[]
  /** How long an essential component may be down before degraded turns unhealthy (default 30 s). */
  unhealthyAfterMs?: number
}

export interface HealthFromOptions extends HealthRules {
  /** When each down component was first seen down (epoch ms); absent means "just now". */
  downSince?: Readonly<Record<string, number>>
  /** Current time in epoch ms (default Date.now()). */
  now?: number
  /** Default: the process uptime. */
  uptimeSeconds?: number
}

const DEFAULT_ESSENTIAL = ['kafka'] as const
const DEFAULT_UNHEALTHY_AFTER_MS = 30_000

function displayName(component: string): string {
  return component.charAt(0).toUpperCase() + component.slice(1)
}

/**
 * Computes the report from the statuses now. Pure: the caller keeps `downSince` (createHealthCheck does).
 * @example healthFrom({ kafka: source.status(), redis: sink.status() }) // { status: 'healthy', kafka_connected: true, ... }
 */
export function healthFrom(
  components: Readonly<Record<string, ConnectorStatus>>,
  options: HealthFromOptions = {},
): HealthReport {
  const {
    essential = DEFAULT_ESSENTIAL,
    unhealthyAfterMs = DEFAULT_UNHEALTHY_AFTER_MS,
    downSince = {},
    now = Date.now(),
    uptimeSeconds = process.uptime(),
  } = options
  const names = Object.keys(components)
  const down = names.filter((name) => !components[name]!.connected)
  const essentialExpired = down.some(
    (name) => essential.includes(name) && now - (downSince[name] ?? now) >= unhealthyAfterMs,
  )
  const status: HealthStatus =
    down.length === 0
      ? 'healthy'
      : down.length === names.length || essentialExpired
        ? 'unhealthy'
        : 'degraded'
  const message =
    down.length === 0
      ? 'All connections active'
      : down
          .map((name) => {
            const reason = components[name]!.message
            return `${displayName(name)} disconnected${reason ? `: ${reason}` : ''}`
          })
          .join('; ')
  const report: Record<string, unknown> = { status }
  for (const name of names) report[`${name}_connected`] = components[name]!.connected
  report.uptime_seconds = Math.round(uptimeSeconds * 10) / 10
  report.message = message
  return report as HealthReport
}

export interface HealthCheckOptions extends HealthRules {
  /** The statuses to judge, read on every check (e.g. `() => ({ kafka: source.status(), redis: sink.status() })`). */
  components: () => Readonly<Record<string, ConnectorStatus>>
  clock?: Pick<Clock, 'now'>
  /** Default: the process uptime. */
  uptimeSeconds?: () => number
}

/**
 * A stateful check for the ops server's `health` option: it remembers when each component went down,
 * so a short Kafka blip is `degraded` and a long outage is `unhealthy`.
 */
export function createHealthCheck(options: HealthCheckOptions): () => HealthReport {
  const {
    components,
    clock = { now: () => Date.now() },
    uptimeSeconds = () => process.uptime(),
    ...rules
  } = options
  const downSince: Record<string, number> = {}
  return () => {
    const now = clock.now()
    const current = components()
    for (const [name, status] of Object.entries(current)) {
      if (status.connected) delete downSince[name]
      else downSince[name] ??= now
    }
    return healthFrom(current, { ...rules, downSince, now, uptimeSeconds: uptimeSeconds() })
  }
}

/** HTTP status for a report: 503 only when unhealthy, so a degraded service stays in rotation. */
export function healthHttpStatus(report: Pick<HealthReport, 'status'>): 200 | 503 {
  return report.status === 'unhealthy' ? 503 : 200
}

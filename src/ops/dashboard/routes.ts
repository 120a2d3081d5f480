/**
 * The dashboard's data routes, read by the page: `/dashboard/summary.json` (runtime numbers),
 * `/dashboard/graph.json` (topology with per-node counts), `/dashboard/dead-letters.json?limit=N` (the
 * tail of the dead-letter topic) and each app view's own routes. A source the server was not given
 * answers 404, and the page leaves its panel out.
 */
import { json } from '../json.ts'
import type { OpsRoute } from '../router.ts'
import type { DeadLetterSource } from './dead-letters.ts'
import type { PipelineGraphView } from './graph.ts'
import type { DashboardSummary } from './summary.ts'
import { checkViewIds, type DashboardView } from './view.ts'

export interface DashboardOptions {
  /** Tabs the app adds (a live map, windows per sensor, …). */
  readonly views?: readonly DashboardView[]
  /** undefined while the pipeline is starting (the route answers 503). */
  readonly summary?: () => DashboardSummary | undefined
  readonly graph?: () => PipelineGraphView
  readonly deadLetters?: DeadLetterSource
}

const notGiven = (what: string) => json(404, { error: 'not_found', message: `this server has no ${what}` })
const starting = () => json(503, { error: 'starting', message: 'the pipeline is starting' })

export function dashboardRoutes(options: DashboardOptions): OpsRoute[] {
  const views = options.views ?? []
  checkViewIds(views)
  const { summary, graph, deadLetters } = options
  return [
    {
      method: 'GET',
      path: '/dashboard/summary.json',
      handler: () => {
        if (!summary) return notGiven('runtime summary')
        const s = summary()
        return s === undefined ? starting() : json(200, s)
      },
    },
    {
      method: 'GET',
      path: '/dashboard/graph.json',
      handler: () => (graph ? json(200, graph()) : notGiven('pipeline graph')),
    },
    {
      method: 'GET',
      path: '/dashboard/dead-letters.json',
      handler: async (req) => {
        if (!deadLetters) return notGiven('dead-letter topic')
        const limit = Number(req.query.get('limit') ?? 20)
        return json(200, await deadLetters.recent(Number.isFinite(limit) ? limit : 20))
      },
    },
    ...views.flatMap((v) => v.routes ?? []),
  ]
}

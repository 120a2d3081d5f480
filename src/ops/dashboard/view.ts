/**
 * A view an app adds to its dashboard: a tab with its own client code and the data routes that code
 * reads. Apps declare them on their instance (`AppInstance.views`); the page shell runs each view's
 * script once with its tab's element and the page's helpers (see client-api.ts).
 *
 * @example
 * const view: DashboardView = {
 *   id: 'windows', title: 'Windows',
 *   script: `weir.every(2000, () => weir.getJson('./views/windows/latest.json').then(render))`,
 *   routes: [{ method: 'GET', path: '/views/windows/latest.json', handler: () => json(200, latest()) }],
 * }
 */
import type { OpsRoute } from '../router.ts'

export interface DashboardView {
  /** The tab's id, also its `#hash` in the page's address: lower-case letters, digits and `-`. */
  readonly id: string
  readonly title: string
  /**
   * Plain browser JavaScript (no modules, no build step), run as the body of
   * `function (root, weir) { … }`: `root` is the tab's element, `weir` the page's helpers.
   */
  readonly script: string
  /** Its data routes; by convention under `/views/<id>/`. */
  readonly routes?: readonly OpsRoute[]
  /**
   * Origins the view may load images from (e.g. map tiles an operator configured); the page's CSP
   * allows these and nothing else.
   */
  readonly imageOrigins?: readonly string[]
}

export function checkViewIds(views: readonly DashboardView[]): void {
  const seen = new Set<string>(['overview', 'pipeline', 'dead-letters', 'metrics'])
  for (const v of views) {
    if (!/^[a-z0-9-]+$/.test(v.id)) throw new Error(`dashboard view id "${v.id}" must match [a-z0-9-]+`)
    if (seen.has(v.id)) throw new Error(`dashboard view id "${v.id}" is used twice`)
    seen.add(v.id)
  }
}

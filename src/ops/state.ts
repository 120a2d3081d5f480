/**
 * Interactive queries over HTTP: the named stores of the running pipeline (tables, global tables,
 * named aggregates and windows), read as this instance holds them. Behind the ops server's auth like
 * every route but /health.
 *
 *   GET /state                          the stores: name and kind
 *   GET /state/<store>/<key>            200 { key, value }; 404 unknown; 503 + Retry-After while its partition restores
 *   GET /state/<store>?prefix=&after=&limit=   a page of entries in key order, `next` for the following page
 *   GET /state/<store>?from=&to=        windowed stores: windows starting in [from, to) (epoch ms or ISO time)
 *
 * With `forward` (several instances, see service/query-forwarding.ts), a key this instance does not
 * hold is asked of the instance that owns it; a request already forwarded is answered locally.
 */
import type { QueryableStore } from '../state/query.ts'
import type { OpsRequest, OpsResponse, OpsRoute } from './router.ts'

/** Answers a point query from the instance that owns the key (the partition, when the store knows it). */
export type ForwardQuery = (
  req: OpsRequest,
  store: string,
  key: string,
  partition?: number,
) => Promise<OpsResponse>

/** Marks a forwarded query (its value: the asking instance): answer from local state only. */
export const FORWARDED_HEADER = 'x-weir-forwarded-by'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): OpsResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  }
}

/** A time bound from the query string: epoch ms or an ISO-8601 time; undefined if absent. */
function timeParam(query: URLSearchParams, name: string): number | undefined | Error {
  const raw = query.get(name)
  if (raw === null || raw === '') return undefined
  const n = /^-?\d+$/.test(raw) ? Number(raw) : Date.parse(raw)
  return Number.isFinite(n)
    ? n
    : new Error(`${name} must be epoch milliseconds or an ISO-8601 time, got "${raw}"`)
}

/** The /state routes over the stores `stores()` returns (read at each request: stores follow rebalances). */
export function stateRoutes(
  stores: () => ReadonlyMap<string, QueryableStore>,
  options: {
    /** The forwarder, once known (read at each request); undefined: answer from local state. */
    readonly forward?: () => ForwardQuery | undefined
  } = {},
): OpsRoute[] {
  const find = (name: string | undefined, forwarded = false): QueryableStore | OpsResponse => {
    const store = name === undefined ? undefined : stores().get(name)
    if (store !== undefined) return store
    // Asked by another instance of the same app: the store exists there, so this one is still starting.
    if (forwarded)
      return jsonResponse(503, { error: `store "${name}" is not open here yet` }, { 'retry-after': '1' })
    return jsonResponse(404, { error: `no store named "${name}"`, stores: [...stores().keys()] })
  }
  return [
    {
      method: 'GET',
      path: '/state',
      handler: () =>
        jsonResponse(200, { stores: [...stores().values()].map((s) => ({ name: s.name, kind: s.kind })) }),
    },
    {
      method: 'GET',
      path: '/state/:store',
      handler: (req) => {
        const store = find(req.params.store)
        if ('status' in store) return store
        const limitRaw = req.query.get('limit')
        const limit = limitRaw === null ? DEFAULT_LIMIT : Number(limitRaw)
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
          return jsonResponse(400, {
            error: `limit must be an integer from 1 to ${MAX_LIMIT}, got "${limitRaw}"`,
          })
        }
        const from = timeParam(req.query, 'from')
        const to = timeParam(req.query, 'to')
        for (const t of [from, to]) if (t instanceof Error) return jsonResponse(400, { error: t.message })
        if ((from !== undefined || to !== undefined) && store.kind !== 'window') {
          return jsonResponse(400, {
            error: `from/to apply to windowed stores; "${store.name}" is a ${store.kind} store`,
          })
        }
        const page = store.range({
          prefix: req.query.get('prefix') ?? undefined,
          after: req.query.get('after') ?? undefined,
          limit,
          from: from as number | undefined,
          to: to as number | undefined,
        })
        const headers: Record<string, string> = page.restoring ? { 'retry-after': '1' } : {}
        return jsonResponse(200, { store: store.name, ...page }, headers)
      },
    },
    {
      method: 'GET',
      path: '/state/:store/:key',
      handler: (req) => {
        const store = find(req.params.store, req.headers[FORWARDED_HEADER] !== undefined)
        if ('status' in store) return store
        const key = req.params.key ?? ''
        const r = store.get(key)
        // A global table holds every key; any other store holds only the partitions this instance owns.
        const mayBeElsewhere =
          r.state === 'elsewhere' ||
          (r.state === 'missing' && store.kind !== 'global-table' && store.kind !== 'table')
        const forward =
          mayBeElsewhere && req.headers[FORWARDED_HEADER] === undefined ? options.forward?.() : undefined
        if (forward !== undefined)
          return forward(req, store.name, key, r.state === 'elsewhere' ? r.partition : undefined)
        switch (r.state) {
          case 'found':
            return jsonResponse(200, { store: store.name, key, value: r.value })
          case 'restoring':
            return jsonResponse(
              503,
              { error: `the partition holding "${key}" is being restored; retry shortly` },
              { 'retry-after': String(r.retryAfterSeconds) },
            )
          case 'elsewhere':
            return jsonResponse(404, {
              error: `"${key}" belongs to partition ${r.partition}, which another instance owns`,
              partition: r.partition,
            })
          default:
            return jsonResponse(404, { error: `no value for "${key}" in ${store.name}` })
        }
      },
    },
  ]
}

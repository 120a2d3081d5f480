/**
 * A small route table: exact paths first, then `:param` patterns in the order given. HEAD falls back to
 * GET; a path that exists under other methods answers 405 with `Allow`.
 */
import { ErrorCode, WeirError } from '../core/errors.ts'

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface OpsRequest {
  readonly method: string
  /** The path without the query string, e.g. `/dlq/42`. */
  readonly path: string
  readonly query: URLSearchParams
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** Values of `:name` segments in the route's path. */
  readonly params: Readonly<Record<string, string>>
  /** The request body as text ('' for none). */
  readonly body: string
}

export interface OpsResponse {
  status: number
  headers?: Record<string, string>
  body?: string | Uint8Array
  /** A long-lived response (Server-Sent Events) written after the headers; `body` is then ignored. */
  stream?: OpsStream
}

/** Writes a streamed response until the client leaves (`closed` aborts) or the server closes. */
export type OpsStream = (out: {
  write(chunk: string): void
  /** Bytes written that the client has not read yet. */
  unreadBytes(): number
  readonly closed: AbortSignal
}) => void

export type OpsHandler = (req: OpsRequest) => OpsResponse | Promise<OpsResponse>

export interface OpsRoute {
  readonly method: HttpMethod
  /** An exact path (`/health`) or a pattern with `:name` segments (`/dlq/:id`). */
  readonly path: string
  readonly handler: OpsHandler
}

export type RouteMatch =
  | { kind: 'found'; handler: OpsHandler; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' }

interface Pattern {
  segments: string[]
  methods: Map<string, OpsHandler>
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '')
}

function matchPattern(pattern: Pattern, segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.segments.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < segments.length; i++) {
    const want = pattern.segments[i]!
    const got = segments[i]!
    if (want.startsWith(':')) params[want.slice(1)] = decodeURIComponent(got)
    else if (want !== got) return undefined
  }
  return params
}

export function createRouter(routes: readonly OpsRoute[]): (method: string, path: string) => RouteMatch {
  const exact = new Map<string, Map<string, OpsHandler>>()
  const patterns = new Map<string, Pattern>()
  for (const route of routes) {
    if (!route.path.startsWith('/')) {
      throw new WeirError(ErrorCode.CONFIG_INVALID, `ops route path "${route.path}" must start with /`)
    }
    const isPattern = route.path.includes('/:')
    const key = isPattern ? `/${split(route.path).join('/')}` : route.path
    let methods: Map<string, OpsHandler>
    if (isPattern) {
      const existing = patterns.get(key) ?? { segments: split(route.path), methods: new Map() }
      patterns.set(key, existing)
      methods = existing.methods
    } else {
      methods = exact.get(key) ?? new Map()
      exact.set(key, methods)
    }
    if (methods.has(route.method)) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `ops route ${route.method} ${route.path} is defined twice`,
      )
    }
    methods.set(route.method, route.handler)
  }

  const pick = (
    methods: Map<string, OpsHandler>,
    method: string,
    params: Record<string, string>,
  ): RouteMatch => {
    const handler = methods.get(method) ?? (method === 'HEAD' ? methods.get('GET') : undefined)
    if (handler !== undefined) return { kind: 'found', handler, params }
    const allow = [...methods.keys()]
    if (methods.has('GET') && !methods.has('HEAD')) allow.push('HEAD')
    return { kind: 'method-not-allowed', allow }
  }

  return (method, path) => {
    const methods = exact.get(path)
    if (methods !== undefined) return pick(methods, method, {})
    const segments = split(path)
    for (const pattern of patterns.values()) {
      let params: Record<string, string> | undefined
      try {
        params = matchPattern(pattern, segments)
      } catch {
        continue // malformed percent-encoding: not this route
      }
      if (params !== undefined) return pick(pattern.methods, method, params)
    }
    return { kind: 'not-found' }
  }
}

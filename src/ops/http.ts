/**
 * The ops HTTP server (node:http, no framework): /health, /metrics (JSON or Prometheus by `Accept`),
 * /metrics/prometheus, the live dashboard at / and /dashboard, plus extra routes later features add.
 * `handle()` runs the whole pipeline in-process, so routes are testable without a port.
 *
 * @example
 * const ops = createOpsServer({ port: 8080, health, metricsJson: () => appMetrics(), prometheus: () => metrics.prometheus() })
 * const { url } = await ops.start()
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { checkAccess, type OpsAuth } from './auth.ts'
import { type DashboardOptions, dashboardCsp, dashboardHtml, dashboardRoutes } from './dashboard/index.ts'
import { PROMETHEUS_CONTENT_TYPE } from './exposition.ts'
import { type HealthReport, healthHttpStatus } from './health.ts'
import { json } from './json.ts'
import { prefersPrometheus } from './negotiate.ts'
import { createRouter, type OpsRequest, type OpsResponse, type OpsRoute, type OpsStream } from './router.ts'

export interface OpsServerOptions {
  /** Bind address (default `0.0.0.0`). */
  host?: string
  /** Port (default 8080; 0 picks a free one). */
  port?: number
  health: () => HealthReport | Promise<HealthReport>
  /** The app's /metrics JSON (each app picks its own shape, e.g. the rideshare bridge's fields). */
  metricsJson: () => unknown
  /** Prometheus text, usually `metrics.prometheus()`. */
  prometheus: () => string | Promise<string>
  /** Extra routes (e.g. /dlq); defining a built-in method and path again is an error. */
  routes?: readonly OpsRoute[]
  /** Dashboard heading (default `Weir`). */
  title?: string
  logger?: Logger
  /** Largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number
  /** Who may look: unset, anyone who reaches the port; set, everything but /health needs it. */
  auth?: OpsAuth
  /** What the dashboard shows besides /health and /metrics: summary, graph, dead letters, app views. */
  dashboard?: DashboardOptions
}

/** What `handle()` takes: enough of a request to route it, with no socket. */
export interface OpsRequestInit {
  method?: string
  /** Path plus optional query, e.g. `/metrics?format=prometheus`. */
  url: string
  headers?: Record<string, string | undefined>
  body?: string
}

export interface OpsAddress {
  host: string
  port: number
  /** A URL a local client can use (a wildcard bind address becomes the loopback one). */
  url: string
}

/** A response as `handle()` gives it: headers complete; `stream` set for a long-lived one (SSE). */
export type OpsResult = Required<Omit<OpsResponse, 'stream'>> & { stream?: OpsStream }

export interface OpsServer {
  handle(request: OpsRequestInit): Promise<OpsResult>
  start(): Promise<OpsAddress>
  close(): Promise<void>
}

const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }

export { json }

function errorBody(
  status: number,
  error: string,
  message: string,
  headers?: Record<string, string>,
): OpsResponse {
  return json(status, { error, message }, headers)
}

export function createOpsServer(options: OpsServerOptions): OpsServer {
  const {
    host = '0.0.0.0',
    port = 8080,
    title = 'Weir',
    logger = createLogger().child({ component: 'ops-http' }),
    maxBodyBytes = 1024 * 1024,
  } = options
  const d = options.dashboard ?? {}
  const csp = dashboardCsp(d.views)
  const page = dashboardHtml({
    title,
    views: d.views ?? [],
    sources: {
      summary: d.summary !== undefined,
      graph: d.graph !== undefined,
      deadLetters: d.deadLetters !== undefined,
    },
  })
  const prometheusText = async (): Promise<OpsResponse> => ({
    status: 200,
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE },
    body: await options.prometheus(),
  })
  const dashboard = (): OpsResponse => ({
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp },
    body: page,
  })

  const builtIn: OpsRoute[] = [
    {
      method: 'GET',
      path: '/health',
      handler: async () => {
        try {
          const report = await options.health()
          return json(healthHttpStatus(report), report)
        } catch (err) {
          logger.error('health check failed', { err })
          const reason = err instanceof Error ? err.message : String(err)
          return json(503, {
            status: 'unhealthy',
            uptime_seconds: Math.round(process.uptime() * 10) / 10,
            message: `Health check failed: ${reason}`,
          })
        }
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handler: async (req) => {
        const format = req.query.get('format')
        const wantsText =
          format === 'prometheus' || (format !== 'json' && prefersPrometheus(req.headers.accept))
        const res = wantsText ? await prometheusText() : json(200, await options.metricsJson())
        res.headers = { ...res.headers, vary: 'Accept' }
        return res
      },
    },
    { method: 'GET', path: '/metrics/prometheus', handler: prometheusText },
    { method: 'GET', path: '/', handler: dashboard },
    { method: 'GET', path: '/dashboard', handler: dashboard },
  ]
  const route = createRouter([
    ...builtIn,
    ...dashboardRoutes(options.dashboard ?? {}),
    ...(options.routes ?? []),
  ])
  const auth = options.auth

  const handle = async (init: OpsRequestInit): Promise<OpsResult> => {
    const method = (init.method ?? 'GET').toUpperCase()
    const url = new URL(init.url, 'http://ops.invalid')
    const headers: Record<string, string | undefined> = {}
    for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v
    const match = route(method, url.pathname)
    let res: OpsResponse
    // /health stays open for probes; everything else (dashboard, /metrics, dead letters) needs auth.
    const denied =
      auth === undefined || url.pathname === '/health'
        ? undefined
        : checkAccess(auth, { path: url.pathname, query: url.searchParams, headers })
    if (denied !== undefined) {
      res = denied
    } else if (match.kind === 'not-found') {
      res = errorBody(404, 'not_found', `No route for ${method} ${url.pathname}`)
    } else if (match.kind === 'method-not-allowed') {
      const allow = match.allow.join(', ')
      res = errorBody(
        405,
        'method_not_allowed',
        `${method} is not allowed on ${url.pathname}; use ${allow}`,
        { allow },
      )
    } else {
      const req: OpsRequest = {
        method,
        path: url.pathname,
        query: url.searchParams,
        headers,
        params: match.params,
        body: init.body ?? '',
      }
      try {
        res = await match.handler(req)
      } catch (err) {
        logger.error('ops route failed', { method, path: url.pathname, err })
        res = errorBody(500, 'internal_error', 'Internal error; see the service log')
      }
    }
    if (res.stream !== undefined && method !== 'HEAD') {
      return {
        status: res.status,
        headers: { ...COMMON_HEADERS, ...res.headers },
        body: '',
        stream: res.stream,
      }
    }
    const body = res.body ?? ''
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
    return {
      status: res.status,
      headers: { ...COMMON_HEADERS, ...res.headers, 'content-length': String(length) },
      body: method === 'HEAD' ? '' : body,
    }
  }

  let server: Server | undefined
  let address: OpsAddress | undefined

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > maxBodyBytes) {
          const tooLarge = errorBody(413, 'payload_too_large', `Request body exceeds ${maxBodyBytes} bytes`)
          res
            .writeHead(413, { ...COMMON_HEADERS, ...tooLarge.headers, connection: 'close' })
            .end(tooLarge.body)
          return
        }
        chunks.push(chunk)
      }
      const headers: Record<string, string | undefined> = {}
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v
      const out = await handle({
        method: req.method,
        url: req.url ?? '/',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      if (out.stream !== undefined) {
        const closed = new AbortController()
        res.once('close', () => closed.abort())
        res.writeHead(out.status, out.headers)
        out.stream({
          write: (chunk) => void res.write(chunk),
          unreadBytes: () => res.writableLength,
          closed: closed.signal,
        })
        return
      }
      res.writeHead(out.status, out.headers).end(out.body)
    } catch (err) {
      logger.error('ops request failed', { err })
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify({ error: 'internal_error', message: 'Internal error; see the service log' }))
    }
  }

  return {
    handle,
    start() {
      if (address !== undefined) return Promise.resolve(address)
      const srv = createServer((req, res) => void onRequest(req, res))
      return new Promise((resolve, reject) => {
        srv.once('error', (err) => {
          reject(
            new WeirError(
              ErrorCode.CONFIG_INVALID,
              `ops server cannot listen on ${host}:${port}: ${err.message}`,
              { cause: err },
            ),
          )
        })
        srv.listen(port, host, () => {
          const info = srv.address() as AddressInfo
          const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
          const urlHost = local.includes(':') ? `[${local}]` : local
          server = srv
          address = { host, port: info.port, url: `http://${urlHost}:${info.port}` }
          logger.info('ops server listening', { host, port: info.port })
          resolve(address)
        })
      })
    },
    close() {
      const srv = server
      server = undefined
      address = undefined
      if (srv === undefined) return Promise.resolve()
      return new Promise((resolve, reject) => {
        srv.close((err) => (err ? reject(err) : resolve()))
        srv.closeAllConnections()
      })
    },
  }
}

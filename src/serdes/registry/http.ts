/**
 * HTTP to a schema registry with retries: network errors, timeouts, 408, 429 and 5xx are tried
 * again with exponential backoff and jitter; when the attempts run out the caller gets a
 * retriable WeirError(REGISTRY_UNAVAILABLE). Any other answer (2xx, 4xx) goes back to the caller.
 */

import type { ConnectorStatus } from '../../connectors/contract.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'

export interface RetryOptions {
  /** Attempts after the first one (default 5). 0 disables retrying. */
  retries?: number
  /** Delay before the first retry (default 100 ms); then multiplied by `factor` each time. */
  initialDelayMs?: number
  /** Cap on one delay (default 3000 ms). */
  maxDelayMs?: number
  /** Growth of the delay (default 2). */
  factor?: number
}

export type RegistryAuth = { username: string; password: string } | { token: string }

export interface HttpConfig {
  baseUrl: string
  auth: RegistryAuth | undefined
  timeoutMs: number
  retry: Required<RetryOptions>
  fetch: typeof globalThis.fetch
}

export interface HttpAnswer {
  status: number
  body: unknown
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

export const DEFAULT_RETRY: Required<RetryOptions> = {
  retries: 5,
  initialDelayMs: 100,
  maxDelayMs: 3000,
  factor: 2,
}

/** Half fixed, half random ("equal jitter"): spreads clients out without collapsing to ~0. */
export function backoffDelay(attempt: number, retry: Required<RetryOptions>, random = Math.random): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.initialDelayMs * retry.factor ** attempt)
  return ceiling / 2 + random() * (ceiling / 2)
}

function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

function describeNetworkError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'request timed out'
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause
    if (cause && typeof cause.code === 'string') return cause.code
    if (cause && typeof cause.message === 'string') return cause.message
    return err.message
  }
  return String(err)
}

function authHeader(auth: RegistryAuth): string {
  if ('token' in auth) return `Bearer ${auth.token}`
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
}

/** One HTTP channel to a registry, remembering whether the last exchange reached it. */
export class RegistryHttp {
  readonly #config: HttpConfig
  #status: ConnectorStatus = { connected: false, message: 'not contacted yet' }

  constructor(config: HttpConfig) {
    this.#config = config
  }

  status(): ConnectorStatus {
    return this.#status
  }

  /** Sends one request, retrying what may succeed later; resolves with any 2xx/4xx answer. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    retry = this.#config.retry,
  ): Promise<HttpAnswer> {
    const { baseUrl, auth, timeoutMs } = this.#config
    const url = `${baseUrl}${path}`
    const headers: Record<string, string> = { accept: `${CONTENT_TYPE}, application/json` }
    if (body !== undefined) headers['content-type'] = CONTENT_TYPE
    if (auth) headers.authorization = authHeader(auth)
    const payload = body === undefined ? undefined : JSON.stringify(body)
    let problem = ''
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.#config.fetch(url, {
          method,
          headers,
          body: payload,
          signal: AbortSignal.timeout(timeoutMs),
        })
        const text = await res.text()
        if (!isRetriableStatus(res.status)) {
          this.#status = { connected: true }
          return { status: res.status, body: parseBody(text) }
        }
        problem = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`
      } catch (err) {
        problem = describeNetworkError(err)
      }
      this.#status = { connected: false, message: `schema registry ${baseUrl}: ${problem}` }
      if (attempt >= retry.retries) break
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, retry)))
    }
    throw new WeirError(
      ErrorCode.REGISTRY_UNAVAILABLE,
      `schema registry unavailable: ${method} ${url} failed after ${retry.retries + 1} attempt(s): ${problem}`,
      { retriable: true, details: { url, method } },
    )
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

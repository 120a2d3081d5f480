import type { OpsResponse } from './router.ts'

/** A JSON response. @example json(200, { ok: true }) */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): OpsResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  }
}

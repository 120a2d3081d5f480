/**
 * Server-Sent Events for dashboard views: one frame every `intervalMs` to each client, skipped while the
 * client has not read the previous ones (a slow browser tab never makes the server buffer without bound).
 *
 * @example
 * { method: 'GET', path: '/views/map/live', handler: () => sseResponse({ intervalMs: 500, frame: () => JSON.stringify(snapshot()) }) }
 */
import type { OpsResponse, OpsStream } from '../router.ts'

export interface SseOptions {
  readonly intervalMs: number
  /** The next frame's data (one line of text), or undefined to send nothing this time. */
  readonly frame: () => string | undefined
  /** Called when a client connects and leaves (e.g. to do work only while someone watches). */
  readonly onOpen?: () => void
  readonly onClose?: () => void
  /** Bytes a client may have unread before frames are skipped. Default 2 MiB. */
  readonly maxUnreadBytes?: number
}

export function sseResponse(options: SseOptions): OpsResponse {
  const { intervalMs, frame, maxUnreadBytes = 2 * 1024 * 1024 } = options
  const stream: OpsStream = (out) => {
    options.onOpen?.()
    // Tells EventSource how long to wait before reconnecting.
    out.write(`retry: 1000\n\n`)
    const send = () => {
      if (out.unreadBytes() > maxUnreadBytes) return
      const data = frame()
      if (data !== undefined) out.write(`data: ${data}\n\n`)
    }
    send()
    const timer = setInterval(send, intervalMs)
    out.closed.addEventListener(
      'abort',
      () => {
        clearInterval(timer)
        options.onClose?.()
      },
      { once: true },
    )
  }
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no' },
    stream,
  }
}

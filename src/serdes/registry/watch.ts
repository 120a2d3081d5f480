/**
 * Keeps a registry client's `status()` true to the registry, for /health. The client only learns
 * whether the registry answers when it makes a request, and an app whose schemas are all cached makes
 * none: without a probe an outage would go unseen, and once seen, the recovery would go unseen until a
 * record needed a new schema. The watch pings (one attempt, no retry) now, then every `everyMs`, and
 * every `downEveryMs` while the registry does not answer.
 */

import type { ConnectorStatus } from '../../connectors/contract.ts'
import type { SchemaRegistry } from './client.ts'

export interface RegistryWatchOptions {
  /** Ping interval while the registry answers (default 5000 ms). */
  everyMs?: number
  /** Ping interval while it does not, so /health sees it return quickly (default 1000 ms). */
  downEveryMs?: number
}

export interface RegistryWatch {
  /** The client's status: whether its last exchange (a ping or a real request) reached the registry. */
  status(): ConnectorStatus
  stop(): void
}

/**
 * @example
 * const watch = watchRegistry(registry)
 * // components: () => ({ registry: watch.status() }); on close: watch.stop()
 */
export function watchRegistry(registry: SchemaRegistry, options: RegistryWatchOptions = {}): RegistryWatch {
  const { everyMs = 5000, downEveryMs = 1000 } = options
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const tick = async () => {
    await registry.ping()
    if (stopped) return
    timer = setTimeout(tick, registry.status().connected ? everyMs : downEveryMs)
    // A probe must never keep a process alive (`weir describe`, a stopped service).
    timer.unref()
  }
  void tick()
  return {
    status: () => registry.status(),
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}

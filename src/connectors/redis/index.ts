/**
 * Redis sinks (subpath export `weir/redis`). They speak RESP over one socket of their own
 * (`connection.ts`, `resp.ts`): no client library, so a pipeline of PUBLISHes costs one buffer and one write.
 *
 * - `redisPublishSink`: PUBLISH to pub/sub channels (the Kafka → Redis → frontend bridge).
 * - `redisCommandSink`: SET / HSET / XADD / DEL with TTL (caches such as "latest position per driver").
 * - `redisMetricsJson`: a sink's counters in the shape the rideshare app's /metrics shows.
 *
 * Both sinks follow the connector contract (src/connectors/contract.ts) and run its contract test.
 */
import type { RedisSinkStats } from './pipelined-sink.ts'

export { type RedisCommand, type RedisCommandSinkOptions, redisCommandSink } from './commands.ts'
export type { LatencySummary } from './latency.ts'
export type { RedisConnectionOptions, RedisPassword } from './options.ts'
export { RedisPipelinedSink, type RedisSinkStats } from './pipelined-sink.ts'
export { type RedisMessage, type RedisPublishSinkOptions, redisPublishSink } from './publish.ts'

/** What the rideshare bridge's /metrics reports about Redis, read from a sink's counters. */
export interface RedisMetricsJson {
  readonly messages_published_total: number
  /** Each message's pipeline round trip: `count` is messages (as in the seed), `p95_ms` weighted by them. */
  readonly redis_publish_latency: { avg_ms: number; p95_ms: number; count: number }
  readonly publish_errors: number
  readonly redis_connected: boolean
  readonly redis_backlog: number
}

/**
 * @example
 * router.get('/metrics', () => ({ ...app.metrics.snapshot(), ...redisMetricsJson(updates) }))
 */
export function redisMetricsJson(sink: { stats(): RedisSinkStats }): RedisMetricsJson {
  const s = sink.stats()
  return {
    messages_published_total: s.written,
    redis_publish_latency: { ...s.latency },
    publish_errors: s.errors,
    redis_connected: s.connected,
    redis_backlog: s.backlog,
  }
}

/**
 * The bridge's metrics (seed 000). The pipeline counts GPS pings in and GPS updates out and the messages
 * it routes per channel; `json()` builds /metrics in the seed's shape, field for field and in its order,
 * from those counters, the runtime's and the Redis sink's. Weir's extra fields come after the seed's.
 *
 * Semantics kept from the seed's processor:
 * - rates are per second over the last 60 s (or since start, if sooner);
 * - `gps_aggregation_ratio` is GPS pings received ÷ GPS updates emitted (10 means ten pings became one
 *   update; 0 until one is emitted), which is what the seed's dashboard shows as "GPS Reduction ×N";
 * - `messages_published_total` counts PUBLISHes Redis acknowledged.
 * - `redis_publish_latency` is per message, as the seed's: each message counts once and waited its
 *   pipeline's round trip (one pipeline carries up to 1,000 PUBLISHes), so `count` equals the messages
 *   Redis answered (`messages_published_total`, plus any it refused).
 *
 * @example
 * const m = new BridgeMetrics(ctx.metrics, redis)
 * ridesharePipeline({ ..., counters: m })
 * m.json(running) // { messages_consumed_total: …, …, timestamp: 1738098000.1 }
 */

import type { RedisSinkStats } from '../../connectors/redis/index.ts'
import type { Clock } from '../../core/clock.ts'
import type { Counter, Labels, MetricsRegistry } from '../../core/metrics.ts'
import { type Rate, rateOf } from '../../ops/index.ts'
import type { RunningPipeline } from '../../runtime/runner.ts'
import type { RedisChannel } from './domain/index.ts'

/** What the pipeline reports as records pass (see ridesharePipeline). */
export interface BridgeCounters {
  gpsReceived(): void
  gpsEmitted(n?: number): void
  routed(channel: RedisChannel, n?: number): void
}

/** Rates over this window, as the seed's metrics collector computes them. */
const RATE_WINDOW_MS = 60_000

export class BridgeMetrics implements BridgeCounters {
  readonly #gpsIn: Counter
  readonly #gpsOut: Counter
  readonly #routed: Counter
  readonly #channelLabels = new Map<string, Labels>()
  readonly #clock: Pick<Clock, 'now'>
  readonly #redis: { stats(): RedisSinkStats }
  readonly #consumed: Counter
  readonly #rates: { consumed: Rate; published: Rate; errors: Rate }
  #gpsReceived = 0
  #gpsEmitted = 0

  /** Create it with the app, before the pipeline runs: rates count from then. */
  constructor(
    registry: MetricsRegistry,
    redis: { stats(): RedisSinkStats },
    clock: Pick<Clock, 'now'> = { now: () => Date.now() },
  ) {
    this.#clock = clock
    this.#redis = redis
    // The runtime's own counter (the registry hands out one counter per name).
    this.#consumed = registry.counter('weir_records_consumed_total', 'Records read from input topics')
    const options = { windowMs: RATE_WINDOW_MS, slots: 60, clock }
    this.#rates = {
      consumed: rateOf(this.#consumed, options),
      published: rateOf(() => redis.stats().written, options),
      errors: rateOf(() => redis.stats().errors, options),
    }
    this.#gpsIn = registry.counter('weir_rideshare_gps_received_total', 'GPS pings that reached the window')
    this.#gpsOut = registry.counter('weir_rideshare_gps_emitted_total', 'GPS updates the window emitted')
    this.#routed = registry.counter(
      'weir_rideshare_messages_routed_total',
      'Messages handed to the Redis sink, by channel',
    )
    registry.collect(
      'weir_rideshare_gps_aggregation_ratio',
      'GPS pings received per GPS update emitted',
      () => [{ value: this.gpsAggregationRatio() }],
    )
  }

  gpsReceived(): void {
    this.#gpsReceived++
    this.#gpsIn.inc()
  }

  gpsEmitted(n = 1): void {
    this.#gpsEmitted += n
    this.#gpsOut.inc(undefined, n)
  }

  routed(channel: RedisChannel, n = 1): void {
    let labels = this.#channelLabels.get(channel)
    if (labels === undefined) {
      labels = { channel }
      this.#channelLabels.set(channel, labels)
    }
    this.#routed.inc(labels, n)
  }

  gpsAggregationRatio(): number {
    return this.#gpsEmitted === 0 ? 0 : this.#gpsReceived / this.#gpsEmitted
  }

  /** /metrics: the seed's fields first, in its order, then Weir's. */
  json(running: RunningPipeline) {
    const m = running.task.metrics
    const rates = this.#rates
    const stats = this.#redis.stats()
    const status = running.status()
    const kafkaConnected = status.source.connected && status.producer.connected
    return {
      messages_consumed_total: this.#consumed.total(),
      messages_published_total: stats.written,
      messages_consumed_per_sec: round(rates.consumed.perSecond(), 1),
      messages_published_per_sec: round(rates.published.perSecond(), 1),
      gps_aggregation_ratio: round(this.gpsAggregationRatio(), 2),
      redis_publish_latency: { ...stats.latency },
      publish_errors: stats.errors,
      publish_errors_per_sec: round(rates.errors.perSecond(), 2),
      kafka_connected: kafkaConnected,
      redis_connected: stats.connected,
      uptime_seconds: round(process.uptime(), 1),
      timestamp: this.#clock.now() / 1000,
      // Weir's additions.
      gps_pings_received_total: this.#gpsReceived,
      gps_updates_emitted_total: this.#gpsEmitted,
      redis_backlog: stats.backlog,
      records_dead_lettered_total: m.deadLettered.total(),
      consumer_lag: Object.fromEntries(running.lag()),
      state: status.state,
      checkpoint_error: status.checkpointError ?? null,
      last_checkpoint_at: status.lastCheckpointAt ? new Date(status.lastCheckpointAt).toISOString() : null,
      redis_error: stats.lastError ?? null,
      memory_rss_bytes: process.memoryUsage.rss(),
    }
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

import type { WeirError } from '../../core/errors.ts'
import type { RedisConnectionOptions } from './options.ts'
import { RedisPipelinedSink } from './pipelined-sink.ts'

/** One Redis pub/sub message. */
export interface RedisMessage {
  readonly channel: string
  readonly message: string | Buffer
}

export interface RedisPublishSinkOptions extends RedisConnectionOptions {
  /**
   * Messages Redis refuses for good (e.g. NOPERM: the ACL user may not publish to that channel). The
   * runtime wires this to the dead-letter path; without it such a message stays buffered and every
   * flush rejects with SINK_REJECTED.
   */
  readonly onRejected?: (message: RedisMessage, err: WeirError) => void | Promise<void>
}

/**
 * PUBLISHes to Redis pub/sub channels, pipelined: messages are buffered in `add`, sent in pipelines of
 * `pipelineSize` (a full one goes out in the background) and acknowledged by the checkpoint's `flush`.
 * While Redis is down `flush` rejects with SINK_UNAVAILABLE within `flushTimeoutMs`, keeps every message,
 * and the client reconnects by itself. Pub/sub is fire-and-forget on Redis' side: "written" means Redis
 * accepted the PUBLISH, not that a subscriber was listening.
 *
 * @example
 * const updates = redisPublishSink({ host: 'redis', password: cfg.REDIS_PASSWORD, name: 'frontend', metrics })
 * gps.toSink(updates, { map: (r) => ({ channel: 'driver-updates', message: JSON.stringify(r.value) }) })
 * // GET /metrics: { ...redisMetricsJson(updates) }
 */
export function redisPublishSink(options: RedisPublishSinkOptions): RedisPipelinedSink<RedisMessage> {
  return new RedisPipelinedSink<RedisMessage>('publish', options, {
    write: (out, m) => {
      out.publish(m.channel, m.message)
      return 1
    },
    onRejected: options.onRejected,
  })
}

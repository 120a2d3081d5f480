import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { MetricsRegistry } from '../../core/metrics.ts'
import type { Logger } from '../../log/logger.ts'
import type { RespConnectionOptions } from './connection.ts'

/** A password as a string or as a config `Secret` (anything with `reveal()`), so it never gets logged. */
export type RedisPassword = string | { reveal(): string }

/** How to reach Redis, and how long to wait for it. Shared by every Redis sink. */
export interface RedisConnectionOptions {
  readonly host?: string
  readonly port?: number
  /** Redis AUTH. With `username` it is an ACL login (Redis 6+), without it the `default` user. */
  readonly password?: RedisPassword
  readonly username?: string
  readonly db?: number
  /** `true` for TLS with Node's defaults, or Node TLS options (ca, servername, …). */
  readonly tls?: boolean | TlsOptions
  /** Sink id and Redis CLIENT SETNAME; also the `sink` label on metrics. Default `redis`. */
  readonly name?: string
  /**
   * How long a flush may take before it rejects with SINK_UNAVAILABLE (items stay buffered). Also the
   * socket timeout: a connection that sends nothing back for this long while commands wait is dropped
   * and reconnected. A flush of a large backlog that outlasts it rejects too, keeping what is left (what
   * was written stays written): the next flush carries on. Default 5,000 ms.
   */
  readonly flushTimeoutMs?: number
  /** How long `open()` and each connection attempt wait. Default 5,000 ms. */
  readonly connectTimeoutMs?: number
  /** Reconnect backoff: doubling from 50 ms up to this cap, with jitter. Default 2,000 ms. */
  readonly maxReconnectDelayMs?: number
  /** Commands per pipeline; a full chunk is sent in the background while buffering. Default 1,000. */
  readonly pipelineSize?: number
  readonly metrics?: MetricsRegistry
  readonly logger?: Logger
}

export interface ResolvedRedisOptions {
  readonly name: string
  readonly flushTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly pipelineSize: number
  readonly endpoint: string
  readonly connection: RespConnectionOptions
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `redis option ${name} must be a positive number, got ${value}`,
    )
  }
  return value
}

/**
 * The connection settings that make an outage visible instead of hanging (see `RespConnection`): no
 * offline queue, no re-sending of unanswered commands (the sink keeps its own items and re-sends them
 * on the next flush), a socket timeout for half-open connections, and reconnects with capped
 * exponential backoff forever.
 */
export function resolveRedisOptions(options: RedisConnectionOptions): ResolvedRedisOptions {
  const host = options.host ?? '127.0.0.1'
  const port = positive('port', options.port, 6379)
  const name = options.name ?? 'redis'
  const flushTimeoutMs = positive('flushTimeoutMs', options.flushTimeoutMs, 5000)
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, 5000)
  const maxDelay = positive('maxReconnectDelayMs', options.maxReconnectDelayMs, 2000)
  const pipelineSize = Math.floor(positive('pipelineSize', options.pipelineSize, 1000))
  const password = typeof options.password === 'object' ? options.password.reveal() : options.password
  const tls = options.tls === true ? {} : options.tls === false ? undefined : options.tls
  const connection: RespConnectionOptions = {
    host,
    port,
    tls,
    username: options.username,
    password,
    db: options.db ?? 0,
    name: name.replace(/[^\w.:-]/g, '_'),
    connectTimeoutMs,
    socketTimeoutMs: flushTimeoutMs,
    retryDelay: (times) =>
      Math.min(maxDelay, 50 * 2 ** Math.min(16, times - 1)) + Math.floor(Math.random() * 50),
  }
  return { name, flushTimeoutMs, connectTimeoutMs, pipelineSize, endpoint: `${host}:${port}`, connection }
}

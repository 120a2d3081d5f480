/**
 * A small shared cache in Redis: GET and SET with a TTL over one RESP connection (Weir's own, as the
 * Redis sinks use). It never queues while Redis is down: a lookup then fails at once and the caller goes
 * without the cache, and the connection reconnects by itself.
 *
 * @example
 * const cache = new RedisCache({ host: '127.0.0.1', port: 6379, keyPrefix: 'millionx:' })
 * await cache.set('weather:dhaka', json, 1800)
 * const hit = await cache.get('weather:dhaka')
 */
import { RespConnection } from '../connectors/redis/connection.ts'
import { type RedisConnectionOptions, resolveRedisOptions } from '../connectors/redis/options.ts'
import { ReplyError, RespWriter } from '../connectors/redis/resp.ts'
import type { Logger } from '../log/logger.ts'

export interface RedisCacheOptions extends RedisConnectionOptions {
  /** Put in front of every key (tenants, tests). */
  readonly keyPrefix?: string
}

export class RedisCache {
  readonly #conn: RespConnection
  readonly #prefix: string
  readonly #timeoutMs: number
  readonly endpoint: string
  #lastError: string | undefined

  constructor(options: RedisCacheOptions, logger?: Logger) {
    const resolved = resolveRedisOptions({ name: 'weir-cache', ...options })
    this.endpoint = resolved.endpoint
    this.#prefix = options.keyPrefix ?? ''
    this.#timeoutMs = resolved.flushTimeoutMs
    this.#conn = new RespConnection(resolved.connection, {
      ready: () => {
        this.#lastError = undefined
        logger?.info('redis cache connected', { endpoint: resolved.endpoint })
      },
      close: () => {},
      error: (err) => {
        if (this.#lastError !== err.message)
          logger?.warn('redis cache unavailable', { endpoint: resolved.endpoint, error: err.message })
        this.#lastError = err.message
      },
    })
    this.#conn.connect()
  }

  get connected(): boolean {
    return this.#conn.status === 'ready'
  }

  get lastError(): string | undefined {
    return this.#lastError
  }

  /** The value, or undefined on a miss. Rejects when Redis is unreachable. */
  async get(key: string): Promise<string | undefined> {
    const w = new RespWriter(128)
    w.command('GET', this.#prefix + key)
    const [reply] = await this.#exec(w)
    if (reply instanceof ReplyError) throw reply
    return reply === null || reply === undefined ? undefined : String(reply)
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    const w = new RespWriter(256 + value.length * 3)
    w.command('SET', this.#prefix + key, value, 'EX', Math.max(1, Math.round(ttlSeconds)))
    const [reply] = await this.#exec(w)
    if (reply instanceof ReplyError) throw reply
  }

  async del(key: string): Promise<void> {
    const w = new RespWriter(128)
    w.command('DEL', this.#prefix + key)
    await this.#exec(w)
  }

  async close(): Promise<void> {
    await this.#conn.quit()
  }

  async #exec(w: RespWriter) {
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        this.#conn.exec(w.bytes(), w.count),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`redis: no reply within ${this.#timeoutMs} ms`)),
            this.#timeoutMs,
          )
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
  }
}

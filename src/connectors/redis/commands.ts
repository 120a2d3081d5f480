import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { RedisConnectionOptions } from './options.ts'
import { RedisPipelinedSink } from './pipelined-sink.ts'
import type { RespWriter } from './resp.ts'

type Value = string | number | Buffer

/**
 * One write to Redis. `set` and `hset` are idempotent, so a replay after a crash converges; `xadd`
 * appends with a server-made id, so a replay appends again (at-least-once). `ttlMs` sets an expiry
 * (PX / PEXPIRE) in the same pipeline, e.g. for a "latest position per driver" cache.
 */
export type RedisCommand =
  | { readonly op: 'set'; readonly key: string; readonly value: Value; readonly ttlMs?: number }
  | {
      readonly op: 'hset'
      readonly key: string
      readonly fields: Readonly<Record<string, Value>>
      readonly ttlMs?: number
    }
  | {
      readonly op: 'xadd'
      readonly key: string
      readonly fields: Readonly<Record<string, Value>>
      /** Trims the stream to about this many entries (MAXLEN ~). */
      readonly maxLen?: number
      readonly ttlMs?: number
    }
  | { readonly op: 'del'; readonly key: string }

export interface RedisCommandSinkOptions extends RedisConnectionOptions {
  /** Commands Redis refuses for good (WRONGTYPE, …); see `RedisPublishSinkOptions.onRejected`. */
  readonly onRejected?: (command: RedisCommand, err: WeirError) => void | Promise<void>
}

function ttl(ms: number | undefined): number | undefined {
  if (ms === undefined) return undefined
  if (!Number.isInteger(ms) || ms <= 0)
    throw new WeirError(ErrorCode.SINK_REJECTED, `ttlMs must be a positive integer, got ${ms}`)
  return ms
}

function flat(fields: Readonly<Record<string, Value>>): Value[] {
  const out: Value[] = []
  for (const [k, v] of Object.entries(fields)) out.push(k, v)
  if (out.length === 0) throw new WeirError(ErrorCode.SINK_REJECTED, 'fields must not be empty')
  return out
}

/** Checks everything first, so an item that cannot be encoded writes nothing. */
function write(out: RespWriter, c: RedisCommand): number {
  switch (c.op) {
    case 'set': {
      const px = ttl(c.ttlMs)
      if (px === undefined) out.command('SET', c.key, c.value)
      else out.command('SET', c.key, c.value, 'PX', px)
      return 1
    }
    case 'hset': {
      const px = ttl(c.ttlMs)
      out.command('HSET', c.key, ...flat(c.fields))
      if (px === undefined) return 1
      out.command('PEXPIRE', c.key, px)
      return 2
    }
    case 'xadd': {
      const px = ttl(c.ttlMs)
      const trim = c.maxLen === undefined ? [] : ['MAXLEN', '~', c.maxLen]
      out.command('XADD', c.key, ...trim, '*', ...flat(c.fields))
      if (px === undefined) return 1
      out.command('PEXPIRE', c.key, px)
      return 2
    }
    case 'del':
      out.command('DEL', c.key)
      return 1
    default:
      throw new WeirError(ErrorCode.SINK_REJECTED, `unknown redis op ${(c as { op: unknown }).op}`)
  }
}

/**
 * SET / HSET / XADD / DEL with optional TTL, with the same buffering, pipelining, outage and metrics
 * behaviour as `redisPublishSink`. An item the sink cannot even encode (empty fields, bad TTL) is
 * treated like a command Redis refused: it goes to `onRejected`.
 *
 * @example
 * const latest = redisCommandSink({ host: 'redis', name: 'positions' })
 * gps.toSink(latest, { map: (r) => ({ op: 'hset', key: `driver:${r.key}`, fields: r.value, ttlMs: 60_000 }) })
 */
export function redisCommandSink(options: RedisCommandSinkOptions): RedisPipelinedSink<RedisCommand> {
  return new RedisPipelinedSink<RedisCommand>('command', options, { write, onRejected: options.onRejected })
}

import { ErrorCode, WeirError } from '../core/errors.ts'
import type { WeirRecord } from '../core/record.ts'
import { type Duration, toMillis } from './duration.ts'
import type { WatermarkOptions } from './watermark.ts'

/** How a windowed operator tells time. */
export interface TimeOptions<V> {
  /**
   * `event` (default): the record's own time, from `timestamp` or the Kafka record timestamp; windows
   * close as the watermark passes them. `processing`: the wall clock when the record arrives.
   */
  readonly time?: 'event' | 'processing'
  /** Event time of a value in epoch ms (e.g. `(v) => Date.parse(v.timestamp)`). Default: the record timestamp. */
  readonly timestamp?: (value: V, record: WeirRecord<unknown, V>) => number
  /** How far behind the newest event time a record may be and still count as on time. Default 0. */
  readonly outOfOrderness?: Duration
  /** A partition with no record for this long stops holding the watermark back. Default 30 s. */
  readonly idleTimeout?: Duration
  /**
   * Let a quiet partition's watermark follow the wall clock, so windows close with no further input.
   * Default true; turn it off to replay history whose gaps are meaningful.
   */
  readonly closeOnWallClock?: boolean
  /** How often the clock timer checks for windows to close. Default: size/10, between 10 ms and 1 s. */
  readonly checkEvery?: Duration
}

export interface ResolvedTime<V> {
  readonly mode: 'event' | 'processing'
  readonly timestamp: ((value: V, record: WeirRecord<unknown, V>) => number) | undefined
  readonly watermark: WatermarkOptions
  readonly checkEvery: number
}

export function resolveTime<V>(options: TimeOptions<V>, defaultCheckEvery: number): ResolvedTime<V> {
  const mode = options.time ?? 'event'
  if (mode !== 'event' && mode !== 'processing') {
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      `window: time must be 'event' or 'processing', got ${JSON.stringify(mode)}`,
    )
  }
  if (options.timestamp !== undefined && typeof options.timestamp !== 'function') {
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      'window: timestamp must be a function (value, record) => epoch ms',
    )
  }
  if (mode === 'processing' && options.timestamp !== undefined) {
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      "window: timestamp is for event time; remove it or use time: 'event'",
    )
  }
  return {
    mode,
    timestamp: options.timestamp,
    watermark: {
      outOfOrderness:
        options.outOfOrderness === undefined
          ? 0
          : toMillis(options.outOfOrderness, 'outOfOrderness', { allowZero: true }),
      idleTimeout: options.idleTimeout === undefined ? 30_000 : toMillis(options.idleTimeout, 'idleTimeout'),
      followWallClock: options.closeOnWallClock ?? true,
    },
    checkEvery:
      options.checkEvery === undefined
        ? Math.min(1000, Math.max(10, Math.floor(defaultCheckEvery / 10)))
        : toMillis(options.checkEvery, 'checkEvery'),
  }
}

/** A record's time under these options; a bad event time is an error for the record's error policy. */
export function recordTime<V>(t: ResolvedTime<V>, record: WeirRecord<unknown, V>, now: number): number {
  if (t.mode === 'processing') return now
  const time = t.timestamp === undefined ? record.timestamp : t.timestamp(record.value, record)
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new WeirError(
      ErrorCode.VALIDATION_FAILED,
      `event time is not a finite epoch-ms number: ${String(time)}`,
      {
        details: [
          { rule: 'event-time', field: 'timestamp', message: 'expected epoch milliseconds', value: time },
        ],
      },
    )
  }
  return time
}

import { ErrorCode, WeirError } from '../core/errors.ts'
import { type Duration, toMillis } from './duration.ts'

/**
 * Window definitions. Every window is half-open, `[start, end)`, aligned to the epoch, except session
 * windows (`[first event, last event]`) and sliding windows (`[end - size, end]`, both inclusive, as in
 * Kafka Streams). `grace` is how long after its end a window still accepts out-of-order records.
 */
export interface TumblingWindows {
  readonly kind: 'tumbling'
  readonly size: number
  readonly grace: number
}

export interface HoppingWindows {
  readonly kind: 'hopping'
  readonly size: number
  /** Distance between the starts of two consecutive windows; a record is in `size / advance` windows. */
  readonly advance: number
  readonly grace: number
}

export interface SlidingWindows {
  readonly kind: 'sliding'
  /** The maximum time difference between two records of one window. */
  readonly size: number
  readonly grace: number
}

export interface SessionWindows {
  readonly kind: 'session'
  /** A session ends after this much time with no record for its key. */
  readonly gap: number
  readonly grace: number
}

export type WindowSpec = TumblingWindows | HoppingWindows | SlidingWindows | SessionWindows

/**
 * Fixed-size, non-overlapping windows: `[0, size)`, `[size, 2·size)`, …
 *
 * @example
 * tumbling({ size: '5m', grace: '30s' })
 */
export function tumbling(options: { size: Duration; grace?: Duration }): TumblingWindows {
  return {
    kind: 'tumbling',
    size: toMillis(options.size, 'tumbling size'),
    grace: grace(options.grace, 'tumbling'),
  }
}

/**
 * Fixed-size windows that overlap: a new one starts every `advance`.
 *
 * @example
 * hopping({ size: '10m', advance: '1m' }) // each record counts in 10 windows
 */
export function hopping(options: { size: Duration; advance: Duration; grace?: Duration }): HoppingWindows {
  const size = toMillis(options.size, 'hopping size')
  const advance = toMillis(options.advance, 'hopping advance')
  if (advance > size)
    throw new WeirError(
      ErrorCode.TOPOLOGY_INVALID,
      `hopping: advance (${advance} ms) must not exceed size (${size} ms)`,
    )
  return { kind: 'hopping', size, advance, grace: grace(options.grace, 'hopping') }
}

/**
 * Windows defined by the records themselves (Kafka Streams' `SlidingWindows`): two records are in a
 * common window when their times differ by at most `size`. One result per distinct set of records.
 *
 * @example
 * sliding({ size: '1m', grace: '10s' })
 */
export function sliding(options: { size: Duration; grace?: Duration }): SlidingWindows {
  return {
    kind: 'sliding',
    size: toMillis(options.size, 'sliding size'),
    grace: grace(options.grace, 'sliding'),
  }
}

/**
 * Activity sessions per key: a session closes after `gap` with no record; records that bridge two
 * sessions merge them (the aggregation needs a `merge`).
 *
 * @example
 * session({ gap: '30m' })
 */
export function session(options: { gap: Duration; grace?: Duration }): SessionWindows {
  return {
    kind: 'session',
    gap: toMillis(options.gap, 'session gap'),
    grace: grace(options.grace, 'session'),
  }
}

function grace(d: Duration | undefined, kind: string): number {
  return d === undefined ? 0 : toMillis(d, `${kind} grace`, { allowZero: true })
}

/** What must match for state written by one definition to be read by another (grace may change). */
export function windowSignature(w: WindowSpec): string {
  switch (w.kind) {
    case 'tumbling':
      return `tumbling:${w.size}`
    case 'hopping':
      return `hopping:${w.size}:${w.advance}`
    case 'sliding':
      return `sliding:${w.size}`
    case 'session':
      return `session:${w.gap}`
  }
}

/** Starts of the fixed windows (tumbling: one; hopping: size/advance) that contain `time`, oldest first. */
export function fixedWindowStarts(time: number, size: number, advance: number): number[] {
  const last = Math.floor(time / advance) * advance
  const out: number[] = []
  for (let start = last; start > time - size; start -= advance) out.push(start)
  return out.reverse()
}

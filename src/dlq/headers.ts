/**
 * Headers of a replayed record: the original record's own headers (what the dead letter kept), minus
 * Weir's `weir.*` bookkeeping, plus where the replay came from and how many times it was replayed.
 *
 * @example
 * replayHeaders(dlqRecord) // { 'test-id': …, 'weir.replay.from': 'orders-dlq:0@41', 'weir.replay.count': '1' }
 */

import { setOwnKey } from '../core/own-key.ts'
import type { Headers, RawRecord } from '../core/record.ts'
import { headerText } from '../core/record.ts'

export const ReplayHeader = {
  /** `<dead-letter topic>:<partition>@<offset>` of the dead letter this record was replayed from. */
  from: 'weir.replay.from',
  /** How many times the record has been replayed, this replay included. */
  count: 'weir.replay.count',
} as const

const WEIR_PREFIX = 'weir.'

/** The replay count a record carries (0 if it was never replayed). */
export function replayCount(headers: Headers): number {
  const n = Number(headerText(headers, ReplayHeader.count))
  return Number.isInteger(n) && n > 0 ? n : 0
}

export function replayHeaders(
  deadLetter: Pick<RawRecord, 'topic' | 'partition' | 'offset' | 'headers'>,
): Headers {
  const out: Record<string, Buffer> = {}
  for (const [name, value] of Object.entries(deadLetter.headers)) {
    if (!name.startsWith(WEIR_PREFIX)) setOwnKey(out, name, value)
  }
  out[ReplayHeader.from] = Buffer.from(`${deadLetter.topic}:${deadLetter.partition}@${deadLetter.offset}`)
  out[ReplayHeader.count] = Buffer.from(String(replayCount(deadLetter.headers) + 1))
  return out
}

import type { WeirError } from '../core/errors.ts'
import type { Headers, OutgoingRecord, RawRecord } from '../core/record.ts'
import { headerText, textHeaders } from '../core/record.ts'

/** Header names Weir puts on dead-letter records. */
export const DeadLetterHeader = {
  code: 'weir.error.code',
  message: 'weir.error.message',
  details: 'weir.error.details',
  stage: 'weir.error.stage',
  retriable: 'weir.error.retriable',
  attempts: 'weir.error.attempts',
  time: 'weir.error.time',
  topic: 'weir.source.topic',
  partition: 'weir.source.partition',
  offset: 'weir.source.offset',
  timestamp: 'weir.source.timestamp',
  app: 'weir.app',
  /**
   * Set when the value is an envelope (`deadLetterValue`) rather than the original bytes: names the
   * envelope's JSON field that holds the original value as base64 (null for a null value), so
   * `weir dlq replay` re-injects the original.
   */
  envelope: 'weir.dead-letter.envelope',
} as const

/** What a `deadLetterValue` function is given. */
export interface DeadLetterInput {
  readonly raw: RawRecord
  readonly error: WeirError
  readonly stage: string
  readonly attempts: number
  readonly now: number
}

/**
 * Builds a dead letter's value instead of the original bytes (an app whose readers expect a JSON error
 * body on the dead-letter topic). `originalField` names the field holding the original as base64.
 */
export interface DeadLetterValue {
  readonly originalField: string
  build(input: DeadLetterInput): Buffer
}

const MAX_HEADER_TEXT = 4096

function clip(text: string): string {
  return text.length > MAX_HEADER_TEXT ? `${text.slice(0, MAX_HEADER_TEXT - 1)}…` : text
}

/**
 * The dead-letter record for a failed input: the original key and value bytes untouched, the original
 * headers kept, and Weir's headers saying why, where from and when.
 */
export function deadLetterRecord(input: {
  readonly topic: string
  readonly raw: RawRecord
  readonly error: WeirError
  readonly stage: string
  readonly attempts: number
  readonly app: string
  readonly now: number
  readonly value?: DeadLetterValue
}): OutgoingRecord {
  const { raw, error } = input
  const details = error.details === undefined ? undefined : detailsJson(error.details)
  const headers: Headers = {
    ...raw.headers,
    ...textHeaders({
      [DeadLetterHeader.code]: error.code,
      [DeadLetterHeader.message]: clip(error.message),
      [DeadLetterHeader.details]: details,
      [DeadLetterHeader.stage]: input.stage,
      [DeadLetterHeader.retriable]: String(error.retriable),
      [DeadLetterHeader.attempts]: input.attempts,
      [DeadLetterHeader.time]: new Date(input.now).toISOString(),
      [DeadLetterHeader.topic]: raw.topic,
      [DeadLetterHeader.partition]: raw.partition,
      [DeadLetterHeader.offset]: raw.offset,
      [DeadLetterHeader.timestamp]: raw.timestamp,
      [DeadLetterHeader.app]: input.app,
      [DeadLetterHeader.envelope]: input.value?.originalField,
    }),
  }
  const value = input.value === undefined ? raw.value : input.value.build(input)
  return { topic: input.topic, key: raw.key, value, headers, timestamp: raw.timestamp }
}

/** The original value of a dead letter: its value, or, for an envelope, the base64 field it names. */
export function originalValue(deadLetter: Pick<RawRecord, 'value' | 'headers'>): Buffer | null {
  const field = headerText(deadLetter.headers, DeadLetterHeader.envelope)
  if (field === undefined || deadLetter.value === null) return deadLetter.value
  const body = JSON.parse(deadLetter.value.toString('utf8')) as Record<string, unknown>
  const b64 = body[field]
  return typeof b64 === 'string' ? Buffer.from(b64, 'base64') : null
}

/** The reason a dead-letter record carries, read back from its headers. */
export interface DeadLetterInfo {
  readonly code: string | undefined
  readonly message: string | undefined
  readonly details: unknown
  readonly stage: string | undefined
  readonly attempts: number | undefined
  readonly time: string | undefined
  readonly source: { topic: string | undefined; partition: number | undefined; offset: number | undefined }
}

export function readDeadLetter(headers: Headers): DeadLetterInfo {
  const num = (name: string) => {
    const t = headerText(headers, name)
    return t === undefined ? undefined : Number(t)
  }
  const detailsText = headerText(headers, DeadLetterHeader.details)
  let details: unknown
  if (detailsText !== undefined) {
    try {
      details = JSON.parse(detailsText)
    } catch {
      details = detailsText
    }
  }
  return {
    code: headerText(headers, DeadLetterHeader.code),
    message: headerText(headers, DeadLetterHeader.message),
    details,
    stage: headerText(headers, DeadLetterHeader.stage),
    attempts: num(DeadLetterHeader.attempts),
    time: headerText(headers, DeadLetterHeader.time),
    source: {
      topic: headerText(headers, DeadLetterHeader.topic),
      partition: num(DeadLetterHeader.partition),
      offset: num(DeadLetterHeader.offset),
    },
  }
}

/**
 * The details as JSON that fits a header and still parses: a long list (many violations) is cut to the
 * items that fit, with a last item saying how many were left out; anything else too long becomes a
 * JSON string of its clipped text.
 */
function detailsJson(details: unknown): string {
  const full = safeJson(details)
  if (full.length <= MAX_HEADER_TEXT) return full
  if (Array.isArray(details)) {
    const kept: unknown[] = []
    for (const item of details) {
      const text = safeJson(item)
      const next = safeJson([...kept, clipItem(item, text), { omitted: details.length - kept.length - 1 }])
      if (next.length > MAX_HEADER_TEXT) break
      kept.push(clipItem(item, text))
    }
    return safeJson([...kept, { omitted: details.length - kept.length }])
  }
  return JSON.stringify(clip(full))
}

/** An item whose own JSON is over a quarter of the budget is replaced by its clipped text. */
function clipItem(item: unknown, text: string): unknown {
  return text.length > MAX_HEADER_TEXT / 4 ? `${text.slice(0, MAX_HEADER_TEXT / 4 - 1)}…` : item
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

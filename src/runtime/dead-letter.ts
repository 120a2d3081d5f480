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
} as const

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
}): OutgoingRecord {
  const { raw, error } = input
  const details = error.details === undefined ? undefined : clip(safeJson(error.details))
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
    }),
  }
  return { topic: input.topic, key: raw.key, value: raw.value, headers, timestamp: raw.timestamp }
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

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

/**
 * The seed's dead-letter body on `schema-validation-errors`: a JSON document with the error's type,
 * message, timestamp and retry count, where the record came from, every violation, and the original
 * record — parsed when it was JSON, as text when it was not — plus its exact bytes in base64, which is
 * what `weir dlq replay` re-injects. Weir's `weir.error.*` / `weir.source.*` headers are on the record too.
 *
 * `retry_count` is how many times the record had been replayed from the dead-letter topic before it
 * failed again (`weir dlq replay` counts replays in a header); `attempts` is how many times this run
 * tried it.
 */
import { ErrorCode } from '../../../core/errors.ts'
import { replayCount } from '../../../dlq/headers.ts'
import type { DeadLetterInput, DeadLetterValue } from '../../../runtime/dead-letter.ts'

export interface SchemaErrorBody {
  readonly error_type: 'schema_validation' | 'deserialization' | 'processing'
  readonly error_code: string
  readonly error_message: string
  readonly errors: readonly unknown[]
  readonly timestamp: string
  readonly retry_count: number
  readonly attempts: number
  readonly stage: string
  readonly source_topic: string
  readonly source_partition: number
  readonly source_offset: number
  readonly original: unknown
  readonly original_base64: string | null
}

function errorType(code: string): SchemaErrorBody['error_type'] {
  if (code === ErrorCode.VALIDATION_FAILED) return 'schema_validation'
  if (code === ErrorCode.DESERIALIZE_FAILED) return 'deserialization'
  return 'processing'
}

function readOriginal(value: Buffer | null): unknown {
  if (value === null) return null
  const text = value.toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function schemaErrorBody(input: DeadLetterInput): SchemaErrorBody {
  const { raw, error } = input
  const details = error.details
  return {
    error_type: errorType(error.code),
    error_code: error.code,
    error_message: error.message,
    errors: Array.isArray(details) ? details : details === undefined ? [] : [details],
    timestamp: new Date(input.now).toISOString(),
    retry_count: replayCount(raw.headers),
    attempts: input.attempts,
    stage: input.stage,
    source_topic: raw.topic,
    source_partition: raw.partition,
    source_offset: raw.offset,
    original: readOriginal(raw.value),
    original_base64: raw.value === null ? null : raw.value.toString('base64'),
  }
}

/** For `run`'s `deadLetterValue`: the body above as the dead letter's value. */
export const schemaErrorDeadLetter: DeadLetterValue = {
  originalField: 'original_base64',
  build: (input) => Buffer.from(JSON.stringify(schemaErrorBody(input))),
}

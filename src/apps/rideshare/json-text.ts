import { isAscii, isUtf8 } from 'node:buffer'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Serde } from '../../core/serde.ts'

/** A JSON payload as parsed (to check it) and as the text it arrived in (to pass it on unchanged). */
export class JsonText<T = unknown> {
  readonly text: string
  readonly value: T

  constructor(text: string, value: T) {
    this.text = text
    this.value = value
  }
}

/**
 * The `json()` serde's checks and errors (null, empty, not UTF-8, malformed → DESERIALIZE_FAILED), but
 * it keeps the text next to the parsed value, so the bridge can publish the payload without printing
 * it again. ASCII payloads (the usual case) are decoded without a UTF-8 pass; a leading BOM is
 * dropped, as `TextDecoder` does.
 *
 * @example
 * p.stream<JsonText<GpsPing>>('gps_pings', { value: jsonText<GpsPing>() })
 */
export function jsonText<T = unknown>(): Serde<JsonText<T>> {
  return {
    name: 'json-text',
    // Writes a JsonText as its text, anything else (a test driver's plain value) as JSON.
    serialize: (v) => Buffer.from(v instanceof JsonText ? v.text : JSON.stringify(v), 'utf8'),
    deserialize(data) {
      if (data === null)
        throw new WeirError(ErrorCode.DESERIALIZE_FAILED, 'null value (tombstone) where JSON was expected')
      if (data.length === 0)
        throw new WeirError(ErrorCode.DESERIALIZE_FAILED, 'empty value where JSON was expected')
      let text: string
      if (isAscii(data)) text = data.toString('latin1')
      else if (isUtf8(data)) {
        text = data.toString('utf8')
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
      } else throw new WeirError(ErrorCode.DESERIALIZE_FAILED, 'value is not valid UTF-8')
      try {
        return new JsonText(text, JSON.parse(text) as T)
      } catch (cause) {
        const msg = cause instanceof Error ? cause.message : String(cause)
        throw new WeirError(ErrorCode.DESERIALIZE_FAILED, `malformed JSON: ${msg}`, { cause })
      }
    },
  }
}

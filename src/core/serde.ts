import { ErrorCode, WeirError } from './errors.ts'

/** What a serde may want to know: the topic decides the schema-registry subject, for instance. */
export interface SerdeContext {
  readonly topic: string
  readonly isKey: boolean
}

/**
 * Turns bytes into values and back. Either direction may be async (a schema registry lookup);
 * fast serdes stay synchronous so the hot path never allocates a promise.
 */
export interface Serde<T> {
  readonly name: string
  serialize(value: T, ctx: SerdeContext): Buffer | null | Promise<Buffer | null>
  deserialize(data: Buffer | null, ctx: SerdeContext): T | Promise<T>
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function decodeUtf8(data: Buffer): string {
  try {
    return utf8.decode(data)
  } catch (cause) {
    throw new WeirError(ErrorCode.DESERIALIZE_FAILED, 'value is not valid UTF-8', { cause })
  }
}

/** JSON text. A null or empty payload is an error: a JSON stream has no meaningful empty record. */
export function json<T = unknown>(): Serde<T> {
  return {
    name: 'json',
    serialize: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
    deserialize(data) {
      if (data === null) throw new WeirError(ErrorCode.DESERIALIZE_FAILED, 'null value (tombstone) where JSON was expected')
      if (data.length === 0) throw new WeirError(ErrorCode.DESERIALIZE_FAILED, 'empty value where JSON was expected')
      const text = decodeUtf8(data)
      try {
        return JSON.parse(text) as T
      } catch (cause) {
        const msg = cause instanceof Error ? cause.message : String(cause)
        throw new WeirError(ErrorCode.DESERIALIZE_FAILED, `malformed JSON: ${msg}`, { cause })
      }
    },
  }
}

/** UTF-8 text; null stays null. */
export function string(): Serde<string | null> {
  return {
    name: 'string',
    serialize: (value) => (value === null ? null : Buffer.from(value, 'utf8')),
    deserialize: (data) => (data === null ? null : decodeUtf8(data)),
  }
}

/** Raw bytes, untouched. */
export function bytes(): Serde<Buffer | null> {
  return {
    name: 'bytes',
    serialize: (value) => value,
    deserialize: (data) => data,
  }
}

export const serdes = { json, string, bytes } as const

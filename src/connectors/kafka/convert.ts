import type { Message, MessageToProduce } from '@platformatic/kafka'
import { findErrorBy, GenericError, MultipleErrors } from '@platformatic/kafka'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import { setOwnKey } from '../../core/own-key.ts'
import type { Headers, OutgoingRecord, RawRecord } from '../../core/record.ts'
import { keyPartition } from './murmur2.ts'

const EMPTY = Buffer.alloc(0)

/** What a record without headers carries: one shared empty object (headers are read-only). */
const NO_HEADERS: Headers = Object.freeze({})

/** A consumed message as Weir's raw record: numbers for offsets and timestamps, string header names. */
export function toRawRecord(m: Message, offset: number = Number(m.offset)): RawRecord {
  const entries = m.headerEntries
  let headers = NO_HEADERS
  if (entries.length > 0) {
    const h: Record<string, Buffer> = {}
    for (const [k, v] of entries) setOwnKey(h, k.toString('utf8'), v ?? EMPTY)
    headers = h
  }
  return {
    topic: m.topic,
    partition: m.partition,
    offset,
    timestamp: Number(m.timestamp),
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
  }
}

/** Header names as bytes, made once per name (Weir's own headers and the apps' are a handful). */
const headerNames = new Map<string, Buffer>()
function headerName(name: string): Buffer {
  let b = headerNames.get(name)
  if (b === undefined) {
    b = Buffer.from(name, 'utf8')
    if (headerNames.size < 1024) headerNames.set(name, b)
  }
  return b
}

/**
 * An outgoing record as the client wants it. A null value is a tombstone. A keyed record gets its
 * partition here (murmur2 as Kafka's Java producer partitions, see keyPartition), so the client
 * skips its BigInt hash. Every message has the same shape, which keeps the client's loops monomorphic.
 */
export function toProduced(r: OutgoingRecord): MessageToProduce {
  let headers: Map<Buffer, Buffer> | undefined
  const h = r.headers
  if (h !== undefined) {
    for (const name in h) {
      headers ??= new Map()
      headers.set(headerName(name), h[name]!)
    }
  }
  const key = r.key ?? undefined
  return {
    topic: r.topic,
    key,
    value: r.value ?? undefined,
    partition: r.partition ?? (key === undefined ? undefined : keyPartition(key)),
    timestamp: r.timestamp === undefined ? undefined : BigInt(Math.trunc(r.timestamp)),
    headers,
  }
}

/** True when trying again can help: the network, a coordinator moving, a leader election. */
export function isRetriable(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (findErrorBy(err, 'code', 'PLT_KFK_NETWORK') || findErrorBy(err, 'code', 'PLT_KFK_TIMEOUT')) return true
  if (findErrorBy(err, 'canRetry', true)) return true
  return false
}

/** The first useful message inside the client's nested errors, with a hint where the fix is known. */
export function describe(err: unknown): string {
  const text = describeNested(err)
  if (!(err instanceof Error)) return text
  // A SASL handshake on a listener without SASL: the broker answers ILLEGAL_SASL_STATE, which the
  // client reports as "Cannot find a suitable SASL mechanism".
  if (hasApiError(err, 'ILLEGAL_SASL_STATE'))
    return `${text}: the broker offers no SASL on this listener; set KAFKA_SECURITY_PROTOCOL to PLAINTEXT (or SSL) for it, or point the bootstrap servers at its SASL listener`
  if (hasApiError(err, 'UNSUPPORTED_SASL_MECHANISM'))
    return `${text}: the listener does not enable this SASL mechanism; check KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`
  return text
}

/** A broker error code anywhere in the client's error tree (its own findBy does not follow `cause`). */
function hasApiError(err: unknown, apiId: string, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 8) return false
  if ((err as { apiId?: unknown }).apiId === apiId) return true
  const inner = err instanceof AggregateError ? err.errors : []
  return inner.some((e) => hasApiError(e, apiId, depth + 1)) || hasApiError(err.cause, apiId, depth + 1)
}

function describeNested(err: unknown): string {
  if (err instanceof MultipleErrors) {
    const inner = err.errors.map(describeNested).filter((s) => s !== '')
    return inner.length > 0 ? `${err.message}: ${[...new Set(inner)].join('; ')}` : err.message
  }
  if (err instanceof GenericError && err.cause instanceof Error && err.cause.message !== err.message) {
    return `${err.message} (${err.cause.message})`
  }
  return err instanceof Error ? err.message : String(err)
}

export function sourceError(what: string, err: unknown): WeirError {
  return new WeirError(ErrorCode.SOURCE_UNAVAILABLE, `kafka ${what}: ${describe(err)}`, {
    cause: err,
    retriable: isRetriable(err) || !(err instanceof Error),
  })
}

export function sinkError(what: string, err: unknown): WeirError {
  if (err instanceof WeirError) return err
  const tooLarge = err instanceof Error && findErrorBy(err, 'apiId', 'MESSAGE_TOO_LARGE')
  const retriable = isRetriable(err)
  const code = tooLarge
    ? ErrorCode.RECORD_TOO_LARGE
    : retriable
      ? ErrorCode.SINK_UNAVAILABLE
      : ErrorCode.SINK_REJECTED
  return new WeirError(code, `kafka ${what}: ${describe(err)}`, { cause: err, retriable })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

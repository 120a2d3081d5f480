import type { Message, MessageToProduce } from '@platformatic/kafka'
import { findErrorBy, GenericError, MultipleErrors } from '@platformatic/kafka'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { OutgoingRecord, RawRecord } from '../../core/record.ts'

const EMPTY = Buffer.alloc(0)

/** A consumed message as Weir's raw record: numbers for offsets and timestamps, string header names. */
export function toRawRecord(m: Message): RawRecord {
  const headers: Record<string, Buffer> = {}
  for (const [k, v] of m.headerEntries) headers[k.toString('utf8')] = v ?? EMPTY
  return {
    topic: m.topic,
    partition: m.partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
  }
}

/** An outgoing record as the client wants it. A null value is a tombstone. */
export function toProduced(r: OutgoingRecord): MessageToProduce {
  const m: MessageToProduce = { topic: r.topic }
  if (r.key !== null) m.key = r.key
  if (r.value !== null) m.value = r.value
  if (r.partition !== undefined) m.partition = r.partition
  if (r.timestamp !== undefined) m.timestamp = BigInt(Math.trunc(r.timestamp))
  if (r.headers !== undefined) {
    const h = new Map<Buffer, Buffer>()
    for (const [k, v] of Object.entries(r.headers)) h.set(Buffer.from(k, 'utf8'), v)
    if (h.size > 0) m.headers = h
  }
  return m
}

/** True when trying again can help: the network, a coordinator moving, a leader election. */
export function isRetriable(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (findErrorBy(err, 'code', 'PLT_KFK_NETWORK') || findErrorBy(err, 'code', 'PLT_KFK_TIMEOUT')) return true
  if (findErrorBy(err, 'canRetry', true)) return true
  return false
}

/** The first useful message inside the client's nested errors. */
export function describe(err: unknown): string {
  if (err instanceof MultipleErrors) {
    const inner = err.errors.map(describe).filter((s) => s !== '')
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

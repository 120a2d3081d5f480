import { ErrorCode, WeirError } from '../../core/errors.ts'

/**
 * Redis error replies that say "the server cannot take this now", not "this command is wrong":
 * retrying the same item later can succeed.
 */
const TRANSIENT_REPLIES = new Set([
  'LOADING',
  'BUSY',
  'OOM',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'NOREPLICAS',
  'NOAUTH',
  'MOVED',
  'ASK',
])

/** An error reply from the server (as opposed to a connection failure or timeout). */
function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError'
}

/**
 * True for an error reply that will fail again for the same item (WRONGTYPE, NOPERM, ERR syntax…).
 * Such an item goes to `onRejected`; everything else is an outage and the item is kept.
 */
export function isPermanentReply(err: unknown): boolean {
  if (!isReplyError(err)) return false
  const word = err.message.split(' ', 1)[0] ?? ''
  return !TRANSIENT_REPLIES.has(word)
}

export function unavailable(endpoint: string, cause: unknown, kept: number): WeirError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new WeirError(
    ErrorCode.SINK_UNAVAILABLE,
    `redis ${endpoint} unavailable: ${reason} (${kept} items kept for the next flush)`,
    { cause },
  )
}

export function rejected(endpoint: string, cause: unknown, kept: number): WeirError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new WeirError(
    ErrorCode.SINK_REJECTED,
    `redis ${endpoint} rejected an item: ${reason} (${kept} items kept; give the sink an onRejected handler to dead-letter such items)`,
    { cause, details: { reply: reason } },
  )
}

import type { WeirError } from '../core/errors.ts'
import type { RawRecord } from '../core/record.ts'

/**
 * What to do with a record whose processing failed:
 * - `skip`: drop it (counted and logged),
 * - `retry`: call the operator again with exponential backoff and jitter, holding the offset,
 * - `dlq`: send the original bytes to the dead-letter topic with headers saying why,
 * - `fail`: stop the pipeline without committing the record.
 */
export type ErrorAction = 'skip' | 'retry' | 'dlq' | 'fail'

export interface ErrorContext {
  readonly stage: string
  readonly attempt: number
  readonly raw: RawRecord
}

export type ErrorPolicy = (err: WeirError, ctx: ErrorContext) => ErrorAction

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  /** What to do once attempts are exhausted. */
  readonly exhausted: 'dlq' | 'fail' | 'skip'
}

export const defaultRetry: RetryOptions = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 10_000, exhausted: 'dlq' }

/** Retriable errors (a service that is down) are retried; everything else goes to the dead-letter topic. */
export const retryThenDeadLetter: ErrorPolicy = (err) => (err.retriable ? 'retry' : 'dlq')

export const errorPolicies = {
  /** The default: retry what can recover, dead-letter the rest. */
  retryThenDeadLetter,
  deadLetter: (() => 'dlq') satisfies ErrorPolicy,
  skip: (() => 'skip') satisfies ErrorPolicy,
  fail: (() => 'fail') satisfies ErrorPolicy,
} as const

/** Full-jitter exponential backoff: random in [0, min(max, initial * 2^(attempt-1))]. */
export function backoffDelay(attempt: number, retry: RetryOptions, random: () => number = Math.random): number {
  const cap = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(cap / 2 + (random() * cap) / 2)
}

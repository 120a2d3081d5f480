/**
 * Error handling for pipelines whose serdes use a schema registry. A registry outage is not the
 * record's fault: a record that cannot be read or written because the registry does not answer must
 * wait for it, not go to the dead-letter topic once a fixed number of retries runs out.
 */

import { ErrorCode } from '../../core/errors.ts'
import type { ErrorPolicy, RetryOptions } from '../../runtime/error-policy.ts'

export interface WaitForRegistryOptions {
  /** Attempts in all for every other retriable error before it is dead-lettered (default 5). */
  readonly maxAttempts?: number
  /** Longest wait between two attempts of a waiting record (default 5000 ms). */
  readonly maxDelayMs?: number
}

/**
 * Run options (`errorPolicy` and `retry`, spread into the run options) under which:
 * - a record the registry's absence holds up (REGISTRY_UNAVAILABLE, retriable: network errors,
 *   timeouts, 5xx) is retried with backoff for as long as the outage lasts; its offset is not committed
 *   meanwhile, so a restart reads it again;
 * - a registry that answers but refuses (access denied, an unexpected answer) fails the pipeline without
 *   committing the record: a configuration problem, not bad input;
 * - everything else is as by default: retriable errors are retried `maxAttempts` times then
 *   dead-lettered, the rest (bad magic byte, unknown schema id, truncated payload, …) dead-lettered.
 *
 * @example
 * await run(p, { transport, metrics, ...waitForRegistry() })
 */
export function waitForRegistry(options: WaitForRegistryOptions = {}): {
  errorPolicy: ErrorPolicy
  retry: Partial<RetryOptions>
} {
  const { maxAttempts = 5, maxDelayMs = 5000 } = options
  const errorPolicy: ErrorPolicy = (err, ctx) => {
    if (err.code === ErrorCode.REGISTRY_UNAVAILABLE) return err.retriable ? 'retry' : 'fail'
    if (!err.retriable) return 'dlq'
    return ctx.attempt < maxAttempts ? 'retry' : 'dlq'
  }
  // The policy decides when to stop; the runtime's own limit must not cut an outage short.
  return { errorPolicy, retry: { maxAttempts: Number.POSITIVE_INFINITY, maxDelayMs } }
}

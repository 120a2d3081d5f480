import type { Consumer } from '@platformatic/kafka'

type JoinCallback = (error: Error | null, memberId?: string) => void
type JoinGroup = (options?: Record<string, unknown>, callback?: JoinCallback) => unknown

/**
 * A commit that finds the member out of its generation (its session expired, or a rebalance is under
 * way) fails instead of rejoining the group from inside the commit, as @platformatic/kafka 2.12 does
 * (`#commit` calls `joinGroup({}, callback)` and retries). That join runs the join hook, whose revocation
 * waits for the runtime's checkpoint, which waits for this commit: every session expiry stalled the
 * revocation until it was given up, and the partitions came back before their state was dropped (late
 * records and lost windows after a broker frozen past the session timeout). The heartbeat sees the same
 * error and rejoins by itself; the checkpoint whose commit failed is retried in the new generation, and
 * records past the last commit are read again (at-least-once) or their transaction aborts.
 *
 * `committing` says whether a commit of the source is in flight; only then is a `joinGroup` with an
 * empty options object and a callback (the commit's call) refused. Other joins pass untouched.
 */
export function refuseRejoinFromCommit(consumer: Consumer, committing: () => boolean): void {
  const original = consumer.joinGroup.bind(consumer) as unknown as JoinGroup
  const guarded: JoinGroup = (options, callback) => {
    if (
      callback !== undefined &&
      committing() &&
      options !== undefined &&
      Object.keys(options).length === 0
    ) {
      process.nextTick(callback, new Error('not rejoining from a commit: the heartbeat rejoins the group'))
      return undefined
    }
    return original(options, callback)
  }
  consumer.joinGroup = guarded as unknown as typeof consumer.joinGroup
}

import {
  type CommitOffset,
  isGroupSource,
  isTransactionalSink,
  type RecordSink,
  type Source,
} from '../connectors/contract.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { failedBeforeKafka } from './checkpoint.ts'

/**
 * - `at-least-once`: outputs are flushed, then offsets committed to the group; a crash in between
 *   reprocesses records (outputs may repeat, none is lost).
 * - `exactly-once`: outputs, dead letters, changelogs and offsets are written in one Kafka transaction
 *   per checkpoint; read_committed readers see each record's results once. External sinks (Redis,
 *   PostgreSQL) stay at-least-once: they are flushed before the transaction commits.
 */
export type Processing = 'at-least-once' | 'exactly-once'

/** The checkpoint's commit step, and what a failed checkpoint means, for one processing guarantee. */
export interface Committer {
  readonly processing: Processing
  /** Commits the offsets (under exactly-once: with the open transaction, even when there are none). */
  commit(offsets: readonly CommitOffset[]): Promise<void>
  /**
   * Exactly-once: adds the offsets to the open transaction ahead of `commit`, while the checkpoint
   * waits for the producer's acknowledgements. `commit` then only ends the transaction.
   */
  prepare?(offsets: readonly CommitOffset[]): Promise<void>
  /**
   * A checkpoint failed. Resolves true when the next checkpoint may simply try again; false when this
   * run can commit nothing more (an aborted transaction: in-memory progress is past what is durable).
   */
  failed(err: WeirError): Promise<boolean>
}

export function atLeastOnce(source: Source): Committer {
  return {
    processing: 'at-least-once',
    commit: (offsets) => (offsets.length === 0 ? Promise.resolve() : source.commit(offsets)),
    // Nothing was committed and nothing is lost: outputs not yet durable are written again next time.
    failed: async () => true,
  }
}

/**
 * Exactly-once as Kafka Streams does it (EOS v2, KIP-447): one transactional producer per instance,
 * offsets sent to the transaction with the consumer's group metadata, so a member fenced out of the
 * group by a rebalance cannot commit. Any failed checkpoint aborts the transaction: a send may have
 * half-landed, and state, windows and positions in memory are past the last commit. The run then stops
 * as failed; restarting resumes from the last committed transaction (changelogs are read
 * read_committed, so state matches it).
 */
export function exactlyOnce(source: Source, producer: RecordSink): Committer {
  if (!isTransactionalSink(producer)) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `processing: 'exactly-once' needs a transport whose sink writes Kafka transactions (got ${producer.id})`,
    )
  }
  if (!isGroupSource(source)) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `processing: 'exactly-once' needs a consumer-group source that reports its group metadata (got ${source.id})`,
    )
  }
  let aborted: WeirError | undefined
  return {
    processing: 'exactly-once',
    async prepare(offsets) {
      if (aborted) throw aborted
      if (offsets.length === 0) return
      const group = source.groupMetadata()
      // Without a member id and generation the broker accepts a transactional offset commit unchecked,
      // even while the group has moved the partitions on: a member dropped from the group (an expired
      // session) would commit as a zombie, and the new owner's records would count twice.
      if (group.memberId === '' || group.generationId < 0)
        throw new WeirError(
          ErrorCode.TRANSACTION_ABORTED,
          `exactly-once: not a member of group ${group.groupId} now (its session expired or a rebalance is under way); offsets would commit unfenced`,
          { retriable: false },
        )
      await producer.sendOffsets(offsets, group)
    },
    async commit() {
      if (aborted) throw aborted
      await producer.commitTransaction()
    },
    async failed(err) {
      if (aborted) return false
      // An external sink down (Redis, PostgreSQL): the transaction is untouched and stays open, and the
      // checkpoint is retried, as under at-least-once. Should the outage outlast the transaction timeout,
      // the broker aborts the transaction, the commit fails, and the run stops below.
      if (failedBeforeKafka(err)) return true
      aborted = new WeirError(
        ErrorCode.TRANSACTION_ABORTED,
        `checkpoint failed under exactly-once, transaction aborted: ${err.message}`,
        { cause: err, retriable: false },
      )
      await abortWithin(producer, ABORT_WAIT_MS)
      return false
    },
  }
}

/**
 * How long a failed run waits for its abort. When the broker is the thing that is gone, the client would
 * retry the abort for ~20 s before the run could stop. Not waiting is safe: a transaction left open is
 * never visible to read_committed readers, and the broker aborts it when the next run's producer (same
 * transactional id) initialises, or at the transaction timeout.
 */
const ABORT_WAIT_MS = 2000

async function abortWithin(producer: { abortTransaction(): Promise<void> }, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  try {
    await Promise.race([producer.abortTransaction().catch(() => {}), gaveUp])
  } finally {
    clearTimeout(timer)
  }
}

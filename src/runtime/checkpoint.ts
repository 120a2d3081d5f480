import type { CommitOffset, RecordSink, Sink } from '../connectors/contract.ts'
import { tpKey } from '../core/record.ts'
import { ErrorCode, toWeirError, type WeirError } from '../core/errors.ts'
import type { OffsetTracker } from './offset-tracker.ts'
import type { Processor } from './processor.ts'

/** Checkpoint failures of step 1 (external sinks): nothing was written to Kafka by this checkpoint. */
const beforeKafka = new WeakSet<WeirError>()

/**
 * True when a checkpoint failed at its first step, flushing external sinks (Redis, PostgreSQL down):
 * state, the producer and the offsets were not touched, so an exactly-once transaction is intact and
 * the checkpoint may simply run again.
 */
export function failedBeforeKafka(err: WeirError): boolean {
  return beforeKafka.has(err)
}

export interface CheckpointParts {
  readonly tracker: OffsetTracker
  /** External sinks (Redis, PostgreSQL, …). */
  readonly sinks: ReadonlyArray<Sink<unknown>>
  /** Stateful processors write their changelogs through the producer in `flushState`. */
  readonly processors: readonly Processor[]
  /** The Kafka producer: output topics, dead letters and changelogs. */
  readonly producer: RecordSink
  /**
   * Commits offsets: to the consumer group (at-least-once) or with the producer's transaction
   * (exactly-once). Called even with no offsets: a transaction also carries records emitted by timers.
   */
  readonly commit: (offsets: readonly CommitOffset[]) => Promise<void>
  /**
   * Exactly-once: adds the offsets to the open transaction, run while step 3's records are being
   * acknowledged (neither is visible before `commit` ends the transaction).
   */
  readonly prepare?: (offsets: readonly CommitOffset[]) => Promise<void>
  /**
   * Called once step 3 has begun: the producer has fixed what this checkpoint writes (under
   * exactly-once, what the transaction holds), so records may flow again while the rest runs.
   */
  readonly sealed?: () => void
}

/**
 * The checkpoint, the one place that decides when an offset may be committed. In this order:
 *
 *   0. note the offsets that are committable now: every record below them is fully processed, so
 *      everything derived from them has been handed to a sink or a state store (under exactly-once
 *      the runner feeds no record from here until `sealed()`, see Task.holding);
 *   1. flush external sinks: their writes are durable; a sink that makes items durable only when it
 *      rolls a file (Parquet) holds the offsets of its open files back, and step 4 commits no further;
 *   2. flush state: changelog records are handed to the producer;
 *   3. flush the producer: outputs, dead letters and changelogs are acknowledged by Kafka. Under
 *      exactly-once this fixes the transaction's content: the producer keeps back what is added from
 *      now on for the next transaction, so `sealed()` lets records flow again while steps 3–5 run;
 *   4. commit the offsets noted in step 0 (under exactly-once, with the transaction holding step 3's
 *      records, so both become visible at once: `prepare` adds the offsets to the transaction while
 *      step 3's acknowledgements are awaited, then `commit` ends it);
 *   5. tell processors it completed: what they emitted before step 2 is durable now (a window whose
 *      result was emitted may delete its state from the changelog at the next checkpoint).
 *
 * If any step fails nothing is committed; the next checkpoint tries again, and on a crash the
 * records are read again (at-least-once, nothing lost).
 */
export async function runCheckpoint(parts: CheckpointParts): Promise<readonly CommitOffset[]> {
  const noted = parts.tracker.committable()
  try {
    for (const sink of parts.sinks) await sink.flush()
  } catch (err) {
    const e = toWeirError(err, ErrorCode.SINK_UNAVAILABLE)
    beforeKafka.add(e)
    throw e
  }
  const offsets = heldBack(noted, parts.sinks)
  for (const p of parts.processors) await p.flushState?.()
  const flushed = parts.producer.flush()
  parts.sealed?.()
  await bothSettled(flushed, parts.prepare?.(offsets))
  await parts.commit(offsets)
  if (offsets.length > 0) parts.tracker.markCommitted(offsets)
  for (const p of parts.processors) p.checkpointed?.()
  return offsets
}

/** Waits for both; rejects with the first failure (the other is still awaited, so none goes unhandled). */
async function bothSettled(a: Promise<void>, b: Promise<void> | undefined): Promise<void> {
  const [ra, rb] = await Promise.allSettled([a, b])
  if (ra.status === 'rejected') throw ra.reason
  if (rb.status === 'rejected') throw rb.reason
}

/** Lowers each noted offset to the first item a sink has not made durable yet (drops no-ops). */
function heldBack(
  noted: readonly CommitOffset[],
  sinks: ReadonlyArray<Sink<unknown>>,
): readonly CommitOffset[] {
  let limits: Map<string, number> | undefined
  for (const sink of sinks) {
    for (const h of sink.holdback?.() ?? []) {
      limits ??= new Map()
      const key = tpKey(h)
      limits.set(key, Math.min(limits.get(key) ?? h.offset, h.offset))
    }
  }
  if (limits === undefined) return noted
  const out: CommitOffset[] = []
  for (const o of noted) {
    const limit = limits.get(tpKey(o))
    out.push(limit === undefined || o.offset <= limit ? o : { ...o, offset: limit })
  }
  return out
}

import type { RecordSink } from '../connectors/contract.ts'
import type { Clock } from '../core/clock.ts'
import type { WeirError } from '../core/errors.ts'
import type { MetricsRegistry } from '../core/metrics.ts'
import type { RawRecord, TopicPartition, WeirRecord } from '../core/record.ts'
import type { Logger } from '../log/logger.ts'
import type { QueryableStore } from '../state/query.ts'
import type { Processing } from './commit.ts'

/** Any record between two processors; the DSL keeps the real types, the runtime doesn't need them. */
// biome-ignore lint/suspicious/noExplicitAny: the compiled graph is type-erased; the DSL carries the types
export type AnyRecord = WeirRecord<any, any>

/** Hands a record to the next processors. May return a promise when a downstream step is async. */
export type Emit = (record: AnyRecord, ctx: RecordContext) => void | Promise<void>

/** Named outputs of a router (split's branches, validate's `invalid`); undefined when nothing listens. */
export interface Outputs {
  port(name: string): Emit | undefined
}

/**
 * What a processor knows about the input record behind the record it is handling: the original bytes
 * (for dead letters) and a way to hold the input's offset uncommitted until an output derived from it
 * is safely written (a window that will emit later holds it).
 */
export interface RecordContext {
  readonly raw: RawRecord
  /** Keeps the input offset from being committed until the returned release is called. */
  hold(): () => void
  /** Attempt number of the current operator call (1 on the first try). */
  readonly attempt: number
}

/** Services a processor may use; given once when the task starts. */
export interface ProcessorInit {
  readonly appName: string
  readonly clock: Clock
  readonly logger: Logger
  readonly metrics: MetricsRegistry
  /** Emits records the processor produces on its own (timers, window closes), not in reply to an input. */
  readonly emit: Emit
  /** Reports an error raised outside `process` (e.g. in a timer) to the pipeline's error policy. */
  readonly fail: (err: WeirError, ctx: RecordContext) => void
  /** The Kafka producer the task writes through; state stores send changelog records here. */
  readonly producer: RecordSink
  /** The pipeline's processing guarantee (see runtime/commit.ts). */
  readonly processing: Processing
  /**
   * True while an exactly-once checkpoint runs: emit nothing on your own then (timers wait), so the
   * transaction holds exactly what the committed offsets and state account for.
   */
  readonly quiet: () => boolean
  /**
   * When the source last had handed out everything input partition `topic:partition` held (on `clock`);
   * undefined while it has not (lag, or Kafka unreachable). Absent when the source cannot tell: its
   * input is always at hand. Windows close on the wall clock only up to this time.
   */
  readonly inputCaughtUpAt?: (tp: string) => number | undefined
  /**
   * Since when the source has reached input partition `topic:partition` without a break (on `clock`);
   * undefined while it saw none. Quiet before it (an outage, which held up producers too) is not counted.
   */
  readonly inputReachableSince?: (tp: string) => number | undefined
  /** Reads a partition from the start (or `from`) to its current end: restores state from a changelog. */
  readonly readPartition: (tp: TopicPartition, options?: { from?: number }) => AsyncIterable<readonly RawRecord[]>
  /** Partitions of a topic (0 if it does not exist): joins check co-partitioning, global tables load all. */
  readonly partitionCount?: (topic: string) => Promise<number>
}

/** A node of the compiled graph. One small file per operator implements one of these. */
export interface Processor {
  /** Name used in metrics, logs, dead-letter headers and (for stateful ones) state and changelog names. */
  readonly name: string
  process(record: AnyRecord, ctx: RecordContext, emit: Emit, outputs: Outputs): void | Promise<void>
  init?(init: ProcessorInit): void | Promise<void>
  /** Partitions arrive (restore state for them before their records are processed). */
  assigned?(partitions: readonly TopicPartition[]): void | Promise<void>
  /** Partitions leave (flush what depends on them; drop their state). */
  revoked?(partitions: readonly TopicPartition[]): void | Promise<void>
  /** Makes state durable; called by the checkpoint between flushing sinks and flushing the producer. */
  flushState?(): void | Promise<void>
  /**
   * The checkpoint completed: everything emitted before its `flushState` is durable (windows may now
   * delete the state of results they emitted). Not called when a checkpoint fails.
   */
  checkpointed?(): void
  /** The input is no longer read (the pipeline is stopping): quiet from now on is not a lack of data. */
  inputPaused?(): void
  /** Emits what is pending at a clean shutdown (e.g. wall-clock windows), before the final checkpoint. */
  drain?(): void | Promise<void>
  close?(): void | Promise<void>
  /** Named stores this processor lets interactive queries read (tables, named aggregates). */
  stores?(): readonly QueryableStore[]
}

export function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

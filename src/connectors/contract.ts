import type { WeirError } from '../core/errors.ts'
import type { OutgoingRecord, RawRecord, TopicPartition } from '../core/record.ts'

/**
 * The one connector contract. A source yields batches of raw records and commits offsets it is given;
 * a sink buffers in `add` and makes everything durable in `flush`, which only the checkpoint calls.
 * Every implementation runs the same contract test (test/integration/connector-contract.test.ts).
 */

export interface ConnectorStatus {
  readonly connected: boolean
  /** Why it is not connected (the last error), for /health and logs. */
  readonly message?: string
}

export interface CommitOffset extends TopicPartition {
  /** The next offset to read, i.e. last processed + 1 (Kafka's convention). */
  readonly offset: number
}

/** Called by a source when partitions move. `revoked` resolves once the runtime drained and committed them. */
export interface RebalanceListener {
  assigned(partitions: readonly TopicPartition[]): Promise<void>
  /**
   * `givenUp`, when the source has a deadline for revocation, aborts if the source had to give the
   * partitions up before `revoked` finished: a commit made after that may race their new owner.
   */
  revoked(partitions: readonly TopicPartition[], givenUp?: AbortSignal): Promise<void>
}

export interface Source {
  readonly id: string
  /** Connects and joins; the listener hears of every assignment change. */
  open(listener: RebalanceListener): Promise<void>
  /**
   * Batches of records in per-partition offset order. Not pulling is the backpressure: a source
   * must not buffer without bound while its consumer is slow. Records of a partition revoked after
   * their batch was handed out are stale: the runner drops them, as the partition's next assignment
   * reads from the last commit.
   */
  batches(): AsyncIterable<readonly RawRecord[]>
  commit(offsets: readonly CommitOffset[]): Promise<void>
  /** Stops fetching; `batches()` ends after what was already fetched. */
  stop(): Promise<void>
  close(): Promise<void>
  status(): ConnectorStatus
  /**
   * Optional: wall time (Date.now()) as of which the source had handed out everything partition
   * `topic:partition` held; undefined while not known (lag, or the broker unreachable since assignment).
   * Windows close on the wall clock only up to it. A source without it has its input always at hand.
   */
  caughtUpAt?(tp: string): number | undefined
  /**
   * Optional, with `caughtUpAt`: wall time since which the source has reached partition `tp` without a
   * break (no failed or hung read); undefined while it saw none. Producers lost the broker too, so quiet
   * before it is no lack of data: windows do not count it.
   */
  reachableSince?(tp: string): number | undefined
}

export interface Sink<T> {
  readonly id: string
  open(): Promise<void>
  /** Buffers one item. May start sending in the background, but durability is only promised by flush. */
  add(item: T): void
  /** Resolves once every item added before the call is durably written; rejects if any was not. */
  flush(): Promise<void>
  /** Items added but not yet flushed; the runtime stops pulling input when this grows too large. */
  backlog(): number
  close(): Promise<void>
  status(): ConnectorStatus
  /**
   * Optional: items the destination refuses for good (bad data, not an outage). The runtime gives the
   * sink its dead-letter path here before `open`; a handler the sink was built with takes precedence.
   * Items handed over during `flush` are dead-lettered before the checkpoint commits any offset.
   */
  deadLetters?(handler: (item: T, err: WeirError) => void): void
  /**
   * Optional, for sinks that make items durable later than `flush` (files rolled by size or time):
   * per source partition, the offset of the first item not durable yet. The checkpoint commits no
   * offset past it, so a crash replays those records.
   */
  holdback?(): readonly CommitOffset[]
  /** Optional: these partitions move elsewhere; make their items durable now (the revoke commits them). */
  revoked?(partitions: readonly TopicPartition[]): Promise<void>
}

/** A sink of Kafka-shaped records (Kafka itself, or the in-process transport). */
export type RecordSink = Sink<OutgoingRecord>

/** Who is consuming, as a transactional offset commit needs it (Kafka's ConsumerGroupMetadata). */
export interface ConsumerGroupMetadata {
  readonly groupId: string
  /** '' and -1 when unknown: the broker then skips its zombie-fencing check. */
  readonly memberId: string
  readonly generationId: number
  readonly coordinatorId?: number
}

/** A source in a consumer group whose offsets a transactional sink can commit (exactly-once). */
export interface GroupSource extends Source {
  groupMetadata(): ConsumerGroupMetadata
}

/**
 * A record sink that writes inside transactions and commits consumed offsets in them, so outputs and
 * offsets become visible together or not at all (Kafka's exactly-once).
 */
export interface TransactionalSink extends RecordSink {
  readonly transactional: boolean
  sendOffsets(offsets: readonly CommitOffset[], group: ConsumerGroupMetadata): Promise<void>
  /** Flushes, then commits the open transaction (a no-op when none is open). */
  commitTransaction(): Promise<void>
  /** Drops everything since the last commit; read_committed readers never see it. */
  abortTransaction(): Promise<void>
}

export function isTransactionalSink(sink: RecordSink): sink is TransactionalSink {
  return (sink as Partial<TransactionalSink>).transactional === true
}

export function isGroupSource(source: Source): source is GroupSource {
  return typeof (source as Partial<GroupSource>).groupMetadata === 'function'
}

/** Topic administration a transport offers: the runtime creates the topics a pipeline declares. */
export interface TopicSpec {
  readonly name: string
  readonly partitions: number
  readonly replicationFactor: number
  readonly config?: Readonly<Record<string, string>>
}

export interface Admin {
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>
  /** End offsets (high watermarks) of each partition, for lag. */
  endOffsets(topics: readonly string[]): Promise<Map<string, number>>
  /** Partition count of each existing topic (missing topics are absent). */
  partitions(topics: readonly string[]): Promise<Map<string, number>>
  /**
   * Optional: the group's members as the coordinator sees them now, with each member's advertised
   * address and assigned partitions (interactive queries forward to the owner). Absent on a transport
   * with no consumer groups (the in-process one: one instance holds everything).
   */
  groupMembers?(groupId: string): Promise<GroupMembers>
  /** Deletes each partition's records before the given offset (repartition topics: what was committed). */
  deleteRecords?(before: readonly CommitOffset[]): Promise<void>
  close(): Promise<void>
}

/** A consumer group's members and who owns what (see `Admin.groupMembers`). */
export interface GroupMembers {
  /** The coordinator's group state; assignments are current only when `Stable`. */
  readonly state: string
  readonly members: ReadonlyArray<{
    readonly memberId: string
    /** The `host:port` the member advertised, if any. */
    readonly address: string | undefined
    readonly partitions: readonly TopicPartition[]
  }>
}

/**
 * A transport binds topic names to real connectors: Kafka in production, an in-process log for the demo.
 * The same pipeline code runs on either.
 */
export interface Transport {
  readonly kind: string
  source(options: SourceOptions): Source
  sink(options: SinkOptions): RecordSink
  admin(): Admin
  /**
   * Reads one partition from `from` (default: the beginning) up to its end offset at the time of the
   * call, outside any consumer group: how state stores restore from their changelog topics.
   */
  readPartition(tp: TopicPartition, options?: { from?: number }): AsyncIterable<readonly RawRecord[]>
}

export interface SourceOptions {
  readonly groupId: string
  readonly clientId: string
  readonly topics: readonly string[]
  readonly fromBeginning: boolean
  /** Upper bound on records per batch handed to the runtime. */
  readonly maxBatch?: number
  /**
   * Static membership (Kafka's `group.instance.id`): a member that restarts with the same id within the
   * session timeout gets its partitions back without a rebalance. Unique per instance.
   */
  readonly groupInstanceId?: string
  /**
   * Interactive queries: this instance's `host:port`, advertised to the other members in the group's
   * member metadata (Kafka Streams' `application.server`), so a query for a key another member owns
   * can be forwarded to it (see `Admin.groupMembers`).
   */
  readonly advertisedAddress?: string
}

export interface SinkOptions {
  readonly clientId: string
  /** When set, the sink writes inside Kafka transactions with this id (exactly-once). */
  readonly transactionalId?: string
}

import {
  Consumer,
  type ConsumerGroupJoinPayload,
  FetchIsolationLevels,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka'
import type {
  CommitOffset,
  ConnectorStatus,
  RebalanceListener,
  Source,
  SourceOptions,
} from '../../connectors/contract.ts'
import type { WeirError } from '../../core/errors.ts'
import { type RawRecord, type TopicPartition, tpKey } from '../../core/record.ts'
import type { Logger } from '../../log/logger.ts'
import { filterAbortedFetches } from './aborted.ts'
import { copartitionedAssigner } from './assignor.ts'
import { CaughtUp } from './caught-up.ts'
import { refuseRejoinFromCommit } from './commit-rejoin.ts'
import { describe, sleep, sourceError, toRawRecord } from './convert.ts'
import { encodeMemberData } from './member-data.ts'
import { baseClientOptions, consumerDefaults, type KafkaOptions, loggerOf } from './options.ts'
import { OwnedPartitions } from './owned.ts'

/** Who is committing, as a transaction needs it (Kafka's ConsumerGroupMetadata). */
export interface GroupMetadata {
  readonly groupId: string
  /** '' and -1 when unknown: the broker then skips its zombie-fencing check. */
  readonly memberId: string
  readonly generationId: number
  /** Broker id of the group coordinator, when known. */
  readonly coordinatorId?: number
}

const DEFAULT_MAX_BATCH = 500

/**
 * A Kafka consumer-group member. Offsets are committed only through `commit()`.
 *
 * Rebalances use the classic protocol, eager, with an assignor keeping partition p of every topic on one
 * member (see assignor.ts). Before the member rejoins,
 * `listener.revoked(all owned)` is awaited (from the client's join hook, so nothing is given up before it
 * resolves, or before a deadline under the rebalance timeout, when its `givenUp` signal aborts); after
 * the join, `listener.assigned(new assignment)` is awaited before any record of the new assignment is
 * handed out. Each assignment reads from a fresh client stream positioned at the committed
 * offsets, so records prefetched for an old assignment are never delivered.
 *
 * @example
 * const source = kafkaTransport({ brokers: ['127.0.0.1:9092'] }).source({ groupId: 'g', clientId: 'c', topics: ['t'], fromBeginning: true })
 * await source.open({ assigned: async () => {}, revoked: async () => {} })
 * for await (const batch of source.batches()) { ...; await source.commit([{ topic, partition, offset: last + 1 }]) }
 */
export class KafkaSource implements Source {
  readonly id: string
  readonly #kafka: KafkaOptions
  readonly #options: SourceOptions
  readonly #log: Logger
  #consumer: Consumer | undefined
  #listener: RebalanceListener | undefined
  #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined
  /** Partitions this member owns, each with the next offset to hand out. */
  #owned = new OwnedPartitions()
  /** False while a rebalance is under way: nothing is handed out then. */
  #ready = false
  #generation = 0
  #opening = false
  /** The revocation asked for by the join hook, until it is over. */
  #revocation: Promise<void> | undefined
  /** Commits under way (see refuseRejoinFromCommit). */
  #commitsInFlight = 0
  /** Partitions the listener was told are assigned and not revoked since. */
  #delivered: readonly TopicPartition[] = []
  /** The last listener call asked for (see #inListenerTurn). */
  #listenerTurn: Promise<void> = Promise.resolve()
  #stopped = false
  #closed = false
  #error: WeirError | undefined
  #wake: (() => void) | undefined
  /** Serialises stream replacement, recovery and rejoin. */
  #ops: Promise<void> = Promise.resolve()
  #recovering = false
  #restarts = 0
  /** When each partition was last read to its end (for windows that close on the wall clock). */
  readonly #caughtUp: CaughtUp
  /** Sent with every JoinGroup (member metadata): the advertised address for interactive queries. */
  readonly #memberData: Buffer

  constructor(kafka: KafkaOptions, options: SourceOptions) {
    this.#kafka = kafka
    this.#options = options
    this.id = `kafka:${options.groupId}:${options.topics.join(',')}`
    this.#log = loggerOf(kafka).child({ connector: 'kafka-source', groupId: options.groupId })
    this.#memberData = encodeMemberData(options.advertisedAddress)
    this.#caughtUp = new CaughtUp(kafka.consumer?.maxWaitMs ?? consumerDefaults.maxWaitMs)
  }

  async open(listener: RebalanceListener): Promise<void> {
    if (this.#consumer) throw new Error('KafkaSource.open called twice')
    this.#listener = listener
    const t = { ...consumerDefaults, ...this.#kafka.consumer }
    const consumer = new Consumer({
      ...baseClientOptions(this.#kafka, this.#options.clientId),
      groupId: this.#options.groupId,
      ...(this.#options.groupInstanceId === undefined
        ? {}
        : { groupInstanceId: this.#options.groupInstanceId }),
      autocommit: false,
      sessionTimeout: t.sessionTimeoutMs,
      heartbeatInterval: t.heartbeatIntervalMs,
      rebalanceTimeout: t.rebalanceTimeoutMs,
      maxWaitTime: t.maxWaitMs,
      maxBytes: t.maxBytes,
      maxBytesPerPartition: t.maxBytesPerPartition,
      highWaterMark: t.highWaterMark,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      protocolsMetadata: () => this.#beforeJoin(),
      partitionAssigner: copartitionedAssigner,
    })
    filterAbortedFetches(consumer)
    refuseRejoinFromCommit(consumer, () => this.#commitsInFlight > 0)
    this.#caughtUp.watch(consumer)
    this.#consumer = consumer
    consumer.on('error', (err: Error) => this.#onGroupFailure(err))
    consumer.on('consumer:group:join', (p) => this.#onJoin(p))
    consumer.on('consumer:heartbeat:error', (p) => this.#setError(sourceError('heartbeat', p.error)))
    consumer.on('consumer:heartbeat:end', () => {
      this.#error = undefined
      this.#restarts = 0
    })
    this.#opening = true
    try {
      this.#stream = await this.#consume()
    } catch (err) {
      this.#opening = false
      const e = sourceError(`cannot join group ${this.#options.groupId}`, err)
      this.#setError(e)
      await consumer.close(true).catch(() => {})
      this.#consumer = undefined
      throw e
    }
    this.#opening = false
    // Hold the topics once more, so that replacing a stream never looks like a new subscription (rejoin).
    consumer.topics.trackAll(...this.#options.topics)
    this.#error = undefined
    this.#wakeUp()
  }

  async *batches(): AsyncIterable<readonly RawRecord[]> {
    const max = Math.max(1, this.#options.maxBatch ?? DEFAULT_MAX_BATCH)
    for (;;) {
      if (this.#closed) return
      const stream = this.#stream
      if (this.#ready && stream !== undefined && !stream.destroyed) {
        const batch = this.#drain(stream, max)
        if (batch.length > 0) {
          yield batch
          continue
        }
        // Asked again after the last batch and nothing is left: what the fetches found is handed out.
        this.#caughtUp.drained()
      }
      if (this.#stopped) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    const consumer = this.#consumer
    if (!consumer) throw sourceError('commit', new Error('source is not open'))
    // Offsets of partitions this member no longer owns belong to another member now.
    const mine = offsets.filter((o) => this.#owned.has(o))
    if (mine.length < offsets.length) {
      this.#log.warn('skipping commit of partitions not owned', { count: offsets.length - mine.length })
    }
    if (mine.length === 0) return
    this.#commitsInFlight++
    try {
      await consumer.commit({
        offsets: mine.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: BigInt(o.offset),
          leaderEpoch: -1,
        })),
      })
    } catch (err) {
      throw sourceError('commit', err)
    } finally {
      this.#commitsInFlight--
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#stream?.pause()
    this.#wakeUp()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#stopped = true
    this.#closed = true
    this.#wakeUp()
    const consumer = this.#consumer
    const stream = this.#stream
    this.#stream = undefined
    await stream?.close().catch(() => {})
    if (consumer) await consumer.close(true).catch((err) => this.#log.warn('close failed', { err }))
  }

  status(): ConnectorStatus {
    if (this.#closed) return { connected: false, message: 'closed' }
    if (this.#error) return { connected: false, message: this.#error.message }
    if (!this.#consumer?.isConnected()) return { connected: false, message: 'not connected' }
    return { connected: true }
  }

  /** The partitions this member owns now. */
  assignment(): readonly TopicPartition[] {
    return this.#owned.list
  }

  /**
   * Wall time (Date.now()) as of which everything Kafka held for partition `topic:partition` was handed
   * out; undefined while it is not known (a backlog is read, or Kafka cannot be reached since assignment).
   */
  caughtUpAt(tp: string): number | undefined {
    return this.#caughtUp.at(tp)
  }

  /**
   * Wall time (Date.now()) since which partition `topic:partition`'s broker has answered without a break
   * (no failed or hung fetch); undefined while none was seen.
   */
  reachableSince(tp: string): number | undefined {
    return this.#caughtUp.reachableSince(tp)
  }

  /** Records the client fetched that `batches()` has not handed out yet (bounded by the high-water mark). */
  bufferedRecords(): number {
    return this.#stream?.readableLength ?? 0
  }

  /** What a transactional sink needs to commit this group's offsets (see KafkaSink.sendOffsets). */
  groupMetadata(): GroupMetadata {
    const c = this.#consumer
    const meta: GroupMetadata = {
      groupId: this.#options.groupId,
      memberId: c?.memberId ?? '',
      generationId: c?.memberId ? c.generationId : -1,
    }
    return c?.coordinatorId == null ? meta : { ...meta, coordinatorId: c.coordinatorId }
  }

  /** Reads what the client buffered, keeping only owned partitions and offsets not yet handed out. */
  #drain(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, max: number): RawRecord[] {
    const out: RawRecord[] = []
    const owned = this.#owned
    while (out.length < max) {
      const m = stream.read() as Message | null
      if (m === null) break
      const next = owned.next(m.topic, m.partition)
      if (next === undefined) continue
      const offset = Number(m.offset)
      if (offset < next) continue
      owned.advance(m.topic, m.partition, offset + 1)
      out.push(toRawRecord(m, offset))
    }
    return out
  }

  #consume(): Promise<MessagesStream<Buffer, Buffer, Buffer, Buffer>> {
    const consumer = this.#consumer
    if (!consumer) return Promise.reject(new Error('source is not open'))
    const t = { ...consumerDefaults, ...this.#kafka.consumer }
    return consumer
      .consume({
        topics: [...this.#options.topics],
        autocommit: false,
        mode: 'committed',
        fallbackMode: this.#options.fromBeginning ? 'earliest' : 'latest',
        highWaterMark: t.highWaterMark,
        maxWaitTime: t.maxWaitMs,
      })
      .then((stream) => {
        stream.on('readable', () => this.#wakeUp())
        stream.on('error', (err: Error) => this.#onStreamError(stream, err))
        stream.on('close', () => this.#wakeUp())
        return stream
      })
  }

  /** The client's join hook: runs before every JoinGroup, so revocation completes before partitions move. */
  async #beforeJoin(): Promise<Buffer> {
    // A join asked for during a revocation (after an expired session both the heartbeat and a failed
    // rejoin can ask) goes ahead rather than wait on what the revocation waits on; its assignment reaches
    // the listener after the revocation (see #onJoin).
    if (this.#revocation !== undefined) return this.#memberData
    if (this.#owned.size === 0 && this.#delivered.length === 0) return this.#memberData
    const owned = this.#owned
    this.#ready = false
    this.#stream?.pause()
    const revocation = this.#inListenerTurn(async () => {
      try {
        await this.#revoke()
      } finally {
        // A join that completed meanwhile owns what it was assigned: clearing that would hand out nothing.
        if (this.#owned === owned) this.#owned = new OwnedPartitions()
        this.#revocation = undefined
      }
    })
    this.#revocation = revocation
    await revocation
    return this.#memberData
  }

  /** Tells the listener the partitions it holds are revoked, within the group's timeouts; never throws. */
  async #revoke(): Promise<void> {
    const revoked = this.#delivered
    this.#delivered = []
    if (revoked.length === 0) return
    const t = { ...consumerDefaults, ...this.#kafka.consumer }
    const givenUp = new AbortController()
    try {
      this.#log.info('partitions revoked', { partitions: revoked.map(tpKey) })
      const limit = Math.max(1000, Math.min(t.sessionTimeoutMs, t.rebalanceTimeoutMs) - 2000)
      const timedOut = await Promise.race([
        this.#listener?.revoked(revoked, givenUp.signal).then(() => false),
        sleep(limit).then(() => true),
      ])
      if (timedOut) {
        this.#log.warn('revoked() did not finish in time; giving the partitions up anyway', { limit })
        // Before the join: the runtime hears of it while this member still cannot be given anything.
        givenUp.abort()
      }
    } catch (err) {
      this.#log.warn('revoked() failed; giving the partitions up anyway', { err })
    }
  }

  /**
   * Runs a listener call after those asked for before it: `assigned` and `revoked` never overlap, and
   * the listener hears of partitions leaving before they arrive again.
   */
  #inListenerTurn(call: () => Promise<void>): Promise<void> {
    const turn = this.#listenerTurn.then(call)
    this.#listenerTurn = turn.catch(() => {})
    return turn
  }

  #onJoin(payload: ConsumerGroupJoinPayload): void {
    const assigned: TopicPartition[] = []
    for (const a of payload.assignments ?? []) {
      for (const partition of a.partitions) assigned.push({ topic: a.topic, partition })
    }
    assigned.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    this.#owned = new OwnedPartitions(assigned)
    this.#caughtUp.retain(new Set(assigned.map(tpKey)))
    this.#ready = false
    const generation = ++this.#generation
    const replace = !this.#opening
    this.#enqueue(async () => {
      if (replace) await this.#replaceStream()
      if (generation !== this.#generation) return
      await this.#inListenerTurn(async () => {
        if (generation !== this.#generation) return
        // A join that completed during a revocation revoked nothing itself: what the listener still holds
        // from the join before goes first (checkpointed, as any revocation).
        await this.#revoke()
        this.#log.info('partitions assigned', { partitions: assigned.map(tpKey) })
        this.#delivered = assigned
        try {
          await this.#listener?.assigned(assigned)
        } catch (err) {
          this.#log.error('assigned() failed', { err })
        }
      })
      if (generation === this.#generation && this.#revocation === undefined) {
        this.#ready = true
        this.#wakeUp()
      }
    })
  }

  /** A fresh stream at the committed offsets; the old one (and whatever it prefetched) is dropped. */
  async #replaceStream(): Promise<void> {
    const old = this.#stream
    this.#stream = undefined
    this.#caughtUp.restart()
    old?.pause()
    if (this.#closed) return
    try {
      this.#stream = await this.#consume()
    } catch (err) {
      this.#setError(sourceError('consume', err))
      this.#recover()
    } finally {
      old?.close().catch(() => {})
      this.#wakeUp()
    }
  }

  #onStreamError(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, err: Error): void {
    if (stream !== this.#stream || this.#closed) return
    this.#setError(sourceError('fetch', err))
    this.#stream = undefined
    this.#caughtUp.restart()
    this.#recover()
  }

  /** Builds a new stream until one works (the broker may be away for a while). */
  #recover(): void {
    if (this.#recovering || this.#closed) return
    this.#recovering = true
    this.#enqueue(async () => {
      // Backoff grows across restarts (a new stream only fails once it fetches) until a heartbeat succeeds.
      while (!this.#closed && !this.#stopped && this.#stream === undefined) {
        await sleep(Math.min(5000, 250 * 2 ** this.#restarts++))
        if (this.#closed || this.#stream !== undefined) break
        try {
          this.#stream = await this.#consume()
          this.#log.info('stream restarted', { restarts: this.#restarts })
          this.#wakeUp()
        } catch (err) {
          this.#setError(sourceError('reconnect', err))
        }
      }
      this.#recovering = false
    })
  }

  /** The client stops heartbeating when a rejoin fails for good: join again ourselves. */
  #onGroupFailure(err: Error): void {
    this.#setError(sourceError('group membership', err))
    if (this.#closed) return
    this.#enqueue(async () => {
      for (let attempt = 0; !this.#closed; attempt++) {
        try {
          await this.#consumer?.joinGroup({})
          return
        } catch (e) {
          this.#setError(sourceError('rejoin', e))
          await sleep(Math.min(5000, 250 * 2 ** attempt))
        }
      }
    })
  }

  #enqueue(op: () => Promise<void>): void {
    this.#ops = this.#ops.then(op).catch((err) => this.#log.error('kafka source operation failed', { err }))
  }

  #setError(err: WeirError): void {
    if (this.#error?.message !== err.message) this.#log.warn('kafka source error', { err: describe(err) })
    this.#error = err
  }

  #wakeUp(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}

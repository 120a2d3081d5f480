import {
  Admin,
  type Consumer,
  FindCoordinatorKeyTypes,
  findErrorBy,
  type Message,
  type MessageRecord,
  type MessageToProduce,
  ProduceAcks,
  Producer,
  txnOffsetCommitV4,
} from '@platformatic/kafka'
import type { CommitOffset, ConnectorStatus, RecordSink, SinkOptions } from '../../connectors/contract.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { OutgoingRecord } from '../../core/record.ts'
import type { Logger } from '../../log/logger.ts'
import { gzipOnCallingThread, isLeveled, useCompressionLevel } from './compression.ts'
import { sinkError, toProduced } from './convert.ts'
import {
  baseClientOptions,
  CONCURRENT_RETRY_MS,
  type KafkaOptions,
  loggerOf,
  producerDefaults,
} from './options.ts'
import { SendQueue } from './send-queue.ts'
import type { GroupMetadata } from './source.ts'

export interface KafkaSinkOptions extends SinkOptions {
  /**
   * Gets each record Kafka refuses for good (too large, invalid), e.g. to dead-letter it; the records
   * around it are written. Without it, a refused record stays buffered and every flush rejects.
   */
  readonly onRejected?: (record: OutgoingRecord, err: WeirError) => void | Promise<void>
}

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>

/** How long a transaction's first request may keep meeting CONCURRENT_TRANSACTIONS before it fails. */
const COORDINATOR_BUSY_MS = 10_000

/** How long opening a transactional sink may keep meeting CONCURRENT_TRANSACTIONS (Java: max.block.ms). */
const INIT_PRODUCER_ID_MS = 60_000

/**
 * Runs a transaction request again while the coordinator answers CONCURRENT_TRANSACTIONS: it is still
 * writing the previous transaction's markers, and the first request of the next one (AddPartitionsToTxn
 * or AddOffsetsToTxn) meets that after most commits, for a few ms. The client retries it every 10 ms
 * (see retryDelay in options.ts) only as often as any request; Kafka's Java producer retries it every
 * 20 ms until its delivery timeout. The request changed nothing when it got that answer, so repeating
 * it is safe.
 */
/** The transaction coordinator answered CONCURRENT_TRANSACTIONS (also when `sinkError` wrapped it). */
function coordinatorBusy(err: unknown): boolean {
  const cause = err instanceof WeirError ? err.cause : err
  return cause instanceof Error && findErrorBy(cause, 'apiId', 'CONCURRENT_TRANSACTIONS') !== null
}

async function whileCoordinatorBusy<T>(request: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + COORDINATOR_BUSY_MS
  for (;;) {
    try {
      return await request()
    } catch (err) {
      if (!coordinatorBusy(err) || performance.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, CONCURRENT_RETRY_MS))
    }
  }
}

/**
 * Writes records to Kafka. `add()` only buffers; a background loop sends what accumulated (once the
 * oldest record has waited `lingerMs`, by default at the end of the event-loop turn, or at once when a
 * full chunk is waiting) with one request in flight at a time, so records keep their order. `flush()` resolves when everything added before it is acknowledged by all
 * in-sync replicas, and rejects if a send fails; failed records stay buffered (see SendQueue).
 *
 * With `transactionalId` the sink writes inside Kafka transactions. A transaction begins on the first
 * record (or offsets) after the previous one ended; the checkpoint then runs
 * `flush()` → `sendOffsets(offsets, source.groupMetadata())` → `commitTransaction()`, or
 * `abortTransaction()` to drop everything since the last commit. `flush()` (or `commitTransaction()`)
 * fixes what the open transaction holds: records added after it are buffered, not sent, until the
 * transaction has ended, and then go in the next one. So the caller may go on adding while a
 * transaction commits.
 *
 * @example
 * const sink = kafkaTransport({ brokers: ['127.0.0.1:9092'] }).sink({ clientId: 'out' })
 * await sink.open()
 * sink.add({ topic: 't', key: null, value: Buffer.from('hi') })
 * await sink.flush()
 */
export class KafkaSink implements RecordSink {
  readonly id: string
  readonly #kafka: KafkaOptions
  readonly #options: KafkaSinkOptions
  readonly #log: Logger
  readonly #queue: SendQueue
  #producer: Producer | undefined
  #tx: Transaction | undefined
  #txBegin: Promise<Transaction> | undefined
  #lastError: WeirError | undefined
  /**
   * A send failed inside the open transaction. Its chunk may have been written even so, and a resend
   * would write it again, so that transaction may only be aborted.
   */
  #txSendFailed: WeirError | undefined
  /**
   * The open transaction has reached the broker (a partition or the group's offsets were added to it).
   * Until then the coordinator has nothing to end: an EndTxn for it fails with INVALID_TXN_STATE, so
   * an untouched transaction is ended on the client only.
   */
  #txTouched = false
  /** The open transaction's first send has added its partitions (see #addPartitions). */
  #txPartitionsAdded = false
  /** Output partitions written in the open transaction, and in the one before (`topic` → partitions). */
  #txPartitions = new Map<string, Set<number>>()
  #lastTxPartitions = new Map<string, Set<number>>()
  /** Partition counts from the client's metadata: a keyed record's partition is its hash modulo this. */
  #partitionCounts = new Map<string, number>()
  #closed = false

  constructor(kafka: KafkaOptions, options: KafkaSinkOptions) {
    this.#kafka = kafka
    this.#options = options
    this.id = `kafka:${options.clientId}`
    this.#log = loggerOf(kafka).child({ connector: 'kafka-sink', clientId: options.clientId })
    const p = { ...producerDefaults, ...kafka.producer }
    this.#queue = new SendQueue({
      send: (chunk) => this.#send(chunk),
      toError: (err) => sinkError('send', err),
      lingerMs: Math.max(0, p.lingerMs),
      maxRecords: Math.max(1, p.maxBatchRecords),
      // A request carries one record batch per partition, which the broker caps (message.max.bytes,
      // 1 MiB by default): bound chunks by bytes as well as by count.
      maxBytes: Math.max(1024, p.maxBatchBytes),
      recordLimit: {
        bytes: p.maxRecordBytes,
        refusal: (bytes) =>
          new WeirError(
            ErrorCode.RECORD_TOO_LARGE,
            `kafka send: record of ~${bytes} bytes is over maxRecordBytes (${p.maxRecordBytes}); not sent`,
            { retriable: false },
          ),
      },
      ...(options.onRejected ? { onRejected: options.onRejected } : {}),
      onOutcome: (err) => {
        if (err) this.#log.warn('send failed', { err })
        if (err && this.transactional) this.#txSendFailed ??= err
        this.#lastError = err
      },
      // Part of the refused request may be written: the transaction can only be aborted (the refused-record
      // search goes on in it, but nothing of it becomes visible).
      onRefused: (err) => {
        if (this.transactional) this.#txSendFailed ??= err
      },
    })
  }

  get transactional(): boolean {
    return this.#options.transactionalId !== undefined
  }

  /**
   * Connects; a transactional sink also gets its producer id, which fences an older instance with the
   * same transactional id and aborts its open transaction. Until that abort is written the coordinator
   * answers CONCURRENT_TRANSACTIONS (a kill -9 mid-commit: up to seconds under load), and the client
   * gives up after a few tries; like Kafka's Java producer (max.block.ms), this goes on for up to 60 s.
   */
  async open(): Promise<void> {
    const deadline = performance.now() + INIT_PRODUCER_ID_MS
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#openOnce()
      } catch (err) {
        if (!this.transactional || !coordinatorBusy(err) || performance.now() > deadline) throw err
        const producer = this.#producer
        this.#producer = undefined
        this.#tx = undefined
        // The client keeps the failed transaction as its current one: a new producer starts clean.
        await producer?.close().catch(() => {})
        this.#log.info('transaction coordinator still ending the previous transaction; retrying', { attempt })
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)))
      }
    }
  }

  async #openOnce(): Promise<void> {
    if (this.#producer) return
    const p = { ...producerDefaults, ...this.#kafka.producer }
    if (p.compression === 'gzip') gzipOnCallingThread()
    if (p.compressionLevel !== undefined && isLeveled(p.compression))
      useCompressionLevel(p.compression, p.compressionLevel)
    const idempotent = this.transactional || p.idempotent
    const producer = new Producer({
      ...baseClientOptions(this.#kafka, this.#options.clientId),
      idempotent,
      acks: ProduceAcks.ALL,
      retries: p.retries,
      compression: p.compression,
      // A new producer asks for a producer id as nobody (-1): the client's default (0, 0) claims to be
      // producer 0, which the transaction coordinator fences once the transactional id has a history.
      producerId: -1n,
      producerEpoch: -1,
      ...(this.#options.transactionalId === undefined
        ? {}
        : { transactionalId: this.#options.transactionalId }),
    })
    this.#producer = producer
    try {
      // Connects, checks the cluster and, for an idempotent producer, gets a producer id now (not on first send).
      await producer.metadata({ topics: [] })
      // Gets the producer id now; for a transactional id this also fences any older instance (zombie).
      if (this.transactional) await this.#transaction()
      else if (idempotent) await producer.initIdempotentProducer({})
      this.#lastError = undefined
    } catch (err) {
      this.#lastError = sinkError('connect', err)
      throw this.#lastError
    }
  }

  add(record: OutgoingRecord): void {
    if (this.#closed)
      throw new WeirError(ErrorCode.SINK_UNAVAILABLE, 'kafka sink is closed', { retriable: false })
    this.#queue.add(record)
  }

  /**
   * Resolves when everything added before it is acknowledged by all in-sync replicas. Rejects when a
   * send fails: SINK_UNAVAILABLE (retriable) while Kafka is away, or the refusal (not retriable) of a
   * record Kafka will never take when there is no `onRejected`. Nothing is dropped either way: the
   * next flush sends it again. Transactional: what was added before it is what the open transaction
   * holds; later records wait for the next transaction (see the class comment).
   */
  flush(): Promise<void> {
    if (this.transactional) this.#queue.fence()
    return this.#queue.flush()
  }

  backlog(): number {
    return this.#queue.backlog()
  }

  status(): ConnectorStatus {
    if (this.#closed) return { connected: false, message: 'closed' }
    if (this.#lastError) return { connected: false, message: this.#lastError.message }
    if (!this.#producer?.isConnected()) return { connected: false, message: 'not connected' }
    return { connected: true }
  }

  /** Starts a transaction now (otherwise the first record or `sendOffsets` starts one). */
  async beginTransaction(): Promise<void> {
    await this.#transaction()
  }

  /**
   * Adds the source's consumed offsets (next offset to read) to the open transaction, so they commit
   * or abort together with the records. `group` is `source.groupMetadata()` (or just `{ groupId }`
   * when the member is unknown, which skips the broker's zombie fencing).
   */
  async sendOffsets(
    offsets: readonly CommitOffset[],
    group: GroupMetadata | { readonly groupId: string },
  ): Promise<void> {
    if (offsets.length === 0) return
    this.#refuseFailedTransaction()
    const tx = await this.#transaction()
    const consumer = {
      groupId: group.groupId,
      memberId: 'memberId' in group ? group.memberId : '',
      generationId: 'generationId' in group ? group.generationId : -1,
      coordinatorId:
        'coordinatorId' in group && group.coordinatorId !== undefined ? group.coordinatorId : undefined,
    }
    this.#txTouched = true
    try {
      const coordinatorId = consumer.coordinatorId ?? (await this.#groupCoordinator(group.groupId))
      // The client reads only `groupId` from the consumer it is given.
      await whileCoordinatorBusy(() => tx.addConsumer({ groupId: group.groupId } as unknown as Consumer))
      const together = await this.#commitOffsetsTogether({ ...consumer, coordinatorId }, offsets).then(
        () => true,
        (err: unknown) => {
          this.#log.debug('one TxnOffsetCommit for all partitions failed; the client retries one by one', {
            err,
          })
          return false
        },
      )
      if (together) return
      for (const o of offsets) {
        // The client commits `message.offset + 1` for the group described in `message.metadata.consumer`.
        const message = {
          topic: o.topic,
          partition: o.partition,
          offset: BigInt(o.offset) - 1n,
          metadata: { consumer: { ...consumer, coordinatorId } },
        } as unknown as Message
        await tx.addOffset(message)
      }
    } catch (err) {
      throw sinkError('send offsets to transaction', err)
    }
  }

  /**
   * Commits the open transaction: its records become visible and its offsets committed. Flushes first
   * (unless `flush()` already fixed its content). Records added meanwhile are sent once it has ended.
   */
  async commitTransaction(): Promise<void> {
    await this.flush()
    this.#refuseFailedTransaction()
    const tx = this.#tx
    if (!tx) {
      this.#queue.lift()
      return
    }
    if (!this.#txTouched) {
      // Nothing was sent in it (a checkpoint while idle): there is nothing to commit on the broker.
      await this.#endUntouched(tx)
      this.#queue.lift()
      return
    }
    try {
      await tx.commit()
    } catch (err) {
      // The transaction stays open (and the queue fenced): the caller aborts it.
      throw sinkError('commit transaction', err)
    }
    this.#lastTxPartitions = this.#txPartitions
    this.#ended()
    this.#queue.lift()
  }

  /** Aborts the open transaction, dropping records not yet sent; read_committed readers never see any of it. */
  async abortTransaction(): Promise<void> {
    await this.#queue.drop()
    this.#lastError = undefined
    this.#txSendFailed = undefined
    const tx = this.#tx
    if (!tx) return
    if (!this.#txTouched) {
      await this.#endUntouched(tx)
      return
    }
    this.#ended()
    try {
      await tx.abort()
    } catch (err) {
      throw sinkError('abort transaction', err)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    try {
      if (this.backlog() > 0) await this.flush().catch(() => {})
      if (this.#tx) await this.abortTransaction().catch(() => {})
    } finally {
      this.#closed = true
      this.#queue.stop()
      await this.#producer?.close(true).catch(() => {})
    }
  }

  /** Ends a transaction the broker never heard of, on the client only (no EndTxn). */
  async #endUntouched(tx: Transaction): Promise<void> {
    this.#ended()
    try {
      await tx.cancel()
    } catch (err) {
      throw sinkError('end empty transaction', err)
    }
  }

  /** The open transaction is over (committed, aborted or never reached the broker). */
  #ended(): void {
    this.#tx = undefined
    this.#txTouched = false
    this.#txPartitionsAdded = false
    this.#txPartitions = new Map()
  }

  #refuseFailedTransaction(): void {
    const failed = this.#txSendFailed
    if (failed === undefined) return
    throw new WeirError(
      ErrorCode.TRANSACTION_ABORTED,
      `kafka transaction cannot commit: a send inside it failed (${failed.message}); abort it and start again from the last commit`,
      { cause: failed, retriable: false },
    )
  }

  #transaction(): Promise<Transaction> {
    if (!this.transactional) {
      return Promise.reject(new WeirError(ErrorCode.CONFIG_INVALID, 'kafka sink has no transactionalId'))
    }
    if (this.#tx) return Promise.resolve(this.#tx)
    if (this.#txBegin) return this.#txBegin
    const producer = this.#producer
    if (!producer) return Promise.reject(new WeirError(ErrorCode.SINK_UNAVAILABLE, 'kafka sink is not open'))
    this.#txBegin = producer
      .beginTransaction()
      .then((tx) => {
        this.#tx = tx
        return tx
      })
      .catch((err) => {
        throw sinkError('begin transaction', err)
      })
      .finally(() => {
        this.#txBegin = undefined
      })
    return this.#txBegin
  }

  /**
   * Every partition's offset in one TxnOffsetCommit to the group coordinator (the client sends one
   * request per partition, each after the previous one's answer). Committing an offset twice in a
   * transaction is harmless, so on any failure the caller falls back to the client's path and its retries.
   */
  async #commitOffsetsTogether(
    consumer: { groupId: string; memberId: string; generationId: number; coordinatorId: number },
    offsets: readonly CommitOffset[],
  ): Promise<void> {
    const producer = this.#producer
    const { producerId, producerEpoch } = producer ?? {}
    const transactionalId = this.#options.transactionalId
    if (!producer || producerId === undefined || producerEpoch === undefined || transactionalId === undefined)
      throw new Error('no producer id yet')
    const connection = (await producer.connectToBrokers([consumer.coordinatorId])).get(consumer.coordinatorId)
    if (connection === undefined)
      throw new Error(`group coordinator ${consumer.coordinatorId} not in the metadata`)
    const topics = new Map<string, txnOffsetCommitV4.TxnOffsetCommitRequestPartition[]>()
    for (const o of offsets) {
      let partitions = topics.get(o.topic)
      if (partitions === undefined) {
        partitions = []
        topics.set(o.topic, partitions)
      }
      // Leader epoch unknown (-1): the broker then skips its check, as for a commit by an older client.
      partitions.push({
        partitionIndex: o.partition,
        committedOffset: BigInt(o.offset),
        committedLeaderEpoch: -1,
      })
    }
    await txnOffsetCommitV4.api.async(
      connection,
      transactionalId,
      consumer.groupId,
      producerId,
      producerEpoch,
      consumer.generationId,
      consumer.memberId,
      null,
      [...topics].map(([name, partitions]) => ({ name, partitions })),
    )
  }

  /**
   * At a transaction's first send: adds this chunk's partitions and every partition the previous
   * transaction wrote, in one AddPartitionsToTxn. The client adds a send's new partitions itself, one
   * request per send that meets one; a source hands records over partition by partition, so the first
   * chunks of a transaction each met a new one (about 3.5 round trips per transaction measured with 5
   * partitions, each waiting for the previous transaction's markers).
   */
  async #addPartitions(
    producer: Producer,
    tx: Transaction,
    messages: readonly MessageToProduce[],
  ): Promise<void> {
    const topics = new Set(this.#lastTxPartitions.keys())
    for (const m of messages) if (m.partition !== undefined) topics.add(m.topic)
    if (topics.size === 0) return
    // The client's cached metadata: no request unless it is stale.
    const metadata = await producer.metadata({ topics: [...topics] })
    for (const [topic, t] of metadata.topics) this.#partitionCounts.set(topic, t.partitionsCount)
    this.#notePartitions(messages)
    for (const [topic, parts] of this.#lastTxPartitions) {
      let mine = this.#txPartitions.get(topic)
      if (mine === undefined) {
        mine = new Set()
        this.#txPartitions.set(topic, mine)
      }
      for (const p of parts) mine.add(p)
    }
    const all: MessageRecord[] = []
    for (const [topic, parts] of this.#txPartitions)
      for (const partition of parts) all.push({ topic, partition } as MessageRecord)
    await whileCoordinatorBusy(() => tx.addPartitions(metadata, all))
  }

  /** Remembers which partitions the open transaction writes (keyed records: the sink picked them). */
  #notePartitions(messages: readonly MessageToProduce[]): void {
    let topic = ''
    let parts: Set<number> | undefined
    let count = 0
    for (const m of messages) {
      if (m.partition === undefined) continue
      if (m.topic !== topic || parts === undefined) {
        topic = m.topic
        count = this.#partitionCounts.get(topic) ?? 0
        parts = this.#txPartitions.get(topic)
        if (parts === undefined) {
          parts = new Set()
          this.#txPartitions.set(topic, parts)
        }
      }
      // A topic not in the metadata yet: the client adds its partitions itself, and it is noted next time.
      if (count > 0) parts.add(m.partition % count)
    }
  }

  async #groupCoordinator(groupId: string): Promise<number> {
    // One lookup per call is fine: offsets are sent once per checkpoint, and usually with a known coordinator.
    const admin = new Admin(baseClientOptions(this.#kafka, `${this.#options.clientId}-coordinator`))
    try {
      const [found] = await admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [groupId] })
      if (!found) throw new Error(`no coordinator for group ${groupId}`)
      return found.nodeId
    } finally {
      await admin.close().catch(() => {})
    }
  }

  async #send(records: readonly OutgoingRecord[]): Promise<void> {
    const producer = this.#producer
    if (!producer) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, 'kafka sink is not open')
    const messages = records.map(toProduced)
    if (this.transactional) {
      const tx = await this.#transaction()
      this.#txTouched = true
      if (this.#txPartitionsAdded) this.#notePartitions(messages)
      else {
        this.#txPartitionsAdded = true
        await this.#addPartitions(producer, tx, messages)
      }
      // A send adds its new partitions first: met CONCURRENT_TRANSACTIONS there, nothing was written yet.
      await whileCoordinatorBusy(() => tx.send({ messages }))
    } else {
      await producer.send({ messages })
    }
  }
}

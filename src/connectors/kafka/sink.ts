import {
  Admin,
  type Consumer,
  FindCoordinatorKeyTypes,
  type Message,
  type MessageToProduce,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka'
import type { CommitOffset, ConnectorStatus, RecordSink, SinkOptions } from '../../connectors/contract.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { OutgoingRecord } from '../../core/record.ts'
import type { Logger } from '../../log/logger.ts'
import { sinkError, toProduced } from './convert.ts'
import { baseClientOptions, type KafkaOptions, loggerOf, producerDefaults } from './options.ts'
import type { GroupMetadata } from './source.ts'

type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>

interface Waiter {
  readonly upTo: number
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

/**
 * Writes records to Kafka. `add()` only buffers; a background loop sends what accumulated (after
 * `lingerMs`, or at once when `maxBatchRecords` are waiting) with one request in flight at a time, so
 * records keep their order. `flush()` resolves when everything added before it is acknowledged by all
 * in-sync replicas, and rejects if any of it failed since the last flush.
 *
 * With `transactionalId` the sink writes inside Kafka transactions. A transaction begins on the first
 * record (or offsets) after the previous one ended; the checkpoint then runs
 * `flush()` → `sendOffsets(offsets, source.groupMetadata())` → `commitTransaction()`, or
 * `abortTransaction()` to drop everything since the last commit.
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
  readonly #options: SinkOptions
  readonly #log: Logger
  readonly #linger: number
  readonly #maxBatch: number
  readonly #maxBytes: number
  #producer: Producer | undefined
  #tx: Transaction | undefined
  #txBegin: Promise<Transaction> | undefined
  #pending: MessageToProduce[] = []
  /** Sequence numbers: records added, and records settled (acknowledged or failed). */
  #added = 0
  #settled = 0
  #sending = false
  #timer: NodeJS.Timeout | undefined
  #waiters: Waiter[] = []
  /** The first send failure not yet reported by a flush, and the sequence number its chunk started at. */
  #failure: { readonly error: WeirError; readonly from: number } | undefined
  #lastError: WeirError | undefined
  #closed = false

  constructor(kafka: KafkaOptions, options: SinkOptions) {
    this.#kafka = kafka
    this.#options = options
    this.id = `kafka:${options.clientId}`
    this.#log = loggerOf(kafka).child({ connector: 'kafka-sink', clientId: options.clientId })
    const p = { ...producerDefaults, ...kafka.producer }
    this.#linger = Math.max(0, p.lingerMs)
    this.#maxBatch = Math.max(1, p.maxBatchRecords)
    this.#maxBytes = Math.max(1024, p.maxBatchBytes)
  }

  get transactional(): boolean {
    return this.#options.transactionalId !== undefined
  }

  async open(): Promise<void> {
    if (this.#producer) return
    const p = { ...producerDefaults, ...this.#kafka.producer }
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
    this.#pending.push(toProduced(record))
    this.#added++
    if (this.#pending.length >= this.#maxBatch) this.#kick()
    else if (this.#timer === undefined && !this.#sending)
      this.#timer = setTimeout(() => this.#kick(), this.#linger)
  }

  flush(): Promise<void> {
    const upTo = this.#added
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ upTo, resolve, reject })
      this.#settle()
      this.#kick()
    })
  }

  backlog(): number {
    return this.#added - this.#settled
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
    const tx = await this.#transaction()
    const consumer = {
      groupId: group.groupId,
      memberId: 'memberId' in group ? group.memberId : '',
      generationId: 'generationId' in group ? group.generationId : -1,
      coordinatorId:
        'coordinatorId' in group && group.coordinatorId !== undefined ? group.coordinatorId : undefined,
    }
    try {
      // The client reads only `groupId` from the consumer it is given.
      await tx.addConsumer({ groupId: group.groupId } as unknown as Consumer)
      for (const o of offsets) {
        // The client commits `message.offset + 1` for the group described in `message.metadata.consumer`.
        const coordinatorId = consumer.coordinatorId ?? (await this.#groupCoordinator(group.groupId))
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

  /** Commits the open transaction: its records become visible and its offsets committed. Flushes first. */
  async commitTransaction(): Promise<void> {
    await this.flush()
    const tx = this.#tx
    if (!tx) return
    try {
      await tx.commit()
    } catch (err) {
      // The transaction stays open: the caller aborts it.
      throw sinkError('commit transaction', err)
    }
    this.#tx = undefined
  }

  /** Aborts the open transaction, dropping records not yet sent; read_committed readers never see any of it. */
  async abortTransaction(): Promise<void> {
    const dropped = this.#pending.length
    this.#pending = []
    this.#settled += dropped
    // Wait for the chunk in flight, ignoring its outcome: it is aborted anyway.
    await this.flush().catch(() => {})
    this.#failure = undefined
    this.#lastError = undefined
    const tx = this.#tx
    this.#tx = undefined
    if (!tx) return
    try {
      await tx.abort()
    } catch (err) {
      throw sinkError('abort transaction', err)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    try {
      if (this.#pending.length > 0 || this.backlog() > 0) await this.flush().catch(() => {})
      if (this.#tx) await this.#tx.abort().catch(() => {})
    } finally {
      this.#closed = true
      clearTimeout(this.#timer)
      await this.#producer?.close(true).catch(() => {})
    }
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

  /** Starts a send if none is in flight. */
  #kick(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#sending || this.#pending.length === 0) return
    this.#sending = true
    // A request carries one record batch per partition, which the broker caps (message.max.bytes, 1 MiB
    // by default): bound the chunk by bytes as well as by count.
    let n = 0
    let bytes = 0
    const limit = Math.min(this.#maxBatch, this.#pending.length)
    while (n < limit) {
      const m = this.#pending[n]!
      bytes += 24 + (m.key?.length ?? 0) + (m.value?.length ?? 0) + headerBytes(m)
      if (bytes > this.#maxBytes && n > 0) break
      n++
    }
    const chunk = n === this.#pending.length ? this.#pending : this.#pending.slice(0, n)
    this.#pending = chunk === this.#pending ? [] : this.#pending.slice(n)
    this.#send(chunk).then(
      () => this.#afterSend(chunk.length, undefined),
      (err: unknown) => this.#afterSend(chunk.length, sinkError('send', err)),
    )
  }

  async #send(messages: MessageToProduce[]): Promise<void> {
    const producer = this.#producer
    if (!producer) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, 'kafka sink is not open')
    if (this.transactional) {
      const tx = await this.#transaction()
      await tx.send({ messages })
    } else {
      await producer.send({ messages })
    }
  }

  #afterSend(count: number, error: WeirError | undefined): void {
    this.#sending = false
    const from = this.#settled
    this.#settled += count
    if (error) {
      this.#failure ??= { error, from }
      this.#lastError = error
      this.#log.warn('send failed', { err: error, records: count })
    } else {
      this.#lastError = undefined
    }
    this.#settle()
    if (this.#pending.length >= this.#maxBatch || (this.#pending.length > 0 && this.#waiters.length > 0))
      this.#kick()
    else if (this.#pending.length > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#kick(), this.#linger)
    }
  }

  /**
   * Settles the flushes whose records are all settled. A failure rejects every flush that covers the
   * failed chunk (or was called after it); once no waiting flush covers it, it is forgotten.
   */
  #settle(): void {
    if (this.#waiters.length === 0) return
    const done = this.#waiters.filter((w) => w.upTo <= this.#settled)
    if (done.length === 0) return
    this.#waiters = this.#waiters.filter((w) => w.upTo > this.#settled)
    const failure = this.#failure
    for (const w of done) {
      if (failure && w.upTo > failure.from) w.reject(failure.error)
      else w.resolve()
    }
    if (failure && !this.#waiters.some((w) => w.upTo > failure.from)) this.#failure = undefined
  }
}

function headerBytes(m: MessageToProduce): number {
  if (!(m.headers instanceof Map)) return 0
  let n = 0
  for (const [k, v] of m.headers) n += 8 + k.length + v.length
  return n
}

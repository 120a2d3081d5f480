import type { ConnectionOptions } from 'node:tls'
import { type BaseOptions, findErrorBy } from '@platformatic/kafka'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Logger } from '../../log/logger.ts'
import { silentLogger } from '../../log/logger.ts'
import { isLeveled, levelProblem } from './compression.ts'

/** How Weir reaches a Kafka cluster. Only `brokers` is required. */
export interface KafkaOptions {
  /** Bootstrap brokers as `host:port`. */
  readonly brokers: readonly string[]
  /** Prefix for client ids; sources and sinks append their own. Default `weir`. */
  readonly clientId?: string
  readonly sasl?: {
    readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
    readonly username: string
    readonly password: string
  }
  /** `true` for TLS with the system CAs, or Node's TLS options (ca, cert, key, servername, ...). */
  readonly tls?: boolean | ConnectionOptions
  /** Per-request timeout in ms. Default 30000. */
  readonly requestTimeoutMs?: number
  /** Connect timeout in ms. Default 5000. */
  readonly connectTimeoutMs?: number
  readonly consumer?: KafkaConsumerTuning
  readonly producer?: KafkaProducerTuning
  readonly logger?: Logger
}

export interface KafkaConsumerTuning {
  /** Group session timeout: how long a crashed member keeps its partitions. Default 10000 ms. */
  readonly sessionTimeoutMs?: number
  /** Heartbeat interval. Default 1000 ms (it also bounds how fast a member notices a rebalance). */
  readonly heartbeatIntervalMs?: number
  /** How long the broker waits for every member to rejoin. Default 60000 ms. */
  readonly rebalanceTimeoutMs?: number
  /** Longest a fetch waits for data on the broker. Default 500 ms. */
  readonly maxWaitMs?: number
  /** Bytes per fetch response (all partitions). Default 256 KiB (see `consumerDefaults`). */
  readonly maxBytes?: number
  /** Bytes per partition per fetch. Default 64 KiB. */
  readonly maxBytesPerPartition?: number
  /** Records the client may hold before the runtime pulls them. Default 2048. */
  readonly highWaterMark?: number
}

export interface KafkaProducerTuning {
  /** Idempotent producer (acks=all, no duplicates on retry). Default true. */
  readonly idempotent?: boolean
  /**
   * How long a record may wait for more before its chunk is sent. Default 0: at the end of the current
   * event-loop turn. One request is in flight at a time and what arrives meanwhile waits for the next
   * one, so under load chunks fill up without a linger; a linger only adds latency (see BENCHMARKS.md:
   * 5 ms doubled the p99 at 5,000 records/s and changed nothing at full load).
   */
  readonly lingerMs?: number
  /** Most records in one produce request. Default 10000. */
  readonly maxBatchRecords?: number
  /** Most bytes (roughly) in one produce request; keep below the broker's message.max.bytes. Default 900000. */
  readonly maxBatchBytes?: number
  /**
   * Largest record (key + value + headers, uncompressed) the sink sends, as Kafka's Java producer checks
   * `max.request.size`: a larger one is refused before it is sent (to `onRejected`: the dead-letter
   * topic), never inside a request. A request the broker refuses inside a transaction spoils the
   * transaction (other partitions of the request may be written), so this keeps an oversized record from
   * aborting exactly-once checkpoints over and over. Default 1048576 (the broker's default limit, 1 MiB).
   */
  readonly maxRecordBytes?: number
  /** Retries of one produce request before `flush()` rejects. Default 5. */
  readonly retries?: number
  readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /**
   * gzip 1–9 or zstd 1–22 (Kafka's `compression.gzip.level` / `compression.zstd.level`); unset: the
   * codec's default (6, 3). For these JSON records gzip level 1 took half the CPU of 6 for ~20 % more
   * bytes (BENCHMARKS.md). One level per codec per process (the client has one codec table).
   */
  readonly compressionLevel?: number
}

/**
 * Small fetches: 256 KiB per response, 64 KiB per partition (the client's own are 8 MiB and 1 MiB). A
 * fetch's records are decoded together and stay alive until processed, so a large fetch keeps tens of
 * thousands of records (and their Buffers and parsed values) live across minor GCs, each of which copies
 * them: bench workload 1 (pass-through) ran at 119.6k records/s with 8 MiB fetches, 123.0k with 1 MiB,
 * 127.4k with 512 KiB and 135.0k with 256 KiB (CPU 9.0 → 7.9 s per million records, RSS 380 → 280 MB);
 * 128 KiB and 64 KiB were slower again (125.6k, 127.3k). Under a 256 MB limit the apps' peaks fell by
 * 11–33 MB. Fetch limits count compressed bytes, so a gzip topic inflates each fetch (the MillionX
 * stages read gzip). A fetch still returns at least one whole batch whatever its size, and the client
 * fetches ahead while records are processed, so 256 KiB does not cap larger records; over a slow link
 * (a long round trip per fetch) raise `maxBytes`.
 * Figures: BENCHMARKS.md.
 */
export const consumerDefaults = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 60_000,
  maxWaitMs: 500,
  maxBytes: 256 * 1024,
  maxBytesPerPartition: 64 * 1024,
  highWaterMark: 2048,
} satisfies Required<KafkaConsumerTuning>

export const producerDefaults = {
  idempotent: true,
  lingerMs: 0,
  maxBatchRecords: 10_000,
  maxBatchBytes: 900_000,
  maxRecordBytes: 1_048_576,
  retries: 5,
  compression: 'none',
} satisfies Required<Omit<KafkaProducerTuning, 'compressionLevel'>>

/** Checks the options once, at the boundary, and names what is wrong. */
export function validateKafkaOptions(options: KafkaOptions): void {
  const bad = (path: string, expected: string) =>
    new WeirError(ErrorCode.CONFIG_INVALID, `kafka option ${path}: expected ${expected}`)
  if (!Array.isArray(options.brokers) || options.brokers.length === 0)
    throw bad('brokers', 'a non-empty list')
  for (const [i, b] of options.brokers.entries()) {
    if (typeof b !== 'string' || !/^[^:\s]+:\d+$/.test(b)) throw bad(`brokers[${i}]`, `host:port, got ${b}`)
  }
  const sasl = options.sasl
  if (sasl !== undefined) {
    if (!['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].includes(sasl.mechanism)) {
      throw bad('sasl.mechanism', 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512')
    }
    if (typeof sasl.username !== 'string' || sasl.username === '') throw bad('sasl.username', 'a user name')
    if (typeof sasl.password !== 'string') throw bad('sasl.password', 'a string')
  }
  const level = options.producer?.compressionLevel
  if (level !== undefined) {
    const path = 'producer.compressionLevel (KAFKA_PRODUCER_COMPRESSION_LEVEL)'
    const codec = options.producer?.compression ?? producerDefaults.compression
    if (!isLeveled(codec))
      throw bad(path, `no level with compression ${codec}: a level applies to gzip (1–9) and zstd (1–22)`)
    const problem = levelProblem(codec, level)
    if (problem !== undefined) throw bad(path, problem)
  }
}

/** The connection part of every client's options. */
export function baseClientOptions(options: KafkaOptions, clientId: string): BaseOptions {
  const out: BaseOptions = {
    clientId,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    timeout: options.requestTimeoutMs ?? 30_000,
    retries: 3,
    retryDelay,
  }
  if (options.sasl) {
    out.sasl = {
      mechanism: options.sasl.mechanism,
      username: options.sasl.username,
      password: options.sasl.password,
    }
  }
  if (options.tls === true) out.tls = {}
  else if (options.tls) out.tls = { ...options.tls }
  return out
}

/** Between retries of a failed request, unless the broker said a transaction is still ending (below). */
const RETRY_DELAY_MS = 500

/** Between retries of a request that met CONCURRENT_TRANSACTIONS (see below). */
export const CONCURRENT_RETRY_MS = 10

/**
 * How long a client waits before retrying a request. CONCURRENT_TRANSACTIONS is the transaction
 * coordinator still writing the previous transaction's markers: the first AddPartitionsToTxn after
 * every commit gets it for a few ms. A flat 500 ms wait there stalled every transaction that met it
 * (82 ms mean per AddPartitionsToTxn, 12.5 s of a 19 s exactly-once run); Kafka's Java producer retries
 * it every 20 ms. Here every 10 ms; the transactional sink goes on retrying past the client's retry
 * count (whileCoordinatorBusy in sink.ts).
 */
function retryDelay(
  _client: object,
  _operation: string,
  _attempt: number,
  _retries: number,
  err: Error,
): number {
  return findErrorBy(err, 'apiId', 'CONCURRENT_TRANSACTIONS') ? CONCURRENT_RETRY_MS : RETRY_DELAY_MS
}

export function loggerOf(options: KafkaOptions): Logger {
  return options.logger ?? silentLogger
}

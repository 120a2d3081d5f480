import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Counter, Histogram, Labels, MetricsRegistry } from '../../core/metrics.ts'
import { type RecordOrigin, type TopicPartition, tpKey } from '../../core/record.ts'
import { type Logger, silentLogger } from '../../log/logger.ts'
import type { CommitOffset, ConnectorStatus, Sink } from '../contract.ts'
import { type ParquetCodec, type ParquetColumn, ParquetFileBuilder, parquetSchema } from './columns.ts'
import type { ArchiveFileSystem } from './filesystem.ts'
import { dayPartition, markerPath, partFileName } from './layout.ts'

export type Row = Readonly<Record<string, unknown>>

/** One row and the input record it came from (its offset names the file and holds back the commit). */
export interface ParquetItem {
  readonly origin: RecordOrigin
  readonly row: Row
}

export interface RollPolicy {
  /** Rows from one source partition before its files are closed. Default 1,000,000. */
  readonly rows?: number
  /** Compressed bytes from one source partition before its files are closed. Default 64 MiB. */
  readonly bytes?: number
  /** Age of the oldest row before the files are closed at the next checkpoint. Default 60 s. */
  readonly intervalMs?: number
}

export interface ParquetSinkOptions {
  /** Sink id (`parquet:<name>`) and the `sink` metrics label. */
  readonly name: string
  readonly fileSystem: ArchiveFileSystem
  /** Directory under the file system's root, e.g. `traffic-data/raw`. */
  readonly directory: string
  readonly columns: readonly ParquetColumn[]
  /** Event time of a row (epoch ms), which picks its date directory. */
  readonly eventTime: (row: Row) => number
  /** Directory of a time under `directory`. Default `year=YYYY/month=MM/day=DD` (UTC). */
  readonly partitionPath?: (time: number) => string
  /** Default zstd (Node's native zstd; hyparquet-writer's snappy is JavaScript and ~4× slower here). */
  readonly codec?: ParquetCodec
  readonly roll?: RollPolicy
  /** Rows per row group. Default 10,000. */
  readonly rowGroupRows?: number
  /**
   * Close every file at every checkpoint instead of holding offsets back until the roll policy says
   * so: required when offsets are committed inside a Kafka transaction (exactly-once), whose outputs
   * must not be replayed. Files are then as small as the checkpoint interval makes them.
   */
  readonly rollOnCheckpoint?: boolean
  readonly metrics?: MetricsRegistry
  readonly logger?: Logger
  /** Wall clock for the roll interval. Default Date.now. */
  readonly now?: () => number
}

interface OpenFile {
  readonly path: string
  readonly builder: ParquetFileBuilder
  /** The finished bytes, kept so a failed publish is retried with the same file. */
  chunks?: Uint8Array[]
  published?: boolean
}

/** The files fed by one source partition since its last roll; they are published together. */
interface Bundle {
  readonly tp: TopicPartition
  readonly first: number
  last: number
  rows: number
  readonly openedAt: number
  readonly files: Map<string, OpenFile>
  /** The last attempt to publish it failed (a full disk): its rows count as backlog. */
  failed?: boolean
}

const DEFAULT_ROLL = { rows: 1_000_000, bytes: 64 * 1024 * 1024, intervalMs: 60_000 }

/**
 * Writes rows to Parquet files with exactly-once file semantics, the way Flink's FileSink does:
 *
 * - rows from each source partition go to in-progress files (one per date directory), encoded into
 *   compressed row groups as they come;
 * - when the roll policy says so (rows, bytes, age, or every checkpoint), the files are finished,
 *   written under a hidden in-progress name, fsynced and renamed to a name made of (topic, partition,
 *   first offset), then the last archived offset of that partition is recorded;
 * - until then `holdback()` keeps the checkpoint from committing past the first row of open files, so
 *   a crash replays them; the replay writes the same names (replacing, never duplicating), and rows at
 *   or below the recorded offset are skipped.
 *
 * A full or read-only disk fails the publish: the flush rejects with SINK_UNAVAILABLE, nothing past the
 * files is committed, `status()` says why, and the next checkpoint tries the same bytes again.
 */
export class ParquetSink implements Sink<ParquetItem> {
  readonly id: string
  readonly #o: ParquetSinkOptions
  readonly #schema: ReturnType<typeof parquetSchema>
  readonly #roll: Required<RollPolicy>
  readonly #rowGroupRows: number
  readonly #now: () => number
  readonly #log: Logger
  /** Last archived offset per source partition (rows at or below it are already in published files). */
  readonly #archived = new Map<string, number>()
  readonly #open = new Map<string, Bundle>()
  /** Rolled bundles waiting to be published, per source partition, in offset order. */
  readonly #closing = new Map<string, Bundle[]>()
  readonly #publishing = new Map<string, Promise<void>>()
  #lastError: string | undefined
  #closed = false
  readonly #metrics:
    | {
        rows: Counter
        files: Counter
        bytes: Counter
        skipped: Counter
        errors: Counter
        seconds: Histogram
        labels: Labels
      }
    | undefined

  constructor(options: ParquetSinkOptions) {
    this.#o = options
    this.id = `parquet:${options.name}`
    this.#schema = parquetSchema(options.columns)
    this.#roll = { ...DEFAULT_ROLL, ...definedOnly(options.roll ?? {}) }
    for (const [k, v] of Object.entries(this.#roll))
      if (!(v > 0))
        throw new WeirError(
          ErrorCode.CONFIG_INVALID,
          `parquet sink ${options.name}: roll.${k} must be positive, got ${v}`,
        )
    this.#rowGroupRows = options.rowGroupRows ?? 10_000
    this.#now = options.now ?? Date.now
    this.#log = (options.logger ?? silentLogger).child({ sink: this.id })
    const m = options.metrics
    this.#metrics = m && {
      rows: m.counter('weir_archive_rows_total', 'Rows in published archive files, by sink'),
      files: m.counter('weir_archive_files_total', 'Archive files published, by sink'),
      bytes: m.counter('weir_archive_bytes_total', 'Bytes of archive files published, by sink'),
      skipped: m.counter(
        'weir_archive_replayed_rows_skipped_total',
        'Replayed rows already in published files',
      ),
      errors: m.counter('weir_archive_publish_errors_total', 'Failed attempts to publish archive files'),
      seconds: m.histogram(
        'weir_archive_publish_seconds',
        'Time to write, sync and rename one roll of files',
      ),
      labels: { sink: options.name },
    }
  }

  /** Reads the last archived offset of every source partition, so a replay skips what is published. */
  async open(): Promise<void> {
    const fs = this.#o.fileSystem
    let names: string[]
    try {
      names = await fs.listState(`${this.#o.directory}/_weir`)
    } catch (err) {
      throw this.#unavailable(err)
    }
    for (const path of names) {
      if (!path.endsWith('.json')) continue
      const text = await fs.readState(path)
      if (text === undefined) continue
      const m = JSON.parse(text) as { topic: string; partition: number; offset: number }
      this.#archived.set(tpKey(m), m.offset)
    }
  }

  add(item: ParquetItem): void {
    if (this.#closed) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, `${this.id} is closed`)
    const { origin, row } = item
    const key = tpKey(origin)
    const archived = this.#archived.get(key)
    if (archived !== undefined && origin.offset <= archived) {
      this.#metrics?.skipped.inc(this.#metrics.labels)
      return
    }
    // Everything that can throw (event time, a value that does not fit its column) happens before
    // the bundle changes, so a bad row goes to the error policy and leaves the files as they were.
    const dir = this.#dirOf(this.#o.eventTime(row))
    let bundle = this.#open.get(key)
    const fresh = bundle === undefined
    bundle ??= {
      tp: { topic: origin.topic, partition: origin.partition },
      first: origin.offset,
      last: origin.offset,
      rows: 0,
      openedAt: this.#now(),
      files: new Map(),
    }
    let file = bundle.files.get(dir)
    const newFile = file === undefined
    file ??= {
      path: `${dir}/${partFileName(origin.topic, origin.partition, origin.offset)}`,
      builder: new ParquetFileBuilder({
        columns: this.#o.columns,
        schema: this.#schema,
        codec: this.#o.codec ?? 'zstd',
        rowGroupRows: this.#rowGroupRows,
        metadata: { 'weir.source': `${origin.topic}:${origin.partition}` },
      }),
    }
    file.builder.add(row)
    if (newFile) bundle.files.set(dir, file)
    if (fresh) this.#open.set(key, bundle)
    bundle.last = origin.offset
    bundle.rows++
    if (bundle.rows >= this.#roll.rows || bytesOf(bundle) >= this.#roll.bytes) this.#roll1(key)
  }

  /**
   * Rolls what the policy says is due (everything, with rollOnCheckpoint), publishes every rolled
   * bundle, and rejects if any could not be published (they are kept and tried again next time).
   */
  async flush(): Promise<void> {
    const now = this.#now()
    for (const [key, b] of [...this.#open]) {
      if (this.#o.rollOnCheckpoint || now - b.openedAt >= this.#roll.intervalMs) this.#roll1(key)
    }
    await this.#publishAll([...this.#closing.keys()])
  }

  /** The first offset of every unpublished file's source partition: the checkpoint commits no further. */
  holdback(): CommitOffset[] {
    const out: CommitOffset[] = []
    const keys = new Set([...this.#open.keys(), ...this.#closing.keys()])
    for (const key of keys) {
      const first = this.#closing.get(key)?.[0] ?? this.#open.get(key)
      if (first !== undefined) out.push({ ...first.tp, offset: first.first })
    }
    return out
  }

  /** Partitions move to another instance: publish their files now, so the revoke checkpoint commits them. */
  async revoked(partitions: readonly TopicPartition[]): Promise<void> {
    const keys = partitions.map(tpKey)
    for (const key of keys) if (this.#open.has(key)) this.#roll1(key)
    try {
      await this.#publishAll(keys.filter((k) => this.#closing.has(k)))
    } catch (err) {
      // The new owner replays from the last commit and writes the same file names; ours must not
      // race it, so what could not be published is dropped here (its offsets were never committed).
      this.#log.warn('archive files of revoked partitions not published; the new owner rewrites them', {
        error: err,
      })
      for (const key of keys) this.#closing.delete(key)
    }
  }

  /**
   * Rows the next flush owes: rolled but unpublished ones that failed or wait behind another roll (a
   * full or slow disk makes this grow, so input pauses), plus open ones with rollOnCheckpoint. Rows in files the roll policy keeps open are not
   * owed yet: they are held back from the commit instead.
   */
  backlog(): number {
    let n = 0
    for (const list of this.#closing.values()) {
      // The bundle being written does not count unless writing it failed: a pause while every
      // roll's fsyncs run would cost throughput for nothing. Bundles queued behind it do.
      for (let i = 0; i < list.length; i++) if (i > 0 || list[i]!.failed) n += list[i]!.rows
    }
    if (this.#o.rollOnCheckpoint) for (const b of this.#open.values()) n += b.rows
    return n
  }

  /** Publishes what is open (flushed on shutdown); rows past the last commit are skipped on replay. */
  async close(): Promise<void> {
    if (this.#closed) return
    for (const key of [...this.#open.keys()]) this.#roll1(key)
    try {
      await this.#publishAll([...this.#closing.keys()])
    } finally {
      this.#closed = true
    }
  }

  status(): ConnectorStatus {
    return this.#lastError === undefined
      ? { connected: true }
      : { connected: false, message: this.#lastError }
  }

  #lastDay = Number.NaN
  #lastDir = ''

  /** The directory of an event time; with day directories (the default) one string per day, not per row. */
  #dirOf(time: number): string {
    if (this.#o.partitionPath !== undefined) return `${this.#o.directory}/${this.#o.partitionPath(time)}`
    const day = Math.floor(time / 86_400_000)
    if (day !== this.#lastDay || Number.isNaN(day)) {
      this.#lastDir = `${this.#o.directory}/${dayPartition(time)}`
      this.#lastDay = day
    }
    return this.#lastDir
  }

  #roll1(key: string): void {
    const b = this.#open.get(key)
    if (b === undefined) return
    this.#open.delete(key)
    const list = this.#closing.get(key)
    if (list === undefined) this.#closing.set(key, [b])
    else list.push(b)
    // Start writing now rather than at the next checkpoint; flush waits for it.
    void this.#publishPartition(key).catch(() => {})
  }

  async #publishAll(keys: readonly string[]): Promise<void> {
    const results = await Promise.allSettled(keys.map((k) => this.#publishPartition(k)))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  }

  /** One publisher per source partition, bundles strictly in order (the recorded offset only grows). */
  #publishPartition(key: string): Promise<void> {
    const running = this.#publishing.get(key)
    if (running !== undefined)
      return running.then(() => (this.#closing.has(key) ? this.#publishPartition(key) : undefined))
    const run = (async () => {
      try {
        let list = this.#closing.get(key)
        while (list !== undefined && list.length > 0) {
          await this.#publish(list[0]!)
          list.shift()
          if (list.length === 0) this.#closing.delete(key)
          list = this.#closing.get(key)
        }
      } finally {
        this.#publishing.delete(key)
      }
    })()
    this.#publishing.set(key, run)
    return run
  }

  async #publish(b: Bundle): Promise<void> {
    const fs = this.#o.fileSystem
    const started = performance.now()
    try {
      let bytes = 0
      for (const file of b.files.values()) {
        file.chunks ??= file.builder.finish()
        if (file.published) continue
        await fs.publish(file.path, file.chunks)
        file.published = true
        for (const c of file.chunks) bytes += c.byteLength
      }
      await fs.writeState(
        markerPath(this.#o.directory, b.tp.topic, b.tp.partition),
        JSON.stringify({ ...b.tp, offset: b.last }),
      )
      this.#archived.set(tpKey(b.tp), b.last)
      b.failed = false
      if (this.#lastError !== undefined) this.#log.info('archive writable again', { dir: fs.description })
      this.#lastError = undefined
      const m = this.#metrics
      if (m) {
        m.rows.inc(m.labels, b.rows)
        m.files.inc(m.labels, b.files.size)
        m.bytes.inc(m.labels, bytes)
        m.seconds.observe((performance.now() - started) / 1000, m.labels)
      }
    } catch (err) {
      b.failed = true
      this.#metrics?.errors.inc(this.#metrics.labels)
      const e = this.#unavailable(err, b)
      if (this.#lastError !== e.message) this.#log.error('archive files not published', { error: e })
      this.#lastError = e.message
      throw e
    }
  }

  #unavailable(err: unknown, b?: Bundle): WeirError {
    const code = (err as NodeJS.ErrnoException | null)?.code
    const why =
      code === 'ENOSPC'
        ? 'disk full'
        : code === 'EROFS'
          ? 'read-only file system'
          : code === 'EACCES'
            ? 'permission denied'
            : undefined
    const what =
      b === undefined
        ? ''
        : ` (${b.rows} rows of ${b.tp.topic}:${b.tp.partition} kept for the next checkpoint)`
    const message = `archive ${this.#o.fileSystem.description}/${this.#o.directory} not writable: ${why ?? (err instanceof Error ? err.message : String(err))}${why && err instanceof Error ? ` [${err.message}]` : ''}${what}`
    return new WeirError(ErrorCode.SINK_UNAVAILABLE, message, { cause: err })
  }
}

function bytesOf(b: Bundle): number {
  let n = 0
  for (const f of b.files.values()) n += f.builder.bytes
  return n
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

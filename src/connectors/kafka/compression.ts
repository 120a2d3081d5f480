import { constants, gzipSync, zstdCompressSync } from 'node:zlib'
import { compressionsAlgorithms } from '@platformatic/kafka'
import { ErrorCode, WeirError } from '../../core/errors.ts'

/**
 * Makes the client gzip record batches on the calling thread, as it already does snappy, lz4 and zstd.
 * Its gzip alone runs through a zlib stream on libuv's thread pool, which on a small host costs more than
 * it saves: each batch pays for the stream machinery and a round trip to the pool, and the pool's threads
 * compete with the event loop for the same cores. Weir scales by processes (one event loop per core,
 * partitions spread over them), so no spare core is there to take the work. Measured on 2 cores, the
 * MillionX schema validator (the seed's default FAUST_PRODUCER_COMPRESSION=gzip) drained 20.1k / 21.4k
 * records/s at 59.5 / 56.6 s CPU per million records with the pool, 30.2k / 33.4k at 37.6 / 31.5 s with
 * this (BENCHMARKS.md). The client's one shared table is changed, for every producer in the process.
 *
 * Also gives zlib its largest hash table (memLevel 9, 256 KiB more while a batch is compressed): ~8 %
 * less time per byte at the default level on the MillionX stages' batches, and no larger (9.73× vs 9.70×).
 */
export function gzipOnCallingThread(): void {
  const gzip = compressionsAlgorithms.gzip as unknown as { compress?: unknown; compressSync: Compress }
  if (gzip.compress !== undefined) delete gzip.compress
  if (!installed.has('gzip')) gzip.compressSync = gzipAt(GZIP_DEFAULT_LEVEL)
}

type Compress = (data: unknown) => Buffer

/** zlib's own default level, which Kafka's producer uses too (compression.gzip.level -1). */
const GZIP_DEFAULT_LEVEL = 6

const gzipAt =
  (level: number): Compress =>
  (data) =>
    gzipSync(bufferOf(data), { level, memLevel: 9 })

/**
 * Levels Kafka's producer takes (`compression.gzip.level`, `compression.zstd.level`). Unset, the codec's
 * own default applies (gzip 6, zstd 3), as in Kafka.
 */
const COMPRESSION_LEVELS = {
  gzip: { min: 1, max: 9 },
  zstd: { min: 1, max: 22 },
} as const

export type LeveledCodec = keyof typeof COMPRESSION_LEVELS

/** True for a codec that takes a level. */
export function isLeveled(codec: string): codec is LeveledCodec {
  return Object.hasOwn(COMPRESSION_LEVELS, codec)
}

/** What is wrong with `level` for `codec` ("an integer 1–9 for gzip, got 12"), or undefined when nothing is. */
export function levelProblem(codec: LeveledCodec, level: number): string | undefined {
  const { min, max } = COMPRESSION_LEVELS[codec]
  return Number.isInteger(level) && level >= min && level <= max
    ? undefined
    : `an integer ${min}–${max} for ${codec}, got ${level}`
}

/** The level each codec's table entry was set to in this process (the client has one table for all). */
const installed = new Map<LeveledCodec, number>()

/**
 * Compresses `codec` at `level` from now on, as Kafka's `compression.gzip.level` / `compression.zstd.level`
 * do (the client itself takes no level: zlib's default 6 for gzip, zstd's 3). The client's codec table is
 * one per process, so two producers in one process asking different levels of one codec is refused.
 */
export function useCompressionLevel(codec: LeveledCodec, level: number): void {
  const problem = levelProblem(codec, level)
  if (problem !== undefined)
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `${codec} compression level (KAFKA_PRODUCER_COMPRESSION_LEVEL): expected ${problem}`,
    )
  const already = installed.get(codec)
  if (already === level) return
  if (already !== undefined)
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `${codec} compression level ${level}: this process already compresses ${codec} at level ${already} (one level per codec per process)`,
    )
  // The table's entries are typed readonly; they are plain objects the client reads at every batch.
  const entry = compressionsAlgorithms[codec] as unknown as { compressSync: Compress }
  entry.compressSync =
    codec === 'gzip'
      ? gzipAt(level)
      : (data) => zstdCompressSync(bufferOf(data), { params: { [constants.ZSTD_c_compressionLevel]: level } })
  installed.set(codec, level)
}

/** The client hands its codecs a Buffer or its own DynamicBuffer (whose `buffer` is the bytes). */
function bufferOf(data: unknown): Buffer {
  return Buffer.isBuffer(data) ? data : (data as { readonly buffer: Buffer }).buffer
}

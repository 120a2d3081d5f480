import { compressionsAlgorithms } from '@platformatic/kafka'

/**
 * Makes the client gzip record batches on the calling thread, as it already does snappy, lz4 and zstd.
 * Its gzip alone runs through a zlib stream on libuv's thread pool, which on a small host costs more than
 * it saves: each batch pays for the stream machinery and a round trip to the pool, and the pool's threads
 * compete with the event loop for the same cores. Weir scales by processes (one event loop per core,
 * partitions spread over them), so no spare core is there to take the work. Measured on 2 cores, the
 * MillionX schema validator (the seed's default FAUST_PRODUCER_COMPRESSION=gzip) drained 20.1k / 21.4k
 * records/s at 59.5 / 56.6 s CPU per million records with the pool, 30.2k / 33.4k at 37.6 / 31.5 s with
 * this (BENCHMARKS.md). The bytes are the same (zlib, default level); the client's one shared table is
 * changed, for every producer in the process.
 */
export function gzipOnCallingThread(): void {
  const gzip: { compress?: unknown } = compressionsAlgorithms.gzip
  if (gzip.compress !== undefined) delete gzip.compress
}

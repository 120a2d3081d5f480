/**
 * Runtime defaults that trade memory for throughput, in one place so the benchmarks can tune them
 * without touching the runner. Measured in BENCHMARKS.md ("Memory").
 */
export const runtimeDefaults = {
  /**
   * Records in flight (read, not yet fully processed) before fetching pauses. Stateless pipelines keep
   * almost none in flight; records held by windows without a changelog or by slow async operators
   * count here, so a low value would throttle those.
   */
  maxInFlight: 10_000,
  /**
   * Under exactly-once a checkpoint (and a revocation) first waits until no record is in flight, so the
   * transaction holds the results of exactly the records whose offsets it commits. Behind a slow async
   * operator, 10,000 records in flight made every checkpoint wait for all of them (seconds), past the
   * rebalance deadline. Two fetch batches keep the pipeline fed.
   */
  maxInFlightExactlyOnce: 1_000,
  /**
   * Unflushed sink items before fetching pauses. 10,000 keeps the Kafka producer's next request full
   * (one request carries up to ~2,000 records of 400 B) while bounding what waits in memory: with
   * 100,000 the backlog averaged 20,000–55,000 records under load, for ~35 MB more peak RSS and no
   * more throughput (workloads 1 and 2, BENCHMARKS.md).
   */
  maxBacklog: 10_000,
  /** How often the checkpoint runs, ms. */
  checkpointIntervalMs: 1000,
} as const

/**
 * Runtime defaults that trade memory for throughput, in one place so the benchmarks can tune them
 * without touching the runner.
 */
export const runtimeDefaults = {
  /** Records in flight (read, not yet fully processed) before fetching pauses. */
  maxInFlight: 10_000,
  /** Unflushed sink items before fetching pauses. */
  maxBacklog: 100_000,
  /** How often the checkpoint runs, ms. */
  checkpointIntervalMs: 1000,
} as const

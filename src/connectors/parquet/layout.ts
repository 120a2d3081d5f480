/** Hive-style date directories of event time in UTC, as seed 002 lays them out: `year=2026/month=03/day=07`. */
export function dayPartition(time: number): string {
  const d = new Date(time)
  if (Number.isNaN(d.getTime())) throw new TypeError(`event time ${time} is not a date`)
  const two = (n: number) => String(n).padStart(2, '0')
  return `year=${d.getUTCFullYear()}/month=${two(d.getUTCMonth() + 1)}/day=${two(d.getUTCDate())}`
}

/**
 * A file's name from the source partition and the offset of its first row, so a replay after a crash
 * writes the same name and replaces the file instead of adding a duplicate.
 */
export function partFileName(topic: string, partition: number, firstOffset: number): string {
  return `${topic}-${partition}-${String(firstOffset).padStart(20, '0')}.parquet`
}

/** Where the last archived offset of one source partition is kept (skipped by readers: `_` prefix). */
export function markerPath(directory: string, topic: string, partition: number): string {
  return `${directory}/_weir/${topic}.${partition}.json`
}

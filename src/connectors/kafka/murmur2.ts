/**
 * Kafka's murmur2 key hash (Java `Utils.murmur2`) in 32-bit integer arithmetic.
 *
 * The client (@platformatic/kafka 2.12) computes the same hash with BigInt, which cost ~4 % of the CPU
 * of a keyed pass-through; the sink computes the partition itself with this one and hands it over.
 * Same result bit for bit (test/unit/kafka-murmur2.test.ts compares them).
 *
 * @example murmur2(Buffer.from('sensor-1')) & 0x7fffffff // Java's partitioner, before `% partitions`
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  const m = 0x5bd1e995
  let h = 0x9747b28c ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  const rest = length & 3
  if (rest > 0) {
    if (rest === 3) h ^= data[whole + 2]! << 16
    if (rest >= 2) h ^= data[whole + 1]! << 8
    h ^= data[whole]!
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/**
 * The partition Kafka's Java producer (and Kafka Streams, kafka-python) picks for a key, before the
 * client takes it modulo the partition count: `toPositive(murmur2(key))`, i.e. the hash with its sign
 * bit cleared. The client's own default partitioner uses the unsigned hash (`>>> 0`), which sends about
 * half of all keys to a different partition than a Java producer would; records of one key written by
 * Weir and by a JVM app must land on the same partition for co-partitioned joins and per-key state.
 */
export function keyPartition(key: Uint8Array): number {
  return murmur2(key) & 0x7fffffff
}

/**
 * Kafka's murmur2 key hash (Java `Utils.murmur2`) in 32-bit integer arithmetic.
 *
 * The client (@platformatic/kafka 2.12) computes the same hash with BigInt, which cost ~4 % of the CPU
 * of a keyed pass-through; the sink computes the partition itself with this one and hands it over.
 * Same result bit for bit (test/unit/kafka-murmur2.test.ts compares them).
 *
 * @example murmur2(Buffer.from('sensor-1')) >>> 0 // the client's default partitioner, before `% partitions`
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
 * The partition the client's default partitioner picks for a key, before it takes the result modulo
 * the topic's partition count (it does that itself for explicit partitions too).
 */
export function keyPartition(key: Uint8Array): number {
  return murmur2(key) >>> 0
}

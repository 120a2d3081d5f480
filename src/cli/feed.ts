import type { AppGenerator, GeneratedRecord } from '../apps/app.ts'
import type { RecordSink } from '../connectors/contract.ts'

export interface FeedOptions {
  /** Records per second; 0 = as fast as the sink takes them. */
  readonly rate: number
  /** Stop after this many; 0 = until stopped. */
  readonly count: number
  /** Flush (wait for acks) every this many records. */
  readonly flushEvery?: number
  readonly signal?: AbortSignal
  readonly onProgress?: (sent: number) => void
  /**
   * Called (and awaited) once per topic before its first record: `weir produce` creates the topic
   * there, since a Kafka producer writing to a topic that does not exist waits for it forever.
   */
  readonly beforeFirst?: (topic: string) => Promise<void>
}

/** Serializes a generated value: JSON, unless the generator made raw bytes (malformed on purpose). */
export function encodeValue(value: unknown): Buffer | null {
  if (value === null) return null
  if (Buffer.isBuffer(value)) return value
  return Buffer.from(JSON.stringify(value), 'utf8')
}

/**
 * Writes generated records to a sink at a steady rate (in 10 ms ticks), flushing as it goes so memory
 * stays flat. Values go through the generator's `encode` when it has one (Avro), else `encodeValue`.
 * Resolves with the number written once `count` is reached or the signal aborts.
 */
export async function feed(generator: AppGenerator, sink: RecordSink, options: FeedOptions): Promise<number> {
  const flushEvery = options.flushEvery ?? 5000
  const started = performance.now()
  let sent = 0
  let sinceFlush = 0
  const limit = options.count > 0 ? options.count : Number.POSITIVE_INFINITY
  const seen = new Set<string>()
  const encode = generator.encode?.bind(generator) ?? ((r: GeneratedRecord) => encodeValue(r.value))
  while (sent < limit && !options.signal?.aborted) {
    const due =
      options.rate > 0
        ? Math.min(limit, Math.floor(((performance.now() - started) / 1000) * options.rate) + 1)
        : sent + 1000
    const target = Math.min(limit, due)
    while (sent < target) {
      const r = generator.next()
      if (options.beforeFirst !== undefined && !seen.has(r.topic)) {
        await options.beforeFirst(r.topic)
        seen.add(r.topic)
      }
      let value = encode(r)
      if (value instanceof Promise) value = await value
      sink.add({
        topic: r.topic,
        key: r.key === null ? null : Buffer.from(r.key),
        value,
        timestamp: r.timestamp,
      })
      sent++
      if (++sinceFlush >= flushEvery) {
        sinceFlush = 0
        await sink.flush()
        options.onProgress?.(sent)
      }
    }
    if (options.rate > 0) await new Promise((r) => setTimeout(r, 10))
    else if (sinceFlush === 0) await new Promise((r) => setImmediate(r))
  }
  await sink.flush()
  options.onProgress?.(sent)
  return sent
}

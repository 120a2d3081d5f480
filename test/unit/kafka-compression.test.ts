import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  compressionsAlgorithms,
  createRecordsBatchAsync,
  Reader,
  readRecordsBatch,
} from '@platformatic/kafka'
import { gzipOnCallingThread, useCompressionLevel } from '../../src/connectors/kafka/compression.ts'
import { validateKafkaOptions } from '../../src/connectors/kafka/options.ts'

describe('gzip on the calling thread', () => {
  it('takes the client off the thread pool for gzip, and its batches still read back', async () => {
    gzipOnCallingThread()
    gzipOnCallingThread() // a second sink opening: nothing left to change
    assert.equal((compressionsAlgorithms.gzip as { compress?: unknown }).compress, undefined)

    const messages = Array.from({ length: 50 }, (_, i) => ({
      topic: 't',
      partition: 0,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(JSON.stringify({ i, text: 'the same words, again and again '.repeat(4) })),
      timestamp: 1_700_000_000_000n + BigInt(i),
    }))
    // The produce path the client takes for gzip: batches built asynchronously, compressed in place.
    const writer = await createRecordsBatchAsync(messages, { compression: 'gzip' })
    const bytes = writer.buffer
    const raw = messages.reduce((n, m) => n + m.value.length, 0)
    assert.ok(bytes.length < raw / 4, `compressed: ${bytes.length} bytes for ${raw}`)
    const batch = readRecordsBatch(Reader.from(bytes))
    assert.equal(batch.attributes & 0x07, 1, 'the batch says gzip')
    assert.deepEqual(
      batch.records.map((r) => r.value?.toString()),
      messages.map((m) => m.value.toString()),
    )
  })
})

describe('compression level', () => {
  const messages = Array.from({ length: 200 }, (_, i) => ({
    topic: 't',
    partition: 0,
    key: Buffer.from(`k${i}`),
    value: Buffer.from(
      JSON.stringify({ i, sensor: `METR_LA_${i % 207}`, speed: (i * 7.3) % 80, at: 1_700_000_000 + i }),
    ),
    timestamp: 1_700_000_000_000n + BigInt(i),
  }))
  const batchBytes = async (compression: 'gzip' | 'zstd') =>
    (await createRecordsBatchAsync(messages, { compression })).buffer

  it('compresses gzip and zstd at the level asked (Kafka’s compression.*.level), still readable', async () => {
    gzipOnCallingThread()
    const gzipDefault = (await batchBytes('gzip')).length
    useCompressionLevel('gzip', 1)
    const gzipFast = await batchBytes('gzip')
    assert.ok(gzipFast.length > gzipDefault, `level 1 is larger than 6: ${gzipFast.length} vs ${gzipDefault}`)
    const zstdDefault = (await batchBytes('zstd')).length
    useCompressionLevel('zstd', 19)
    const zstdStrong = await batchBytes('zstd')
    assert.ok(
      zstdStrong.length < zstdDefault,
      `level 19 is smaller than 3: ${zstdStrong.length} vs ${zstdDefault}`,
    )
    for (const [bytes, codec] of [
      [gzipFast, 1],
      [zstdStrong, 4],
    ] as const) {
      const batch = readRecordsBatch(Reader.from(bytes))
      assert.equal(batch.attributes & 0x07, codec)
      assert.deepEqual(
        batch.records.map((r) => r.value?.toString()),
        messages.map((m) => m.value.toString()),
      )
    }
    useCompressionLevel('gzip', 1) // the same level again: nothing to change
    assert.throws(() => useCompressionLevel('gzip', 9), /already compresses gzip at level 1/)
    assert.throws(() => useCompressionLevel('gzip', 10), /expected an integer 1–9 for gzip, got 10/)
  })

  it('is refused, naming the variable, without gzip or zstd or out of range', () => {
    const base = { brokers: ['127.0.0.1:9092'] }
    assert.throws(
      () => validateKafkaOptions({ ...base, producer: { compressionLevel: 1 } }),
      /KAFKA_PRODUCER_COMPRESSION_LEVEL.*no level with compression none/,
    )
    assert.throws(
      () => validateKafkaOptions({ ...base, producer: { compression: 'lz4', compressionLevel: 1 } }),
      /no level with compression lz4/,
    )
    assert.throws(
      () => validateKafkaOptions({ ...base, producer: { compression: 'zstd', compressionLevel: 23 } }),
      /an integer 1–22 for zstd, got 23/,
    )
    validateKafkaOptions({ ...base, producer: { compression: 'gzip', compressionLevel: 9 } })
  })
})

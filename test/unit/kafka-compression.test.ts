import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  compressionsAlgorithms,
  createRecordsBatchAsync,
  Reader,
  readRecordsBatch,
} from '@platformatic/kafka'
import { gzipOnCallingThread } from '../../src/connectors/kafka/compression.ts'

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

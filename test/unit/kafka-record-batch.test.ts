import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type CreateRecordsBatchOptions,
  createRecord,
  createRecordsBatch,
  type MessageRecord,
  Reader,
  readRecordsBatch,
} from '@platformatic/kafka'

// The client's record batch encoder as patched by patches/ (npm ci applies them): one Buffer per batch
// instead of ~8 per record (@platformatic+kafka), the same bytes as the client's own per-record encoder
// (createRecord), and timestamps weeks apart encoded as Kafka does (@platformatic+dynamic-buffer, whose
// 64-bit varints both use).

type Message = {
  topic: string
  partition: number
  key?: Buffer
  value?: Buffer
  headers?: Map<Buffer, Buffer>
  timestamp: bigint
}

/** A small deterministic generator, so a failure names the case that made it. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
}

function messagesOf(seed: number, spreadMs: number): Message[] {
  const next = random(seed)
  const bytes = (): Buffer | undefined => {
    const r = next()
    if (r < 0.1) return undefined
    if (r < 0.2) return Buffer.alloc(0)
    const size = Math.floor(next() * (next() < 0.05 ? 20_000 : 300))
    return Buffer.from('é'.repeat(size).slice(0, size))
  }
  const base = 1_764_000_000_000n
  return Array.from({ length: 1 + Math.floor(next() * 200) }, () => {
    const headers = next() < 0.3 ? undefined : new Map<Buffer, Buffer>()
    for (let h = Math.floor(next() * 4); headers && h > 0; h--)
      headers.set(bytes() ?? Buffer.from('k'), bytes() ?? Buffer.alloc(0))
    return {
      topic: 't',
      partition: 0,
      key: bytes(),
      value: bytes(),
      headers,
      timestamp: base + BigInt(Math.floor((next() - 0.5) * spreadMs)),
    }
  })
}

/** The records section as the client's unpatched path writes it: createRecord for each message. */
function recordsOneByOne(messages: readonly Message[]): Buffer {
  const first = messages[0]!.timestamp
  return Buffer.concat(
    messages.map((m, i) => createRecord(m as Parameters<typeof createRecord>[0], i, first).buffer),
  )
}

/** The client's batch encoder. Its type wants a value; a tombstone (no value) is encoded all the same. */
const batchOf = (messages: readonly Message[], options: Partial<CreateRecordsBatchOptions> = {}) =>
  createRecordsBatch(messages as MessageRecord[], options)

/** A batch's records section: the batch minus its 61-byte header (offset … record count). */
const recordsOf = (batch: Buffer) => batch.subarray(61)

describe('record batches (the patched client encoder)', () => {
  it('builds a batch from a handful of Buffers, not several per record', () => {
    const messages = messagesOf(1, 1000)
    const writer = batchOf(messages)
    assert.ok(
      writer.buffers.length < 20,
      `${writer.buffers.length} Buffers for ${messages.length} records: is the patch applied (npm ci)?`,
    )
  })

  it('writes the same bytes as the client writes one record at a time', () => {
    // Timestamps up to ±2^40 ms apart: most batches have deltas past 2^31 ms.
    for (let seed = 1; seed <= 150; seed++) {
      const batch = batchOf(messagesOf(seed, 2 ** 41)).buffer
      assert.ok(
        recordsOf(batch).equals(recordsOneByOne(messagesOf(seed, 2 ** 41))),
        `seed ${seed}: the records differ`,
      )
    }
  })

  it('a batch the patch does not cover (a Uint8Array key) takes the original path: the same batch', () => {
    const options = { producerId: 5n, producerEpoch: 1 }
    const withKey = (key: Buffer | Uint8Array) => {
      const messages = messagesOf(7, 2 ** 41)
      // The client's type says Buffer; a Uint8Array is what a caller may pass all the same.
      messages[messages.length - 1]!.key = key as Buffer
      return batchOf(messages, options).buffer
    }
    const viaPatch = withKey(Buffer.from('the key'))
    const viaOriginal = withKey(new Uint8Array(Buffer.from('the key')))
    assert.ok(viaPatch.equals(viaOriginal), 'the whole batch, CRC included, is the same either way')
  })

  it('keeps timestamps 2^31 ms and more apart exact, on either path (the unpatched client corrupts them)', () => {
    const base = 1_764_000_000_000n
    const deltas = [2n ** 31n, -(2n ** 31n) - 7n, 40n * 86_400_000n, -300_000_000_000n, 2n ** 40n + 5n]
    const messages = (firstKey: Buffer): Message[] =>
      [0n, ...deltas].map((delta, i) => ({
        topic: 't',
        partition: 0,
        key: i === 0 ? firstKey : Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
        timestamp: base + delta,
      }))
    // A Uint8Array key (not a Buffer) sends the batch down the client's own path.
    const batches = [batchOf(messages(Buffer.from('k0'))), batchOf(messages(new Uint8Array(2) as Buffer))]
    for (const batch of batches.map((b) => readRecordsBatch(Reader.from(b.buffer)))) {
      assert.deepEqual(
        batch.records.map((r) => r.timestampDelta),
        [0n, ...deltas],
      )
      assert.equal(batch.maxTimestamp, base + 2n ** 40n + 5n)
    }
  })
})

/**
 * The read_committed filter (dropAbortedRecords) against logs built the way a broker builds them:
 * transactions of two transactional producers interleaved with plain writes, some committed, some aborted
 * with data, some aborted after only adding the partition (an ABORT marker the broker does not list). A
 * fetch response may start and end at any batch, so every window of every log is checked: the filter must
 * keep exactly the committed records in it. The broker side (which aborted transactions a fetch lists) is
 * Kafka's rule: those that wrote to the partition, whose marker is at or after the fetch offset and whose
 * first offset is before the end of the data returned.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { IS_CONTROL, type RecordsBatch } from '@platformatic/kafka'
import { dropAbortedRecords } from '../../src/connectors/kafka/aborted.ts'
import { createRng } from '../../src/generators/rng.ts'

const IS_TRANSACTIONAL = 0x10

interface Built {
  readonly batches: RecordsBatch[]
  /** Offsets of records a read_committed reader must see. */
  readonly committed: Set<bigint>
  /** Aborted transactions that wrote to the partition, as the broker's index holds them. */
  readonly aborted: Array<{ producerId: bigint; firstOffset: bigint; lastOffset: bigint }>
}

/** A random partition log of `steps` writes. */
function buildLog(seed: number, steps: number): Built {
  const rng = createRng(seed)
  const random = () => rng.next()
  const batches: RecordsBatch[] = []
  const committed = new Set<bigint>()
  const aborted: Built['aborted'] = []
  let offset = 0n
  // Per producer id: the open transaction's data offsets and whether it added the partition.
  const open = new Map<bigint, { offsets: bigint[]; first?: bigint }>()
  const batch = (producerId: bigint, attributes: number, count: number): bigint[] => {
    const offsets = Array.from({ length: count }, (_, i) => offset + BigInt(i))
    batches.push({
      firstOffset: offset,
      lastOffsetDelta: count - 1,
      attributes,
      producerId,
      records: offsets.map((_, i) => ({ offsetDelta: i })),
    } as unknown as RecordsBatch)
    offset += BigInt(count)
    return offsets
  }
  for (let s = 0; s < steps; s++) {
    const producerId = random() < 0.5 ? 7n : 9n
    const r = random()
    const txn = open.get(producerId)
    if (r < 0.15) {
      for (const o of batch(3n, 0, 1 + Math.floor(random() * 3))) committed.add(o)
    } else if (r < 0.55 || txn === undefined) {
      // Data in the producer's transaction, or (one time in five) the partition only added to it.
      const t = txn ?? { offsets: [] }
      open.set(producerId, t)
      if (txn === undefined && random() < 0.2) continue
      const written = batch(producerId, IS_TRANSACTIONAL, 1 + Math.floor(random() * 3))
      t.first ??= written[0]
      t.offsets.push(...written)
    } else {
      const abort = random() < 0.5
      const [marker] = batch(producerId, IS_TRANSACTIONAL | IS_CONTROL, 1)
      open.delete(producerId)
      if (!abort) for (const o of txn.offsets) committed.add(o)
      else if (txn.first !== undefined)
        aborted.push({ producerId, firstOffset: txn.first, lastOffset: marker! })
    }
  }
  // What is still open ends aborted (read_committed reads up to the last stable offset only).
  for (const [producerId, txn] of open) {
    const [marker] = batch(producerId, IS_TRANSACTIONAL | IS_CONTROL, 1)
    if (txn.first !== undefined) aborted.push({ producerId, firstOffset: txn.first, lastOffset: marker! })
  }
  return { batches, committed, aborted }
}

/** The records `dropAbortedRecords` keeps of a response holding batches [from, to). */
function readWindow(log: Built, from: number, to: number): bigint[] {
  const records = log.batches.slice(from, to).map((b) => ({ ...b, records: [...b.records] }))
  const fetchOffset = records[0]!.firstOffset
  const upperBound = records.at(-1)!.firstOffset + BigInt(records.at(-1)!.lastOffsetDelta) + 1n
  const abortedTransactions = log.aborted
    .filter((a) => a.lastOffset >= fetchOffset && a.firstOffset < upperBound)
    .map(({ producerId, firstOffset }) => ({ producerId, firstOffset }))
  dropAbortedRecords({ responses: [{ partitions: [{ abortedTransactions, records }] }] })
  const kept: bigint[] = []
  for (const b of records) {
    if (b.attributes & IS_CONTROL) continue
    for (const r of b.records) kept.push(b.firstOffset + BigInt(r.offsetDelta))
  }
  return kept
}

describe('dropAbortedRecords', () => {
  it('keeps exactly the committed records of any response window of random logs', () => {
    let windows = 0
    for (let seed = 1; seed <= 60; seed++) {
      const log = buildLog(seed, 40)
      const n = log.batches.length
      for (let from = 0; from < n; from++) {
        for (let to = from + 1; to <= n; to++) {
          const kept = readWindow(log, from, to)
          const inWindow = log.batches
            .slice(from, to)
            .filter((b) => !(b.attributes & IS_CONTROL))
            .flatMap((b) => b.records.map((r) => b.firstOffset + BigInt(r.offsetDelta)))
          const want = inWindow.filter((o) => log.committed.has(o))
          assert.deepEqual(kept, want, `seed ${seed}, batches [${from}, ${to})`)
          windows++
        }
      }
    }
    assert.ok(windows > 10_000, `${windows} windows checked`)
  })

  it('a log with an unlisted abort after a listed one keeps the commits between them', () => {
    // The shape the fault suite met: aborted data, committed data, an abort that only added the partition.
    const log: Built = { batches: [], committed: new Set([3n, 4n, 7n]), aborted: [] }
    const add = (firstOffset: bigint, count: number, attributes: number) =>
      log.batches.push({
        firstOffset,
        lastOffsetDelta: count - 1,
        attributes,
        producerId: 7n,
        records: Array.from({ length: count }, (_, i) => ({ offsetDelta: i })),
      } as unknown as RecordsBatch)
    add(0n, 2, IS_TRANSACTIONAL) // aborted
    add(2n, 1, IS_TRANSACTIONAL | IS_CONTROL) // ABORT (listed)
    add(3n, 2, IS_TRANSACTIONAL) // committed
    add(5n, 1, IS_TRANSACTIONAL | IS_CONTROL) // COMMIT
    add(6n, 1, IS_TRANSACTIONAL | IS_CONTROL) // ABORT of a transaction with no data here (not listed)
    add(7n, 1, IS_TRANSACTIONAL) // committed
    add(8n, 1, IS_TRANSACTIONAL | IS_CONTROL) // COMMIT
    log.aborted.push({ producerId: 7n, firstOffset: 0n, lastOffset: 2n })
    assert.deepEqual(readWindow(log, 0, log.batches.length), [3n, 4n, 7n])
  })
})

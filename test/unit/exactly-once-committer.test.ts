/**
 * The exactly-once committer refuses to add offsets to a transaction while the source is not a member of
 * its group: with no member id and generation the broker accepts a transactional offset commit unchecked
 * (Kafka's group coordinator skips its generation check for them), so a member dropped from the group
 * would commit as a zombie. The transaction is aborted instead and the run stops, to resume from the last
 * commit.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type {
  CommitOffset,
  ConsumerGroupMetadata,
  GroupSource,
  TransactionalSink,
} from '../../src/connectors/contract.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { exactlyOnce } from '../../src/runtime/commit.ts'

function parts(group: ConsumerGroupMetadata) {
  const sent: Array<{ offsets: readonly CommitOffset[]; group: ConsumerGroupMetadata }> = []
  let aborts = 0
  const source = { id: 'fake', groupMetadata: () => group } as unknown as GroupSource
  const sink = {
    id: 'fake',
    transactional: true,
    add() {},
    flush: async () => {},
    backlog: () => 0,
    status: () => ({ connected: true }),
    close: async () => {},
    sendOffsets: async (offsets: readonly CommitOffset[], g: ConsumerGroupMetadata) => {
      sent.push({ offsets, group: g })
    },
    commitTransaction: async () => {},
    abortTransaction: async () => {
      aborts++
    },
  } as unknown as TransactionalSink
  return { committer: exactlyOnce(source, sink), sent, aborts: () => aborts }
}

const offsets = [{ topic: 't', partition: 0, offset: 5 }]

describe('exactly-once committer', () => {
  it('adds offsets with the member id and generation of a current member', async () => {
    const p = parts({ groupId: 'g', memberId: 'm-1', generationId: 3 })
    await p.committer.prepare!(offsets)
    assert.deepEqual(p.sent, [{ offsets, group: { groupId: 'g', memberId: 'm-1', generationId: 3 } }])
  })

  it('refuses while the source is not a member (no member id or generation): nothing is sent', async () => {
    for (const group of [
      { groupId: 'g', memberId: '', generationId: -1 },
      { groupId: 'g', memberId: '', generationId: 4 },
      { groupId: 'g', memberId: 'm-1', generationId: -1 },
    ]) {
      const p = parts(group)
      await assert.rejects(
        p.committer.prepare!(offsets),
        (e: unknown) => e instanceof WeirError && e.code === ErrorCode.TRANSACTION_ABORTED && !e.retriable,
      )
      assert.deepEqual(p.sent, [])
      // The checkpoint fails with it: the transaction is aborted and the run may commit nothing more.
      assert.equal(await p.committer.failed(new WeirError(ErrorCode.TRANSACTION_ABORTED, 'x')), false)
      assert.equal(p.aborts(), 1)
    }
  })

  it('a checkpoint with no offsets (timer output only) needs no membership', async () => {
    const p = parts({ groupId: 'g', memberId: '', generationId: -1 })
    await p.committer.prepare!([])
    assert.deepEqual(p.sent, [])
  })
})

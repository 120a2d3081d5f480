import { type Consumer, IS_CONTROL, type RecordsBatch } from '@platformatic/kafka'

/** Record-batch attribute: written by a transactional producer. */
const IS_TRANSACTIONAL = 0x10

interface FetchedPartition {
  readonly abortedTransactions?: ReadonlyArray<{
    readonly producerId: bigint
    readonly firstOffset: bigint
  }> | null
  records?: RecordsBatch[] | null
}

interface FetchedResponse {
  readonly responses: ReadonlyArray<{ readonly partitions: readonly FetchedPartition[] }>
}

/**
 * Empties the record batches of aborted transactions in a read_committed fetch response, as the Java
 * consumer does: the aborted transactions the broker lists, in offset order, mark their producer as
 * aborting from their first offset until that producer's next control marker.
 *
 * @platformatic/kafka 2.12 keeps one aborted range per producer id per response, so when a producer
 * aborted several transactions (a transactional id restarted after kill -9 keeps its producer id)
 * only the last range is dropped and the others reach read_committed readers: changelog restores and
 * downstream apps would see aborted records. The batches are kept (emptied), so a reader still
 * advances its fetch offset past them.
 */
export function dropAbortedRecords(response: FetchedResponse): void {
  for (const topic of response.responses) {
    for (const p of topic.partitions) {
      const listed = p.abortedTransactions
      if (!listed || listed.length === 0 || !p.records) continue
      const pending = [...listed].sort((a, b) =>
        a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
      )
      const aborting = new Set<bigint>()
      for (const batch of p.records) {
        const last = batch.firstOffset + BigInt(batch.lastOffsetDelta)
        while (pending.length > 0 && pending[0]!.firstOffset <= last)
          aborting.add(pending.shift()!.producerId)
        if (batch.attributes & IS_CONTROL) {
          aborting.delete(batch.producerId)
          continue
        }
        if (batch.attributes & IS_TRANSACTIONAL && aborting.has(batch.producerId)) {
          ;(batch as { records: RecordsBatch['records'] }).records = []
        }
      }
    }
  }
}

/**
 * Makes every fetch of `consumer` (its own message streams included) drop aborted records correctly
 * (see dropAbortedRecords).
 */
export function filterAbortedFetches(consumer: Consumer): void {
  const original = consumer.fetch.bind(consumer)
  type Fetch = typeof consumer.fetch
  type Callback = (error: Error | null, response?: FetchedResponse) => void
  const wrapped = ((options: Parameters<Fetch>[0], callback?: Callback) => {
    if (callback === undefined) {
      return (original(options) as unknown as Promise<FetchedResponse>).then((r) => {
        dropAbortedRecords(r)
        return r
      })
    }
    return (original as unknown as (o: unknown, cb: Callback) => void)(options, (error, response) => {
      if (!error && response) dropAbortedRecords(response)
      callback(error, response)
    })
  }) as unknown as Fetch
  consumer.fetch = wrapped
}

import { promisify } from 'node:util'
import { type Consumer, IS_CONTROL, kGetApi, type RecordsBatch } from '@platformatic/kafka'

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

/** Where a response's aborted-transaction list is kept, out of the client's own filter's sight. */
const LISTED = Symbol('weir.abortedTransactions')

type Listed = FetchedPartition['abortedTransactions']

/**
 * Empties the record batches of aborted transactions in a read_committed fetch response, as the Java
 * consumer does: the aborted transactions the broker lists, in offset order, mark their producer as
 * aborting from their first offset until that producer's next control marker. The batches are kept
 * (emptied), so a reader still advances its fetch offset past them.
 */
export function dropAbortedRecords(response: FetchedResponse): void {
  for (const topic of response.responses) {
    for (const p of topic.partitions) {
      const listed = (p as { [LISTED]?: Listed })[LISTED] ?? p.abortedTransactions
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

/** Moves each partition's aborted-transaction list to LISTED, leaving the client's filter an empty one. */
function hideListed(response: FetchedResponse): void {
  for (const topic of response.responses) {
    for (const p of topic.partitions) {
      if (!p.abortedTransactions || p.abortedTransactions.length === 0) continue
      ;(p as { [LISTED]?: Listed })[LISTED] = p.abortedTransactions
      ;(p as { abortedTransactions: Listed }).abortedTransactions = []
    }
  }
}

type ApiCallback = (error: Error | null, response?: FetchedResponse) => void
type FetchApi = ((...args: unknown[]) => void) & Record<string, unknown>

/**
 * Makes every read_committed fetch of `consumer` (its own message streams included) drop exactly the
 * records of aborted transactions (see dropAbortedRecords).
 *
 * @platformatic/kafka 2.12 filters read_committed responses itself, wrongly in two ways: it keeps one
 * aborted range per producer id, so when a producer aborted several transactions (a transactional id
 * restarted after kill -9 keeps its producer id) the others reach readers; and it ends that range at the
 * producer's last ABORT marker in the response, which may belong to a later transaction that wrote nothing
 * to the partition (it only added it) and so is not listed: every committed record in between is dropped.
 * Changelog restores lost state and readers lost records that way. Its filter runs inside `fetch`, on the
 * parsed response, so the Fetch API the consumer is given hands it an empty list (the real one kept aside),
 * and this module's filter runs on what `fetch` returns.
 */
export function filterAbortedFetches(consumer: Consumer): void {
  // The client's API lookup (an exported symbol, the hook its own clients use).
  const host = consumer as unknown as Record<
    symbol,
    (name: string, cb: (e: Error | null, api?: FetchApi) => void) => void
  >
  const getApi = host[kGetApi]!.bind(consumer)
  const wrapped = new WeakMap<FetchApi, FetchApi>()
  host[kGetApi] = (name, callback) =>
    getApi(name, (error, api) => {
      if (error || api === undefined || name !== 'Fetch') return callback(error, api)
      let hiding = wrapped.get(api)
      if (hiding === undefined) {
        const original = api
        hiding = Object.assign((...args: unknown[]) => {
          const done = (typeof args.at(-1) === 'function' ? args.pop() : undefined) as ApiCallback | undefined
          original(...args, (e: Error | null, response?: FetchedResponse) => {
            if (!e && response) hideListed(response)
            done?.(e, response)
          })
        }, original)
        // Its promise form too (the client's APIs carry one), should the consumer use that.
        hiding.async = promisify(hiding)
        wrapped.set(api, hiding)
      }
      callback(null, hiding)
    })
  const original = consumer.fetch.bind(consumer)
  type Fetch = typeof consumer.fetch
  const fetch = ((options: Parameters<Fetch>[0], callback?: ApiCallback) => {
    if (callback === undefined) {
      return (original(options) as unknown as Promise<FetchedResponse>).then((r) => {
        dropAbortedRecords(r)
        return r
      })
    }
    return (original as unknown as (o: unknown, cb: ApiCallback) => void)(options, (error, response) => {
      if (!error && response) dropAbortedRecords(response)
      callback(error, response)
    })
  }) as unknown as Fetch
  consumer.fetch = fetch
}

import type { Consumer } from '@platformatic/kafka'

interface FetchRequest {
  readonly topics: ReadonlyArray<{
    readonly topicId: string
    readonly partitions: ReadonlyArray<{ readonly partition: number; readonly fetchOffset: bigint }>
  }>
}

interface FetchResponse {
  readonly responses: ReadonlyArray<{
    readonly topicId: string
    readonly partitions: ReadonlyArray<{
      readonly partitionIndex: number
      readonly errorCode: number
      readonly highWatermark: bigint
      readonly lastStableOffset: bigint
      readonly records?: ReadonlyArray<{
        readonly firstOffset: bigint
        readonly lastOffsetDelta: number
      }> | null
    }>
  }>
}

/**
 * Per partition, the wall time as of which this member had handed out everything Kafka held: the
 * signal that lets windows close on the wall clock only while the input is really drained (see
 * time/watermark.ts).
 *
 * A fetch sent at `t` whose answer leaves the partition's read position at its last stable offset
 * (read_committed's end) makes `t` a candidate: nothing produced before `t` is left in Kafka. The
 * candidate holds once the records of that answer are handed out: the next time `batches()` finds the
 * client's buffer empty. A fetch that fails, or a partition behind its end, adds nothing, so while the
 * broker is unreachable or a backlog is read the time stands still.
 */
export class CaughtUp {
  /** Last end seen per partition: an incremental fetch session leaves out partitions with nothing new. */
  readonly #ends = new Map<string, bigint>()
  readonly #candidates = new Map<string, number>()
  readonly #at = new Map<string, number>()
  /** Bumped when the stream is replaced: answers to an old stream's fetches never reach the new buffer. */
  #epoch = 0

  /** Watches the fetches of `consumer`'s message streams (callback style; others pass untouched). */
  watch(consumer: Consumer): void {
    const original = consumer.fetch.bind(consumer) as unknown as (o: unknown, cb?: Callback) => unknown
    type Callback = (error: Error | null, response?: FetchResponse) => void
    const wrapped = (options: FetchRequest, callback?: Callback) => {
      if (callback === undefined) return original(options)
      const sentAt = Date.now()
      const epoch = this.#epoch
      return original(options, (error, response) => {
        // The stream takes the records into its buffer first, so a later empty buffer includes them.
        callback(error, response)
        if (!error && response && epoch === this.#epoch) this.#fetched(consumer, options, response, sentAt)
      })
    }
    consumer.fetch = wrapped as unknown as typeof consumer.fetch
  }

  /** The client's buffer was found empty: every candidate's records were handed out. */
  drained(): void {
    for (const [tp, t] of this.#candidates)
      if (t > (this.#at.get(tp) ?? Number.NEGATIVE_INFINITY)) this.#at.set(tp, t)
    this.#candidates.clear()
  }

  /** Wall time (Date.now()) as of which partition `topic:partition` was drained; undefined: not yet. */
  at(tp: string): number | undefined {
    return this.#at.get(tp)
  }

  /** The stream was dropped or replaced: what its buffer held will not be handed out. */
  restart(): void {
    this.#epoch++
    this.#candidates.clear()
  }

  /**
   * Keeps only these partitions (a new assignment): one coming back starts unknown. Ends are kept: they
   * are facts about the log, and a fetch session leaves out a partition whose end did not move.
   */
  retain(tps: ReadonlySet<string>): void {
    for (const m of [this.#candidates, this.#at]) for (const tp of m.keys()) if (!tps.has(tp)) m.delete(tp)
  }

  #fetched(consumer: Consumer, request: FetchRequest, response: FetchResponse, sentAt: number): void {
    const names = new Map<string, string>()
    for (const [name, topic] of consumer.currentMetadata?.topics ?? []) names.set(topic.id, name)
    const answered = new Map<string, { end: bigint; next: bigint } | null>()
    for (const topic of response.responses) {
      const name = names.get(topic.topicId)
      if (name === undefined) continue
      for (const p of topic.partitions) {
        if (p.errorCode !== 0) {
          answered.set(`${name}:${p.partitionIndex}`, null)
          continue
        }
        const last = p.records?.at(-1)
        answered.set(`${name}:${p.partitionIndex}`, {
          end: p.lastStableOffset >= 0n ? p.lastStableOffset : p.highWatermark,
          next: last === undefined ? -1n : last.firstOffset + BigInt(last.lastOffsetDelta) + 1n,
        })
      }
    }
    for (const topic of request.topics) {
      const name = names.get(topic.topicId)
      if (name === undefined) continue
      for (const { partition, fetchOffset } of topic.partitions) {
        const tp = `${name}:${partition}`
        const a = answered.get(tp)
        if (a === null) continue
        if (a !== undefined) this.#ends.set(tp, a.end)
        // Left out of the answer: nothing new since the last one (KIP-227 fetch sessions).
        const end = this.#ends.get(tp)
        if (end === undefined) continue
        const position = a === undefined || a.next < fetchOffset ? fetchOffset : a.next
        if (position >= end) this.#candidates.set(tp, sentAt)
      }
    }
  }
}

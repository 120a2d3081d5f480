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

/** Beyond its wait, how late a fetch's answer may come before the broker counts as having been away. */
const HANG_MARGIN_MS = 1000

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
 *
 * It also tells since when each partition's broker has answered without a break: a fetch that failed, or
 * that took far longer than its wait (a broker frozen with its connections open answers only once it is
 * back), starts a new span at the next good answer. Producers lost the same broker meanwhile, so quiet
 * before that answer is no lack of data (see time/watermark.ts).
 */
export class CaughtUp {
  /** Last end seen per partition: an incremental fetch session leaves out partitions with nothing new. */
  readonly #ends = new Map<string, bigint>()
  readonly #candidates = new Map<string, number>()
  readonly #at = new Map<string, number>()
  /** Per partition, when its broker last answered after a break. */
  readonly #reachableSince = new Map<string, number>()
  /** Partitions whose last fetch failed or hung: the next good answer ends the break. */
  readonly #broken = new Set<string>()
  /** A fetch answered later than this after it was sent went unanswered: the broker was away. */
  readonly #hungAfterMs: number
  /** Bumped when the stream is replaced: answers to an old stream's fetches never reach the new buffer. */
  #epoch = 0

  /** `maxWaitMs`: the fetches' wait for data; an answer takes at most that unless the broker is away. */
  constructor(maxWaitMs: number) {
    this.#hungAfterMs = maxWaitMs + HANG_MARGIN_MS
  }

  /** Watches the fetches of `consumer`'s message streams (callback style; others pass untouched). */
  watch(consumer: Consumer): void {
    const original = consumer.fetch.bind(consumer) as unknown as (o: unknown, cb?: Callback) => unknown
    type Callback = (error: Error | null, response?: FetchResponse) => void
    const wrapped = (options: FetchRequest, callback?: Callback) => {
      if (callback === undefined) return original(options)
      const sentAt = Date.now()
      const epoch = this.#epoch
      return original(options, (error, response) => {
        const answeredAt = Date.now()
        // The stream takes the records into its buffer first, so a later empty buffer includes them.
        callback(error, response)
        const names = topicNames(consumer)
        const good =
          error || !response
            ? undefined
            : this.#fetched(names, options, response, sentAt, epoch === this.#epoch)
        this.#contact(names, options, good, answeredAt - sentAt > this.#hungAfterMs, answeredAt)
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

  /** Wall time since which partition `topic:partition`'s broker answered without a break; undefined: none seen. */
  reachableSince(tp: string): number | undefined {
    return this.#reachableSince.get(tp)
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
    for (const m of [this.#candidates, this.#at, this.#reachableSince])
      for (const tp of m.keys()) if (!tps.has(tp)) m.delete(tp)
  }

  /**
   * Notes the break a failed or hung fetch shows, and its end: `good` holds the partitions answered
   * without error (none when the fetch failed).
   */
  #contact(
    names: ReadonlyMap<string, string>,
    request: FetchRequest,
    good: ReadonlySet<string> | undefined,
    hung: boolean,
    answeredAt: number,
  ): void {
    for (const [tp] of requested(names, request)) {
      if (good === undefined || !good.has(tp)) this.#broken.add(tp)
      else if (this.#broken.delete(tp) || hung) this.#reachableSince.set(tp, answeredAt)
    }
  }

  /**
   * Takes a fetch's answer: the partitions it leaves at their end become candidates (`current`: the
   * answer reaches the stream whose buffer `drained` speaks of). Returns the partitions answered without
   * error.
   */
  #fetched(
    names: ReadonlyMap<string, string>,
    request: FetchRequest,
    response: FetchResponse,
    sentAt: number,
    current: boolean,
  ): Set<string> {
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
    const good = new Set<string>()
    for (const [tp, fetchOffset] of requested(names, request)) {
      const a = answered.get(tp)
      if (a === null) continue
      good.add(tp)
      if (a !== undefined) this.#ends.set(tp, a.end)
      // Left out of the answer: nothing new since the last one (KIP-227 fetch sessions).
      const end = this.#ends.get(tp)
      if (end === undefined || !current) continue
      const position = a === undefined || a.next < fetchOffset ? fetchOffset : a.next
      if (position >= end) this.#candidates.set(tp, sentAt)
    }
    return good
  }
}

/** The partitions a fetch asked for, as `topic:partition` with the offset it asked from. */
function* requested(names: ReadonlyMap<string, string>, request: FetchRequest): Generator<[string, bigint]> {
  for (const topic of request.topics) {
    const name = names.get(topic.topicId)
    if (name === undefined) continue
    for (const { partition, fetchOffset } of topic.partitions) yield [`${name}:${partition}`, fetchOffset]
  }
}

/** Topic id → name, from the client's metadata (fetches name topics by id). */
function topicNames(consumer: Consumer): Map<string, string> {
  const names = new Map<string, string>()
  for (const [name, topic] of consumer.currentMetadata?.topics ?? []) names.set(topic.id, name)
  return names
}

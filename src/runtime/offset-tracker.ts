import type { CommitOffset } from '../connectors/contract.ts'
import type { TopicPartition } from '../core/record.ts'
import { tpKey } from '../core/record.ts'

/**
 * Tracks, per partition, which input offsets are fully processed. A record is done when its processing
 * finished and every hold on it (an output not yet safely written, a window not yet emitted) was
 * released. The committable offset is the lowest offset not yet done: never past a record in flight.
 */
export interface InFlight {
  /** Adds a hold; the record is not done until every hold is released. */
  hold(): () => void
  /** Marks the processing itself finished (releases the initial hold). */
  done(): void
}

class Entry implements InFlight {
  remaining = 1
  /** The initial hold: released by `done()`, when the record has gone through the graph. */
  processing = true
  readonly offset: number
  readonly partition: PartitionTracker

  constructor(partition: PartitionTracker, offset: number) {
    this.partition = partition
    this.offset = offset
  }

  hold(): () => void {
    this.remaining++
    let released = false
    return () => {
      if (released) return
      released = true
      this.#release()
    }
  }

  done(): void {
    if (this.processing) {
      this.processing = false
      this.partition.finished()
    }
    this.#release()
  }

  #release(): void {
    if (--this.remaining === 0) this.partition.advance()
  }
}

class PartitionTracker {
  readonly tp: TopicPartition
  /** In-flight entries in offset order; `head` skips the ones already popped without shifting the array. */
  #queue: Entry[] = []
  #head = 0
  /** Next offset to read once everything before it is done (Kafka commit convention). */
  committable = -1
  /** Last committable offset that was actually committed. */
  committed = -1
  #onIdle: Array<() => void> = []
  /** Records begun whose `done()` has not come yet (still going through the graph). */
  #processing = 0
  #onProcessed: Array<() => void> = []

  constructor(tp: TopicPartition) {
    this.tp = tp
  }

  get inFlight(): number {
    return this.#queue.length - this.#head
  }

  begin(offset: number): Entry {
    const entry = new Entry(this, offset)
    this.#queue.push(entry)
    this.#processing++
    return entry
  }

  finished(): void {
    if (--this.#processing > 0) return
    const waiters = this.#onProcessed
    this.#onProcessed = []
    for (const w of waiters) w()
  }

  processed(): Promise<void> {
    if (this.#processing === 0) return Promise.resolve()
    return new Promise((resolve) => this.#onProcessed.push(resolve))
  }

  advance(): void {
    const q = this.#queue
    while (this.#head < q.length && q[this.#head]!.remaining === 0) {
      this.committable = q[this.#head]!.offset + 1
      this.#head++
    }
    if (this.#head === q.length) {
      this.#queue = []
      this.#head = 0
      const waiters = this.#onIdle
      this.#onIdle = []
      for (const w of waiters) w()
    } else if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head)
      this.#head = 0
    }
  }

  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.#onIdle.push(resolve))
  }
}

export class OffsetTracker {
  #partitions = new Map<string, PartitionTracker>()
  /** The same trackers by topic, then partition number: `begin` runs per record and builds no key. */
  #byTopic = new Map<string, Array<PartitionTracker | undefined>>()
  #inFlightTotal = 0

  /** Starts tracking a record; the returned handle marks it done or holds it. */
  begin(tp: TopicPartition, offset: number): InFlight {
    const p = this.#byTopic.get(tp.topic)?.[tp.partition] ?? this.#add(tp)
    return p.begin(offset)
  }

  #add(tp: TopicPartition): PartitionTracker {
    const p = new PartitionTracker({ topic: tp.topic, partition: tp.partition })
    this.#partitions.set(tpKey(tp), p)
    let byPartition = this.#byTopic.get(tp.topic)
    if (byPartition === undefined) {
      byPartition = []
      this.#byTopic.set(tp.topic, byPartition)
    }
    while (byPartition.length <= tp.partition) byPartition.push(undefined)
    byPartition[tp.partition] = p
    return p
  }

  /** Records started but not yet done, over all partitions. */
  inFlight(): number {
    let n = 0
    for (const p of this.#partitions.values()) n += p.inFlight
    this.#inFlightTotal = n
    return n
  }

  /** Offsets that may be committed now and were not committed yet. */
  committable(partitions?: readonly TopicPartition[]): CommitOffset[] {
    const out: CommitOffset[] = []
    const keys = partitions ? partitions.map(tpKey) : [...this.#partitions.keys()]
    for (const key of keys) {
      const p = this.#partitions.get(key)
      if (p && p.committable > p.committed) out.push({ ...p.tp, offset: p.committable })
    }
    return out
  }

  /** Notes that these offsets were committed (so they are not committed again). */
  markCommitted(offsets: readonly CommitOffset[]): void {
    for (const o of offsets) {
      const p = this.#partitions.get(tpKey(o))
      if (p && o.offset > p.committed) p.committed = o.offset
    }
  }

  /** Resolves when nothing is in flight on these partitions (all, if none given). */
  async idle(partitions?: readonly TopicPartition[]): Promise<void> {
    const keys = partitions ? partitions.map(tpKey) : [...this.#partitions.keys()]
    await Promise.all(keys.map((k) => this.#partitions.get(k)?.idle()))
  }

  /**
   * Resolves when every record begun on these partitions (all, if none given) has gone through the
   * graph: what is left in flight is only held (by an open window, or an output not yet written).
   */
  async processed(partitions?: readonly TopicPartition[]): Promise<void> {
    const keys = partitions ? partitions.map(tpKey) : [...this.#partitions.keys()]
    await Promise.all(keys.map((k) => this.#partitions.get(k)?.processed()))
  }

  /** Forgets partitions that were revoked. */
  drop(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      this.#partitions.delete(tpKey(tp))
      const byPartition = this.#byTopic.get(tp.topic)
      if (byPartition !== undefined && tp.partition < byPartition.length)
        byPartition[tp.partition] = undefined
    }
  }

  /** Last committed offset per partition, for lag. */
  positions(): CommitOffset[] {
    return [...this.#partitions.values()].map((p) => ({
      ...p.tp,
      offset: Math.max(p.committable, p.committed),
    }))
  }

  get lastInFlightCount(): number {
    return this.#inFlightTotal
  }
}

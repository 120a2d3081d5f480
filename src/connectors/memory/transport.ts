import { systemClock, type Clock } from '../../core/clock.ts'
import type { OutgoingRecord, RawRecord, TopicPartition } from '../../core/record.ts'
import type {
  Admin,
  CommitOffset,
  ConnectorStatus,
  RebalanceListener,
  RecordSink,
  SinkOptions,
  Source,
  SourceOptions,
  TopicSpec,
  Transport,
} from '../contract.ts'
import { MemoryBroker } from './broker.ts'

/**
 * The in-process transport: the same pipeline code that runs on Kafka runs here, with no services.
 * One consumer per group owns every partition of its topics.
 */
export function memoryTransport(
  broker: MemoryBroker = new MemoryBroker(),
  options: { clock?: Clock } = {},
): Transport & { broker: MemoryBroker } {
  const clock = options.clock ?? systemClock
  return {
    kind: 'memory',
    broker,
    source: (o) => new MemorySource(broker, o),
    sink: (o) => new MemorySink(broker, o, clock),
    admin: () => memoryAdmin(broker),
    async *readPartition(tp, options = {}) {
      const end = broker.endOffset(tp.topic, tp.partition)
      for (let from = options.from ?? 0; from < end; from += 1000) {
        yield broker.read(tp.topic, tp.partition, from, Math.min(1000, end - from))
      }
    },
  }
}

class MemorySource implements Source {
  readonly id: string
  readonly #broker: MemoryBroker
  readonly #options: SourceOptions
  #positions = new Map<string, { tp: TopicPartition; next: number }>()
  #stopped = false
  #listener: RebalanceListener | undefined

  constructor(broker: MemoryBroker, options: SourceOptions) {
    this.#broker = broker
    this.#options = options
    this.id = `memory-source:${options.groupId}`
  }

  async open(listener: RebalanceListener): Promise<void> {
    this.#listener = listener
    await this.#assignNew()
  }

  /** Picks up partitions of subscribed topics that appeared since the last look. */
  async #assignNew(): Promise<void> {
    const added: TopicPartition[] = []
    for (const topic of this.#options.topics) {
      this.#broker.createTopic(topic)
      for (let partition = 0; partition < this.#broker.partitionCount(topic); partition++) {
        const key = `${topic}:${partition}`
        if (this.#positions.has(key)) continue
        const committed = this.#broker.committed(this.#options.groupId, topic, partition)
        const next = committed ?? (this.#options.fromBeginning ? 0 : this.#broker.endOffset(topic, partition))
        this.#positions.set(key, { tp: { topic, partition }, next })
        added.push({ topic, partition })
      }
    }
    if (added.length > 0) await this.#listener?.assigned(added)
  }

  async *batches(): AsyncIterable<readonly RawRecord[]> {
    const max = this.#options.maxBatch ?? 500
    while (!this.#stopped) {
      let batch: RawRecord[] = []
      for (const pos of this.#positions.values()) {
        const got = this.#broker.read(pos.tp.topic, pos.tp.partition, pos.next, max - batch.length)
        if (got.length > 0) pos.next = got[got.length - 1]!.offset + 1
        batch = batch.length === 0 ? got : batch.concat(got)
        if (batch.length >= max) break
      }
      if (batch.length > 0) yield batch
      else await this.#broker.waitForData(100)
    }
  }

  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    for (const o of offsets) this.#broker.commit(this.#options.groupId, o.topic, o.partition, o.offset)
  }

  async stop(): Promise<void> {
    this.#stopped = true
  }

  async close(): Promise<void> {
    this.#stopped = true
  }

  status(): ConnectorStatus {
    return { connected: true }
  }
}

class MemorySink implements RecordSink {
  readonly id: string
  readonly #broker: MemoryBroker

  readonly #clock: Clock

  constructor(broker: MemoryBroker, options: SinkOptions, clock: Clock) {
    this.#broker = broker
    this.#clock = clock
    this.id = `memory-sink:${options.clientId}`
  }

  async open(): Promise<void> {}

  add(item: OutgoingRecord): void {
    this.#broker.append(item, this.#clock.now())
  }

  async flush(): Promise<void> {}

  backlog(): number {
    return 0
  }

  async close(): Promise<void> {}

  status(): ConnectorStatus {
    return { connected: true }
  }
}

function memoryAdmin(broker: MemoryBroker): Admin {
  return {
    async ensureTopics(topics: readonly TopicSpec[]) {
      for (const t of topics) broker.createTopic(t.name, t.partitions)
    },
    async endOffsets(topics: readonly string[]) {
      const out = new Map<string, number>()
      for (const topic of topics) {
        for (let p = 0; p < broker.partitionCount(topic); p++) out.set(`${topic}:${p}`, broker.endOffset(topic, p))
      }
      return out
    },
    async partitions(topics: readonly string[]) {
      const out = new Map<string, number>()
      for (const t of topics) if (broker.partitionCount(t) > 0) out.set(t, broker.partitionCount(t))
      return out
    },
    async close() {},
  }
}

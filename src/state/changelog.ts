import { ErrorCode, WeirError } from '../core/errors.ts'
import type { Labels } from '../core/metrics.ts'
import type { ProcessorInit } from '../runtime/processor.ts'
import { type StateMetrics, stateMetrics } from './metrics.ts'
import { PartitionStore } from './store.ts'

export interface StateOptions {
  /** The operator's stable name: metrics and error messages. */
  readonly operator: string
  /** The compacted changelog topic; undefined keeps state in memory only. */
  readonly changelog: string | undefined
  /**
   * What the state means (e.g. `tumbling:300000`). Restoring state written under another signature
   * fails loudly instead of reading it wrongly.
   */
  readonly signature: string
  /** The changelog layout: keys per segment record, 0 (default) for one record per key (`PartitionStore`). */
  readonly segmentSize?: number
}

/** The changelog topic of a stateful operator: `<app>-<operator name>-changelog`. */
export function changelogTopic(app: string, operator: string): string {
  return `${app}-${operator}-changelog`
}

/**
 * The state of one operator across its input partitions: one `PartitionStore` per partition, written
 * to the changelog partition of the same number, and restored from it when the partition is assigned.
 */
export class StateStores<V> {
  readonly #o: StateOptions
  readonly #parts = new Map<number, PartitionStore<V>>()
  #init: ProcessorInit | undefined
  #metrics: StateMetrics | undefined
  #labels: Labels
  #unregister: (() => void) | undefined
  #restoring = 0

  constructor(options: StateOptions) {
    this.#o = options
    this.#labels = { operator: options.operator }
  }

  get durable(): boolean {
    return this.#o.changelog !== undefined
  }

  get labels(): Labels {
    return this.#labels
  }

  get metrics(): StateMetrics {
    if (this.#metrics === undefined) throw new Error(`state of ${this.#o.operator} used before init`)
    return this.#metrics
  }

  init(init: ProcessorInit): void {
    this.#init = init
    this.#metrics = stateMetrics(init.metrics)
    this.#unregister = this.#metrics.register({
      operator: this.#o.operator,
      partitions: () => this.#parts.values(),
    })
  }

  get(partition: number): PartitionStore<V> | undefined {
    return this.#parts.get(partition)
  }

  /** The store of a partition, created empty if it was never assigned (the test driver's lazy path). */
  open(partition: number): PartitionStore<V> {
    let s = this.#parts.get(partition)
    if (s === undefined) {
      s = this.#fresh(partition)
      this.#parts.set(partition, s)
    }
    return s
  }

  /** Partitions being restored now (interactive queries answer 503 meanwhile). */
  restoringCount(): number {
    return this.#restoring
  }

  partitions(): IterableIterator<PartitionStore<V>> {
    return this.#parts.values()
  }

  /**
   * Reads the partition's changelog from the start to its end and installs the result. Returns
   * undefined if the partition became live meanwhile (records arrived for it; their state wins).
   */
  async restore(partition: number): Promise<PartitionStore<V> | undefined> {
    const store = this.#fresh(partition)
    const init = this.#init
    const topic = this.#o.changelog
    if (init !== undefined && topic !== undefined) {
      this.#restoring++
      try {
        await this.#readChangelog(store, init, topic, partition)
      } finally {
        this.#restoring--
      }
    }
    if (this.#parts.has(partition)) {
      // The runtime feeds no record of a partition before its restore ends; one that did would have
      // started from empty state, and the restored state is not merged into it.
      init?.logger.warn(
        'restored state not installed: the partition received records while it was restored',
        {
          operator: this.#o.operator,
          partition,
          keys: store.size,
        },
      )
      return undefined
    }
    this.#parts.set(partition, store)
    return store
  }

  async #readChangelog(
    store: PartitionStore<V>,
    init: ProcessorInit,
    topic: string,
    partition: number,
  ): Promise<void> {
    {
      const started = performance.now()
      let n = 0
      try {
        for await (const batch of init.readPartition({ topic, partition })) {
          for (const r of batch) {
            if (r.key === null) continue
            store.restoreRecord(r.key.toString('utf8'), r.value === null ? null : r.value.toString('utf8'))
          }
          n += batch.length
        }
      } catch (cause) {
        throw new WeirError(
          ErrorCode.STATE_RESTORE_FAILED,
          `${this.#o.operator}: restoring partition ${partition} from ${topic} failed`,
          {
            cause,
            retriable: true,
          },
        )
      }
      const sig = store.meta.signature
      if (sig !== undefined && sig !== this.#o.signature) {
        throw new WeirError(
          ErrorCode.STATE_RESTORE_FAILED,
          `${this.#o.operator}: the changelog ${topic} holds state of a different definition (${String(sig)}, now ${this.#o.signature}); ` +
            'give the changed operator a new name, or delete the changelog topic to start over',
          { retriable: false },
        )
      }
      this.metrics.restoreSeconds.observe((performance.now() - started) / 1000, this.#labels)
      this.metrics.restoredRecords.inc(this.#labels, n)
      init.logger.debug('state restored', {
        partition,
        records: n,
        keys: store.size,
        ms: Math.round(performance.now() - started),
      })
    }
  }

  /** Hands every change (and the partitions' metadata) to the producer: the checkpoint's step 2. */
  flush(partitions: Iterable<PartitionStore<V>> = this.#parts.values()): void {
    const topic = this.#o.changelog
    const init = this.#init
    if (topic === undefined || init === undefined) return
    let n = 0
    for (const store of partitions) {
      for (const w of store.drain()) {
        init.producer.add({
          topic,
          partition: store.partition,
          key: Buffer.from(w.key, 'utf8'),
          value: w.value === null ? null : Buffer.from(w.value, 'utf8'),
        })
        n++
      }
    }
    if (n > 0) this.metrics.changelogWrites.inc(this.#labels, n)
  }

  /**
   * Hands a store's changes to the producer early, once `threshold` keys changed since its last drain.
   * For state whose keys rarely repeat (dedupe: every new key is a put, and once the bound is reached an
   * eviction), waiting for the checkpoint piles up a changelog burst the runner's backpressure never
   * sees: tens of thousands of records queued at once (heap snapshot of seed 002's traffic rules: 66,000
   * waiting in the producer). Written early they flow under that backpressure instead. It is safe at any
   * point between records: a drain holds the changes and the input offsets applied so far, which is
   * what a checkpoint cut short by a crash leaves too (the store's replay idempotence covers it); the
   * offsets are still committed only by the checkpoint, after the producer acknowledged everything.
   */
  flushWhenLarge(store: PartitionStore<V>, threshold: number): void {
    if (store.changedKeys >= threshold) this.flush([store])
  }

  /** Forgets a partition (revoked); the caller flushed what it must first. */
  drop(partition: number): void {
    this.#parts.delete(partition)
  }

  close(): void {
    this.#unregister?.()
    this.#parts.clear()
  }

  #fresh(partition: number): PartitionStore<V> {
    const s = new PartitionStore<V>(partition, this.durable, { segmentSize: this.#o.segmentSize ?? 0 })
    if (this.durable) s.setMeta({ signature: this.#o.signature })
    return s
  }
}

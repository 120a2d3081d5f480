/**
 * A sink that embeds texts and upserts them with their vectors into a VectorStore. Items wait in a
 * batch: as soon as `batchSize` are waiting they are embedded and stored in the background; a partial
 * batch goes at the next `flush`, which the checkpoint calls, so an offset is never committed before
 * its record's vector is durably stored. A failed model run or store write keeps the items (embedded
 * ones are not embedded again) and makes the flush reject: nothing is committed past them, and the next
 * checkpoint tries again.
 *
 * @example
 * const sink = embeddingSink({ embedder, store, batchSize: 100, metrics })
 * posts.toSink(sink, { map: (r) => ({ collection: 'SocialPost', id: r.value.post_id, text: r.value.content, properties: r.value }) })
 */
import { ErrorCode, toWeirError, WeirError } from '../../core/errors.ts'
import type { Counter, Gauge, Histogram, MetricsRegistry } from '../../core/metrics.ts'
import { type Logger, silentLogger } from '../../log/logger.ts'
import type { ConnectorStatus, Sink } from '../contract.ts'
import type { VectorObject, VectorStore } from './contract.ts'

/** What the sink is given for each record. */
export interface EmbeddingItem {
  readonly collection: string
  readonly id: string
  readonly text: string
  readonly properties: Readonly<Record<string, unknown>>
}

/** The part of an embedder the sink uses (SentenceEmbedder, or any model behind the same call). */
export interface TextEmbedder {
  embed(
    texts: readonly string[],
    timing?: (t: { texts: number; ms: number }) => void,
  ): Promise<Float32Array[]>
}

export interface EmbeddingSinkOptions {
  readonly embedder: TextEmbedder
  readonly store: VectorStore
  /** Texts embedded together; a full batch is embedded and stored at once (EMBEDDING_BATCH_SIZE). */
  readonly batchSize: number
  readonly metrics?: MetricsRegistry
  readonly logger?: Logger
}

export interface EmbeddingSinkStats {
  readonly embedded: number
  readonly stored: number
  readonly storeWrites: number
  readonly storeWriteFailures: number
  readonly modelFailures: number
  readonly lastBatchSize: number
  readonly backlog: number
}

interface Embedded {
  readonly collection: string
  readonly object: VectorObject
}

export class EmbeddingSink implements Sink<EmbeddingItem> {
  readonly id: string
  readonly #o: EmbeddingSinkOptions
  readonly #log: Logger
  #pending: EmbeddingItem[] = []
  #ready: Embedded[] = []
  #working = 0
  #chain: Promise<unknown> = Promise.resolve()
  #background = false
  #opened = false
  #closed = false
  #lastError: string | undefined
  #embedded = 0
  #stored = 0
  #writes = 0
  #writeFailures = 0
  #modelFailures = 0
  #lastBatchSize = 0
  readonly #m:
    | {
        batchSeconds: Histogram
        recordSeconds: Histogram
        batchSize: Gauge
        embedded: Counter
        writes: Counter
      }
    | undefined

  constructor(options: EmbeddingSinkOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `embedding sink batchSize must be a positive integer, got ${options.batchSize}`,
      )
    }
    this.#o = options
    this.id = `embeddings:${options.store.id}`
    this.#log = (options.logger ?? silentLogger).child({ sink: this.id })
    const m = options.metrics
    this.#m = m && {
      batchSeconds: m.histogram(
        'weir_embedding_batch_seconds',
        'Model time of one embedding batch (tokenize, run, pool)',
      ),
      recordSeconds: m.histogram(
        'weir_embedding_record_seconds',
        'Model time per record: its batch’s time divided by the batch’s records',
      ),
      batchSize: m.gauge('weir_embedding_batch_size', 'Records in the last embedding batch'),
      embedded: m.counter('weir_embedded_records_total', 'Records embedded, by collection'),
      writes: m.counter(
        'weir_vector_store_writes_total',
        'Vector store upserts (one per batch and collection), by result',
      ),
    }
  }

  /**
   * Opens the store. An unreachable store does not stop the start: it is reported by `status()` and
   * opened again by the next flush (so nothing is committed until it answers); a wrong setup (a table of
   * another width, no pgvector) still fails here.
   */
  async open(): Promise<void> {
    try {
      await this.#o.store.open()
      this.#opened = true
    } catch (err) {
      if (!(err instanceof WeirError && err.code === ErrorCode.SINK_UNAVAILABLE)) throw err
      this.#log.warn('vector store unreachable at start; records wait until it answers', { error: err })
      this.#lastError = err.message
    }
  }

  add(item: EmbeddingItem): void {
    if (this.#closed) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, `${this.id} is closed`)
    this.#pending.push(item)
    if (this.#pending.length >= this.#o.batchSize && !this.#background) {
      this.#background = true
      const run = this.#chain.then(() => this.#work(false))
      this.#chain = run.then(
        () => {
          this.#background = false
        },
        (err: unknown) => {
          this.#background = false
          // The checkpoint's flush reports it; here only note it once.
          this.#failed(err)
        },
      )
    }
  }

  /** Embeds what waits (a partial batch too) and stores everything embedded. */
  flush(): Promise<void> {
    const run = this.#chain.then(() => this.#work(true))
    this.#chain = run.catch(() => {})
    return run.catch((err: unknown) => {
      this.#failed(err)
      throw err
    })
  }

  backlog(): number {
    return this.#pending.length + this.#ready.length + this.#working
  }

  status(): ConnectorStatus {
    const s = this.#o.store.status()
    if (!s.connected) return s
    return this.#lastError === undefined ? s : { connected: true, message: this.#lastError }
  }

  stats(): EmbeddingSinkStats {
    return {
      embedded: this.#embedded,
      stored: this.#stored,
      storeWrites: this.#writes,
      storeWriteFailures: this.#writeFailures,
      modelFailures: this.#modelFailures,
      lastBatchSize: this.#lastBatchSize,
      backlog: this.backlog(),
    }
  }

  /** Items still waiting are dropped: their offsets were not committed, so they are read again. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#chain
    if (this.backlog() > 0)
      this.#log.warn('closing with records not stored; they will be re-read', { backlog: this.backlog() })
    await this.#o.store.close()
  }

  async #work(all: boolean): Promise<void> {
    if (!this.#opened) {
      await this.#o.store.open()
      this.#opened = true
      this.#log.info('vector store opened')
    }
    const size = this.#o.batchSize
    // Batch n is stored while batch n+1 is embedded (the model runs in worker threads, the upsert in
    // PostgreSQL): #ready is only touched once the previous store has finished.
    let storing: Promise<unknown> = Promise.resolve()
    let storeError: { err: unknown } | undefined
    const stored = async () => {
      await storing
      if (storeError !== undefined) throw storeError.err
    }
    while (this.#pending.length >= size || (all && this.#pending.length > 0)) {
      const batch = this.#pending.splice(0, size)
      this.#working = batch.length
      let embedded: Embedded[]
      try {
        embedded = await this.#embed(batch)
      } catch (err) {
        this.#pending = batch.concat(this.#pending)
        await stored()
        throw err
      } finally {
        this.#working = 0
      }
      try {
        await stored()
      } finally {
        // Kept even if the previous store failed: these are embedded and are not embedded again.
        this.#ready.push(...embedded)
      }
      // Store each batch as soon as it is embedded: search sees it, and memory holds two batches of vectors.
      storing = this.#store().catch((err: unknown) => {
        storeError = { err }
      })
    }
    await stored()
    if (this.#ready.length === 0 && !this.#o.store.status().connected) await this.#o.store.probe()
    else await this.#store()
    this.#lastError = undefined
  }

  async #embed(batch: readonly EmbeddingItem[]): Promise<Embedded[]> {
    let ms = 0
    let vectors: Float32Array[]
    try {
      vectors = await this.#o.embedder.embed(
        batch.map((i) => i.text),
        (t) => {
          ms = t.ms
        },
      )
    } catch (err) {
      this.#modelFailures++
      throw new WeirError(
        ErrorCode.SINK_UNAVAILABLE,
        `embedding a batch of ${batch.length} failed: ${toWeirError(err).message}`,
        { cause: err },
      )
    }
    this.#embedded += batch.length
    this.#lastBatchSize = batch.length
    const m = this.#m
    if (m !== undefined) {
      m.batchSeconds.observe(ms / 1000)
      const perRecord = ms / 1000 / batch.length
      for (let i = 0; i < batch.length; i++) m.recordSeconds.observe(perRecord)
      m.batchSize.set(batch.length)
    }
    return batch.map((item, i) => {
      m?.embedded.inc({ collection: item.collection })
      return {
        collection: item.collection,
        object: { id: item.id, text: item.text, vector: vectors[i]!, properties: item.properties },
      }
    })
  }

  async #store(): Promise<void> {
    if (this.#ready.length === 0) return
    const byCollection = new Map<string, VectorObject[]>()
    for (const r of this.#ready) {
      const list = byCollection.get(r.collection)
      if (list === undefined) byCollection.set(r.collection, [r.object])
      else list.push(r.object)
    }
    for (const [collection, objects] of byCollection) {
      try {
        await this.#o.store.upsert(collection, objects)
      } catch (err) {
        this.#writeFailures++
        this.#m?.writes.inc({ collection, result: 'failed' })
        throw err
      }
      this.#writes++
      this.#stored += objects.length
      this.#m?.writes.inc({ collection, result: 'ok' })
      this.#ready = this.#ready.filter((r) => r.collection !== collection)
    }
  }

  #failed(err: unknown): void {
    const message = toWeirError(err).message
    if (message !== this.#lastError)
      this.#log.warn('embedding or vector store write failed; records kept', {
        error: err,
        backlog: this.backlog(),
      })
    this.#lastError = message
  }

  /** Model time per batch and per record (seconds: count, sum, p50/p95/p99); undefined without metrics. */
  modelLatency():
    | { batch: ReturnType<Histogram['summary']>; record: ReturnType<Histogram['summary']> }
    | undefined {
    const m = this.#m
    return m && { batch: m.batchSeconds.summary(), record: m.recordSeconds.summary() }
  }

  /** Share of store writes that succeeded, 0–1 (the seed's weaviate_write_success_rate). */
  writeSuccessRate(): number {
    const total = this.#writes + this.#writeFailures
    return total === 0 ? 1 : this.#writes / total
  }
}

export function embeddingSink(options: EmbeddingSinkOptions): EmbeddingSink {
  return new EmbeddingSink(options)
}

/**
 * A sentence embedder: tokenizer.json + an ONNX sentence model run by onnxruntime-node on the CPU,
 * pooled and normalised as sentence-transformers does. Texts are encoded as sentence-transformers'
 * `encode()` does: sorted by length (characters) and run in sub-batches padded to their own longest
 * text, so short texts are not padded to the longest of a large batch.
 *
 * The sub-batches run in parallel on `threads` worker threads, one ONNX session of one intra-op thread
 * each (model-worker.ts says why), and the caller's event loop stays free while they run. Sub-batches
 * are small (`runBatchSize`, default 8): measured here on ~40-token posts, a run of 8 texts costs 11–18 %
 * less CPU per text than a run of 25, and a run of 100 over twice as much (its activations leave the cache).
 * The model is dynamically quantised (int8, one scale per tensor), so a text's vector depends on the
 * other texts of its sub-batch by ~1 % (cosine > 0.98); `runBatchSize: 1` makes every vector
 * independent of its batch, at ~45 % more CPU per text (measured on short texts).
 *
 * @example
 * const embedder = await SentenceEmbedder.load({ model: 'sentence-transformers/all-MiniLM-L6-v2' })
 * const [a, b] = await embedder.embed(['A man is eating food.', 'A man is eating a piece of bread.'])
 * cosine(a, b) // ≈ 0.757
 * await embedder.close()
 */
import { availableParallelism } from 'node:os'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { type ModelFiles, resolveModelFiles } from './model-files.ts'
import { ModelSession, type SubBatchVectors } from './model-session.ts'
import { ModelWorker } from './model-worker.ts'

export interface EmbedderOptions {
  /** EMBEDDING_MODEL: a local model directory, an .onnx file, or the seed's name of the bundled model. */
  readonly model: string
  /** Longest token sequence per text (EMBEDDING_MAX_LENGTH); capped at 512, BERT's position limit. Default 256. */
  readonly maxLength?: number
  /** Texts per model run (EMBEDDING_RUN_BATCH_SIZE). Default 8. */
  readonly runBatchSize?: number
  /** Model runs at once, one worker thread each (EMBEDDING_THREADS). Default: the machine's cores. */
  readonly threads?: number
  /**
   * false: one session on the caller's thread instead of `threads` workers. Same vectors, but every
   * model run blocks the caller's event loop. Default true.
   */
  readonly workerThreads?: boolean
}

/** What one call of `embed` cost, for metrics. */
export interface EmbedTiming {
  readonly texts: number
  readonly tokens: number
  /** Tokenizing, model runs and pooling, in ms. */
  readonly ms: number
}

/** BERT-family models (MiniLM included) have 512 positions. */
export const MAX_POSITIONS = 512

/** A ModelSession on this thread or in a worker: the embedder does not care which. */
interface SubBatchRunner {
  readonly inputNames: readonly string[]
  embed(texts: readonly string[]): Promise<SubBatchVectors>
}

export class SentenceEmbedder {
  readonly files: ModelFiles
  readonly dimensions: number
  readonly maxLength: number
  readonly #runners: readonly SubBatchRunner[]
  readonly #release: () => Promise<unknown>
  readonly #runBatchSize: number
  #chain: Promise<unknown> = Promise.resolve()
  #closed = false

  private constructor(
    files: ModelFiles,
    runners: readonly SubBatchRunner[],
    release: () => Promise<unknown>,
    maxLength: number,
    runBatchSize: number,
  ) {
    this.files = files
    this.#runners = runners
    this.#release = release
    this.dimensions = 0
    this.maxLength = maxLength
    this.#runBatchSize = runBatchSize
  }

  static async load(options: EmbedderOptions): Promise<SentenceEmbedder> {
    const files = resolveModelFiles(options.model)
    const maxLength = Math.min(options.maxLength ?? 256, MAX_POSITIONS)
    const runBatchSize = positiveInteger('runBatchSize', options.runBatchSize ?? 8)
    const threads = positiveInteger('threads', options.threads ?? availableParallelism())
    const sessionOptions = { onnx: files.onnx, tokenizer: files.tokenizer, maxLength }
    let runners: SubBatchRunner[]
    let release: () => Promise<unknown>
    if (options.workerThreads === false) {
      const session = await ModelSession.open(sessionOptions)
      runners = [session]
      release = () => session.release()
    } else {
      const started = await Promise.allSettled(
        Array.from({ length: threads }, () => ModelWorker.start(sessionOptions)),
      )
      const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
      release = () => Promise.all(workers.map((w) => w.close()))
      const failed = started.find((s) => s.status === 'rejected')
      if (failed !== undefined) {
        await release()
        throw failed.reason
      }
      runners = workers
    }
    const embedder = new SentenceEmbedder(files, runners, release, maxLength, runBatchSize)
    try {
      // The width comes from the model itself (384 for MiniLM): one probe run.
      const [probe] = await embedder.#embedNow(['dimension probe'])
      ;(embedder as { dimensions: number }).dimensions = probe!.length
    } catch (err) {
      await release()
      throw err
    }
    return embedder
  }

  /** One unit vector per text, in the order given. */
  embed(texts: readonly string[], timing?: (t: EmbedTiming) => void): Promise<Float32Array[]> {
    if (this.#closed)
      return Promise.reject(new WeirError(ErrorCode.SINK_UNAVAILABLE, 'the embedder is closed'))
    const run = this.#chain.then(async () => {
      const started = performance.now()
      const { vectors, tokens } = await this.#embedCounted(texts)
      timing?.({ texts: texts.length, tokens, ms: performance.now() - started })
      return vectors
    })
    this.#chain = run.catch(() => {})
    return run
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#chain
    await this.#release()
  }

  async #embedNow(texts: readonly string[]): Promise<Float32Array[]> {
    return (await this.#embedCounted(texts)).vectors
  }

  async #embedCounted(texts: readonly string[]): Promise<{ vectors: Float32Array[]; tokens: number }> {
    // Longest first, as sentence-transformers sorts: the slowest sub-batches start first, and the last
    // ones, which may leave a runner idle, are short.
    const order = texts.map((_, i) => i).sort((a, b) => texts[b]!.length - texts[a]!.length)
    const out = new Array<Float32Array>(texts.length)
    // Equal sub-batches of at most runBatchSize (100 → 13 × 7–8, not 12 × 8 + 4), at least one per
    // runner, taken by the runners in turn.
    const count = Math.max(
      Math.ceil(order.length / this.#runBatchSize),
      Math.min(this.#runners.length, order.length),
    )
    const subBatches = Array.from({ length: count }, (_, c) =>
      order.slice(Math.floor((c * order.length) / count), Math.floor(((c + 1) * order.length) / count)),
    )
    let tokens = 0
    let next = 0
    const take = async (runner: SubBatchRunner) => {
      while (next < subBatches.length) {
        const rows = subBatches[next++]!
        const result = await runner.embed(rows.map((i) => texts[i]!))
        tokens += result.tokens
        rows.forEach((i, k) => {
          out[i] = result.vectors.slice(k * result.dims, (k + 1) * result.dims)
        })
      }
    }
    await Promise.all(this.#runners.map(take))
    return { vectors: out, tokens }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new WeirError(ErrorCode.CONFIG_INVALID, `embedder ${name} must be a positive integer, got ${value}`)
  }
  return value
}

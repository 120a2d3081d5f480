/**
 * A sentence embedder: tokenizer.json + an ONNX sentence model run by onnxruntime-node on the CPU,
 * pooled and normalised as sentence-transformers does. Texts are encoded as sentence-transformers'
 * `encode()` does: sorted by length and run in sub-batches (32), so short texts are not padded to the
 * longest of a large batch. The sub-batches run in parallel on `threads` sessions of one thread each:
 * measured here, that takes half the CPU per record of one session with two intra-op threads (whose
 * threads synchronise after every small matrix product), and keeps its speed on a busy machine.
 *
 * @example
 * const embedder = await SentenceEmbedder.load({ model: 'sentence-transformers/all-MiniLM-L6-v2' })
 * const [a, b] = await embedder.embed(['A man is eating food.', 'A man is eating a piece of bread.'])
 * cosine(a, b) // ≈ 0.757
 * await embedder.close()
 */
import { availableParallelism } from 'node:os'
import * as ort from 'onnxruntime-node'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { type ModelFiles, resolveModelFiles } from './model-files.ts'
import { meanPoolNormalized } from './pooling.ts'
import { BatchTokenizer } from './tokenize.ts'

export interface EmbedderOptions {
  /** EMBEDDING_MODEL: a local model directory, an .onnx file, or the seed's name of the bundled model. */
  readonly model: string
  /** Longest token sequence per text (EMBEDDING_MAX_LENGTH); capped at 512, BERT's position limit. Default 256. */
  readonly maxLength?: number
  /** Texts per model run; sentence-transformers' default is 32. */
  readonly runBatchSize?: number
  /** Model runs at once, one CPU thread each (EMBEDDING_THREADS). Default: the machine's cores. */
  readonly threads?: number
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

export class SentenceEmbedder {
  readonly files: ModelFiles
  readonly dimensions: number
  readonly maxLength: number
  readonly #sessions: readonly ort.InferenceSession[]
  readonly #tokenizer: BatchTokenizer
  readonly #runBatchSize: number
  readonly #needsTypeIds: boolean
  #chain: Promise<unknown> = Promise.resolve()
  #closed = false

  private constructor(
    files: ModelFiles,
    sessions: readonly ort.InferenceSession[],
    tokenizer: BatchTokenizer,
    dimensions: number,
    runBatchSize: number,
  ) {
    this.files = files
    this.#sessions = sessions
    this.#tokenizer = tokenizer
    this.dimensions = dimensions
    this.maxLength = tokenizer.maxLength
    this.#runBatchSize = runBatchSize
    this.#needsTypeIds = sessions[0]!.inputNames.includes('token_type_ids')
  }

  static async load(options: EmbedderOptions): Promise<SentenceEmbedder> {
    const files = resolveModelFiles(options.model)
    const maxLength = Math.min(options.maxLength ?? 256, MAX_POSITIONS)
    const runBatchSize = options.runBatchSize ?? 32
    if (!Number.isInteger(runBatchSize) || runBatchSize < 1) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `embedder runBatchSize must be a positive integer, got ${runBatchSize}`,
      )
    }
    const tokenizer = await BatchTokenizer.load(files.tokenizer, { maxLength })
    const threads = options.threads ?? availableParallelism()
    if (!Number.isInteger(threads) || threads < 1) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `embedder threads must be a positive integer, got ${threads}`,
      )
    }
    const sessions: ort.InferenceSession[] = []
    const release = () => Promise.all(sessions.map((s) => s.release()))
    try {
      for (let k = 0; k < threads; k++) {
        sessions.push(
          await ort.InferenceSession.create(files.onnx, {
            intraOpNumThreads: 1,
            interOpNumThreads: 1,
            graphOptimizationLevel: 'all',
            executionProviders: ['cpu'],
          }),
        )
      }
    } catch (err) {
      await release()
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `cannot load ONNX model ${files.onnx}: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    }
    const session = sessions[0]!
    for (const input of ['input_ids', 'attention_mask']) {
      if (!session.inputNames.includes(input)) {
        await release()
        throw new WeirError(
          ErrorCode.CONFIG_INVALID,
          `${files.onnx} is not a BERT-style sentence model: it has no ${input} input (inputs: ${session.inputNames.join(', ')})`,
        )
      }
    }
    const embedder = new SentenceEmbedder(files, sessions, tokenizer, 0, runBatchSize)
    // The width comes from the model itself (384 for MiniLM): one probe run.
    const [probe] = await embedder.#embedNow(['dimension probe'])
    ;(embedder as { dimensions: number }).dimensions = probe!.length
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
    await Promise.all(this.#sessions.map((s) => s.release()))
  }

  async #embedNow(texts: readonly string[]): Promise<Float32Array[]> {
    return (await this.#embedCounted(texts)).vectors
  }

  async #embedCounted(texts: readonly string[]): Promise<{ vectors: Float32Array[]; tokens: number }> {
    const rows = texts.map((t, i) => ({ i, ids: this.#tokenizer.ids(t) }))
    rows.sort((a, b) => a.ids.length - b.ids.length)
    const out = new Array<Float32Array>(texts.length)
    // Equal chunks of at most runBatchSize (100 → 4 × 25, not 32+32+32+4), at least one per session, taken
    // by the sessions in turn.
    const chunkCount = Math.max(
      Math.ceil(rows.length / this.#runBatchSize),
      Math.min(this.#sessions.length, rows.length),
    )
    const chunks = Array.from({ length: chunkCount }, (_, c) =>
      rows.slice(
        Math.floor((c * rows.length) / chunkCount),
        Math.floor(((c + 1) * rows.length) / chunkCount),
      ),
    )
    let tokens = 0
    let next = 0
    const worker = async (session: ort.InferenceSession) => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!
        const batch = this.#tokenizer.pad(chunk.map((r) => r.ids))
        tokens += batch.lengths.reduce((a, b) => a + b, 0)
        const vectors = await this.#run(session, batch)
        chunk.forEach((r, k) => {
          out[r.i] = vectors[k]!
        })
      }
    }
    await Promise.all(this.#sessions.map(worker))
    return { vectors: out, tokens }
  }

  async #run(
    session: ort.InferenceSession,
    batch: ReturnType<BatchTokenizer['pad']>,
  ): Promise<Float32Array[]> {
    const dims = [batch.size, batch.tokens]
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', batch.inputIds, dims),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
    }
    if (this.#needsTypeIds) feeds.token_type_ids = new ort.Tensor('int64', batch.tokenTypeIds, dims)
    const result = await session.run(feeds)
    const output = result.last_hidden_state ?? result[session.outputNames[0]!]!
    try {
      const data = output.data as Float32Array
      if (output.dims.length === 3) {
        return meanPoolNormalized(data, batch.attentionMask, {
          batch: batch.size,
          tokens: batch.tokens,
          dims: Number(output.dims[2]),
        })
      }
      // A model that pools itself ([batch, dims]): only normalise.
      const width = Number(output.dims[1])
      return meanPoolNormalized(data, new Uint8Array(batch.size).fill(1), {
        batch: batch.size,
        tokens: 1,
        dims: width,
      })
    } finally {
      for (const t of Object.values(result)) t.dispose()
    }
  }
}

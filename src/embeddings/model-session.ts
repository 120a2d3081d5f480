/**
 * One ONNX session of a sentence model with its tokenizer: texts in, pooled unit vectors out. The same
 * class runs on the caller's thread (`SentenceEmbedder.load({ workerThreads: false })`) and inside each
 * embedding worker, so both paths give the same vectors for the same sub-batch.
 *
 * The session has one intra-op thread: onnxruntime-node's `run` is synchronous on the thread that calls
 * it, so cores are used by running one session per worker thread, not by more threads per session
 * (measured here: two intra-op threads took twice the CPU per record, spinning at every sync point).
 *
 * @example
 * const session = await ModelSession.open({ onnx, tokenizer, maxLength: 256 })
 * const { vectors, dims } = await session.embed(['A man is eating food.']) // one row of `dims` values
 */
import type * as Ort from 'onnxruntime-node'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { meanPoolNormalized } from './pooling.ts'
import { BatchTokenizer, type TokenizedBatch } from './tokenize.ts'

export interface ModelSessionOptions {
  readonly onnx: string
  readonly tokenizer: string
  /** Longest token sequence per text, [CLS] and [SEP] included. */
  readonly maxLength: number
}

/** The vectors of one sub-batch, row after row in one array (cheap to hand over between threads). */
export interface SubBatchVectors {
  /** `rows × dims` values. */
  readonly vectors: Float32Array
  readonly rows: number
  readonly dims: number
  /** Real (unpadded) tokens in the sub-batch. */
  readonly tokens: number
}

/**
 * onnxruntime loads when a session opens, not with this module: every MillionX stage's process imports
 * the embedding stage (for its documented variables), and the native library is ~5 MB of RSS the
 * validator, the shield and the enricher never use.
 */
const loadOrt = (): Promise<typeof Ort> => import('onnxruntime-node')

export class ModelSession {
  readonly inputNames: readonly string[]
  readonly #ort: typeof Ort
  readonly #session: Ort.InferenceSession
  readonly #tokenizer: BatchTokenizer
  readonly #needsTypeIds: boolean

  private constructor(ort: typeof Ort, session: Ort.InferenceSession, tokenizer: BatchTokenizer) {
    this.#ort = ort
    this.#session = session
    this.#tokenizer = tokenizer
    this.inputNames = session.inputNames
    this.#needsTypeIds = session.inputNames.includes('token_type_ids')
  }

  static async open(options: ModelSessionOptions): Promise<ModelSession> {
    const tokenizer = await BatchTokenizer.load(options.tokenizer, { maxLength: options.maxLength })
    const ort = await loadOrt()
    let session: Ort.InferenceSession
    try {
      session = await ort.InferenceSession.create(options.onnx, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionProviders: ['cpu'],
      })
    } catch (err) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `cannot load ONNX model ${options.onnx}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    for (const input of ['input_ids', 'attention_mask']) {
      if (!session.inputNames.includes(input)) {
        await session.release()
        throw new WeirError(
          ErrorCode.CONFIG_INVALID,
          `${options.onnx} is not a BERT-style sentence model: it has no ${input} input (inputs: ${session.inputNames.join(', ')})`,
        )
      }
    }
    return new ModelSession(ort, session, tokenizer)
  }

  /** Tokenizes the texts, pads them to the longest of them (not to maxLength), runs the model, pools. */
  async embed(texts: readonly string[]): Promise<SubBatchVectors> {
    const batch = this.#tokenizer.encode(texts)
    const rows = await this.#run(batch)
    const dims = rows[0]?.length ?? 0
    const vectors = new Float32Array(rows.length * dims)
    for (const [i, row] of rows.entries()) vectors.set(row, i * dims)
    const tokens = batch.lengths.reduce((a, b) => a + b, 0)
    return { vectors, rows: rows.length, dims, tokens }
  }

  release(): Promise<void> {
    return this.#session.release()
  }

  async #run(batch: TokenizedBatch): Promise<Float32Array[]> {
    const dims = [batch.size, batch.tokens]
    const { Tensor } = this.#ort
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new Tensor('int64', batch.inputIds, dims),
      attention_mask: new Tensor('int64', batch.attentionMask, dims),
    }
    if (this.#needsTypeIds) feeds.token_type_ids = new Tensor('int64', batch.tokenTypeIds, dims)
    const result = await this.#session.run(feeds)
    const output = result.last_hidden_state ?? result[this.#session.outputNames[0]!]!
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
      return meanPoolNormalized(data, new Uint8Array(batch.size).fill(1), {
        batch: batch.size,
        tokens: 1,
        dims: Number(output.dims[1]),
      })
    } finally {
      for (const t of Object.values(result)) t.dispose()
    }
  }
}

/**
 * Turns texts into the padded tensors a BERT-style ONNX model takes, with `@huggingface/tokenizers`
 * reading the model's own tokenizer.json (lower-casing, WordPiece, [CLS] … [SEP]). Truncation keeps
 * the first `maxLength - 1` tokens and the closing [SEP], as the Rust tokenizers' longest-first
 * strategy does for a single text.
 *
 * @example
 * const tok = await BatchTokenizer.load('/models/minilm/tokenizer.json', { maxLength: 256 })
 * const batch = tok.encode(['A man is eating food.', 'Someone in a gorilla costume is playing drums.'])
 * batch.inputIds // BigInt64Array of 2 × batch.tokens
 */
import { readFile } from 'node:fs/promises'
import { Tokenizer } from '@huggingface/tokenizers'
import { ErrorCode, WeirError } from '../core/errors.ts'

export interface TokenizedBatch {
  readonly size: number
  /** Tokens per row: the longest text's, after truncation (rows are padded to it). */
  readonly tokens: number
  readonly inputIds: BigInt64Array
  readonly attentionMask: BigInt64Array
  readonly tokenTypeIds: BigInt64Array
  /** Real (unpadded) tokens per row. */
  readonly lengths: readonly number[]
}

export interface TokenizerOptions {
  /** Longest token sequence, [CLS] and [SEP] included. */
  readonly maxLength: number
}

export class BatchTokenizer {
  readonly #tokenizer: Tokenizer
  readonly #maxLength: number
  readonly #padId: number

  constructor(tokenizer: Tokenizer, padId: number, options: TokenizerOptions) {
    if (!Number.isInteger(options.maxLength) || options.maxLength < 2) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `tokenizer maxLength must be an integer ≥ 2, got ${options.maxLength}`,
      )
    }
    this.#tokenizer = tokenizer
    this.#padId = padId
    this.#maxLength = options.maxLength
  }

  static async load(path: string, options: TokenizerOptions): Promise<BatchTokenizer> {
    let config: { padding?: { pad_id?: number } | null }
    try {
      config = JSON.parse(await readFile(path, 'utf8'))
    } catch (err) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `cannot read tokenizer ${path}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    const padId = config.padding?.pad_id ?? 0
    return new BatchTokenizer(new Tokenizer(config, {}), padId, options)
  }

  get maxLength(): number {
    return this.#maxLength
  }

  /** Token ids of one text, truncated (for sorting by length and tests). */
  ids(text: string): number[] {
    const ids = this.#tokenizer.encode(text).ids
    if (ids.length <= this.#maxLength) return ids
    return [...ids.slice(0, this.#maxLength - 1), ids[ids.length - 1]!]
  }

  encode(texts: readonly string[]): TokenizedBatch {
    return this.pad(texts.map((t) => this.ids(t)))
  }

  /** Pads already-tokenized rows into the model's three input tensors. */
  pad(rows: readonly number[][]): TokenizedBatch {
    const tokens = Math.max(1, ...rows.map((r) => r.length))
    const size = rows.length
    const inputIds = new BigInt64Array(size * tokens).fill(BigInt(this.#padId))
    const attentionMask = new BigInt64Array(size * tokens)
    const tokenTypeIds = new BigInt64Array(size * tokens)
    rows.forEach((row, b) => {
      for (let t = 0; t < row.length; t++) {
        inputIds[b * tokens + t] = BigInt(row[t]!)
        attentionMask[b * tokens + t] = 1n
      }
    })
    return { size, tokens, inputIds, attentionMask, tokenTypeIds, lengths: rows.map((r) => r.length) }
  }
}

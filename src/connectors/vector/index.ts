/**
 * Vector stores (subpath export `weir/vector`): the VectorStore contract, pgvector in PostgreSQL, and the
 * sink that embeds records and upserts them with their vectors at each checkpoint.
 */
export {
  type SearchOptions,
  searchAll,
  type VectorHit,
  type VectorObject,
  type VectorStore,
} from './contract.ts'
export {
  type EmbeddingItem,
  EmbeddingSink,
  type EmbeddingSinkOptions,
  type EmbeddingSinkStats,
  embeddingSink,
  type TextEmbedder,
} from './embedding-sink.ts'
export { PgVectorStore, type PgVectorStoreOptions, pgVectorStore, vectorLiteral } from './pgvector.ts'

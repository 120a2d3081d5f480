/**
 * The vector store contract: named collections of objects (an id, the embedded text, its vector and the
 * full record), an idempotent upsert by id, and nearest-neighbour search by cosine. pgvector implements
 * it here; a Weaviate or Qdrant client is one more implementation of the same interface (collections map
 * to Weaviate classes / Qdrant collections, `properties` to their payload).
 */
import type { ConnectorStatus } from '../contract.ts'

export interface VectorObject {
  /** The object's key in its collection (a post or order id): writing it again replaces it. */
  readonly id: string
  /** What was embedded. */
  readonly text: string
  /** A unit vector (cosine = dot product). */
  readonly vector: Float32Array
  /** The full record, kept for retrieval (the seed's `raw_data`). */
  readonly properties: Readonly<Record<string, unknown>>
}

export interface VectorHit {
  readonly collection: string
  readonly id: string
  /** Cosine similarity to the query, 1 = same direction. */
  readonly score: number
  readonly text: string
  readonly properties: Readonly<Record<string, unknown>>
}

export interface SearchOptions {
  readonly limit: number
}

export interface VectorStore {
  readonly id: string
  /** Collections this store writes and searches. */
  readonly collections: readonly string[]
  /** Creates missing collections (for vectors of `dimensions`) and checks existing ones. */
  open(): Promise<void>
  /** Resolves once every object is durably stored; an object whose id exists replaces it. */
  upsert(collection: string, objects: readonly VectorObject[]): Promise<void>
  /** The `limit` objects nearest to `vector`, nearest first. */
  search(collection: string, vector: Float32Array, options: SearchOptions): Promise<VectorHit[]>
  /** Objects in a collection. */
  count(collection: string): Promise<number>
  /** Checks the store answers, updating `status()`; never throws. */
  probe(): Promise<void>
  status(): ConnectorStatus
  close(): Promise<void>
}

/** Searches several collections and merges the hits, best first. */
export async function searchAll(
  store: VectorStore,
  vector: Float32Array,
  options: SearchOptions & { readonly collections?: readonly string[] },
): Promise<VectorHit[]> {
  const collections = options.collections ?? store.collections
  const hits = await Promise.all(collections.map((c) => store.search(c, vector, options)))
  return hits
    .flat()
    .sort((a, b) => b.score - a.score)
    .slice(0, options.limit)
}

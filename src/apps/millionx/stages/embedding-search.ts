/**
 * Semantic search over the embedding service's vector store with its own model: `GET /search` on the
 * service's port and `weir search millionx`.
 */
import { searchAll, type VectorHit, type VectorStore } from '../../../connectors/vector/contract.ts'
import type { SentenceEmbedder } from '../../../embeddings/index.ts'
import { json as jsonResponse } from '../../../ops/index.ts'
import type { OpsRoute } from '../../../ops/router.ts'
import { COLLECTIONS } from './embedding-input.ts'

/** Search over the vector store with the service's own model: the HTTP route and `weir search`. */
export interface MillionxSearch {
  search(query: string, options: { limit: number; collections?: readonly string[] }): Promise<VectorHit[]>
  readonly embedder: SentenceEmbedder
  readonly store: VectorStore
  close(): Promise<void>
}

export async function searchWith(
  embedder: SentenceEmbedder,
  store: VectorStore,
  query: string,
  options: { limit: number; collections?: readonly string[] },
): Promise<VectorHit[]> {
  const [vector] = await embedder.embed([query])
  return searchAll(store, vector!, options)
}

/** `GET /search?q=…&limit=5&collection=SocialPost`: the nearest records with their scores. */
export function searchRoute(search: MillionxSearch['search']): OpsRoute {
  return {
    method: 'GET',
    path: '/search',
    async handler(req) {
      const q = req.query.get('q')?.trim() ?? ''
      if (q === '') return jsonResponse(400, { error: 'bad_request', message: 'give the query text as ?q=…' })
      const limitText = req.query.get('limit') ?? '10'
      const limit = Number(limitText)
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        return jsonResponse(400, {
          error: 'bad_request',
          message: `limit must be an integer 1–100, got "${limitText}"`,
        })
      }
      const collection = req.query.get('collection') ?? undefined
      const known: readonly string[] = Object.values(COLLECTIONS)
      if (collection !== undefined && !known.includes(collection)) {
        return jsonResponse(400, {
          error: 'bad_request',
          message: `collection must be one of ${known.join(', ')}`,
        })
      }
      const started = performance.now()
      try {
        const hits = await search(q, {
          limit,
          collections: collection === undefined ? undefined : [collection],
        })
        return jsonResponse(200, {
          query: q,
          limit,
          took_ms: Math.round((performance.now() - started) * 10) / 10,
          results: hits.map((h) => ({
            collection: h.collection,
            id: h.id,
            score: h.score,
            text: h.text,
            record: h.properties,
          })),
        })
      } catch (err) {
        return jsonResponse(503, {
          error: 'unavailable',
          message: `search failed: ${(err as Error).message}`,
        })
      }
    },
  }
}

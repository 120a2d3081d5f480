import { ErrorCode, WeirError } from '../../core/errors.ts'
import { createLogger } from '../../log/logger.ts'
import { booleanFlag, type CommandSpec, numberFlag, type ParsedArgs, stringFlag } from '../args.ts'

const USAGE =
  'usage: weir search millionx "<query>" [--limit 5] [--collection SocialPost|MarketOrder] [--json]\n' +
  '(the embedding service’s env: PGVECTOR_URL, PGVECTOR_SCHEMA, EMBEDDING_MODEL, EMBEDDING_MAX_LENGTH)'

export const spec: CommandSpec = {
  usage: `${USAGE}\n\nEmbeds the query with the embedding service's model and prints the nearest posts and orders in its vector store.`,
  flags: { limit: 'value', collection: 'value', json: 'boolean' },
}

/**
 * `weir search millionx "cheap android phone in dhaka" --limit 5`: embeds the query with the embedding
 * service's model and prints the nearest posts and orders in its vector store, with cosine scores.
 */
export default async function search({ positional, flags }: ParsedArgs): Promise<number> {
  const [app, ...words] = positional
  const query = words.join(' ').trim()
  if (app !== 'millionx' || query === '') {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      app !== undefined && app !== 'millionx' ? `only millionx has a search (got "${app}")\n${USAGE}` : USAGE,
    )
  }
  const limit = numberFlag(flags, 'limit', 5, { min: 1, max: 100 })
  if (!Number.isInteger(limit))
    throw new WeirError(ErrorCode.CONFIG_INVALID, `--limit: expected an integer, got ${limit}`)
  const collection = stringFlag(flags, 'collection')
  const { COLLECTIONS, openMillionxSearch } = await import('../../apps/millionx/stages/embedding-service.ts')
  const known: readonly string[] = Object.values(COLLECTIONS)
  if (collection !== undefined && !known.includes(collection)) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `--collection: expected ${known.join(' or ')}, got "${collection}"`,
    )
  }
  const searcher = await openMillionxSearch(process.env, createLogger({ level: 'warn' }))
  try {
    const hits = await searcher.search(query, {
      limit,
      collections: collection === undefined ? undefined : [collection],
    })
    if (booleanFlag(flags, 'json')) {
      process.stdout.write(
        `${JSON.stringify({ query, limit, results: hits.map((h) => ({ ...h, record: h.properties, properties: undefined })) }, null, 2)}\n`,
      )
      return 0
    }
    if (hits.length === 0) {
      process.stdout.write(`no posts or orders stored yet (${searcher.store.id})\n`)
      return 0
    }
    process.stdout.write(
      `${'#'.padStart(2)}  ${'SCORE'.padEnd(6)}  ${'COLLECTION'.padEnd(11)}  ${'ID'.padEnd(24)}  TEXT\n`,
    )
    hits.forEach((h, i) => {
      const text = h.text.length > 90 ? `${h.text.slice(0, 89)}…` : h.text
      process.stdout.write(
        `${String(i + 1).padStart(2)}  ${h.score.toFixed(4)}  ${h.collection.padEnd(11)}  ${h.id.padEnd(24)}  ${text.replaceAll('\n', ' ')}\n`,
      )
    })
    return 0
  } finally {
    await searcher.close()
  }
}

/**
 * What the MillionX embedding service takes from an enriched record: its collection and id (post_id /
 * order_id), the text it embeds, and the reasons it refuses one (a dead letter on
 * embedding-service-errors).
 *
 * @example
 * const r = embeddable('social', Buffer.from(JSON.stringify(post)))
 * r.ok ? r.value.item // { collection: 'SocialPost', id: post.post_id, text: 'content · #tags · category · city', properties: post }
 */
import type { EmbeddingItem } from '../../../connectors/vector/embedding-sink.ts'
import type { ValidationResult, Violation } from '../../../dsl/operators/validate.ts'
import { type SourceKind, STAGE_TOPICS } from '../domain/topics.ts'

export const EMBEDDING_ERRORS_TOPIC = 'embedding-service-errors'
/** The seed's Weaviate collections, here tables. */
export const COLLECTIONS = { social: 'SocialPost', market: 'MarketOrder' } as const satisfies Record<
  SourceKind,
  string
>
export const KINDS: readonly SourceKind[] = ['social', 'market']

/** Topic names behind the optional prefix. */
export function embeddingTopics(prefix = '', deadLetters = EMBEDDING_ERRORS_TOPIC) {
  return {
    input: {
      social: prefix + STAGE_TOPICS.contextualized.social,
      market: prefix + STAGE_TOPICS.contextualized.market,
    },
    output: { social: prefix + STAGE_TOPICS.sink.social, market: prefix + STAGE_TOPICS.sink.market },
    deadLetters: prefix + deadLetters,
  } as const
}

type JsonObject = Record<string, unknown>

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined
}

/** The enricher's category (`product_context.category`), else the scraper's. */
function categoryOf(r: JsonObject): string | undefined {
  const nested = (r.product_context ?? r.context) as JsonObject | undefined
  return str(nested?.category) ?? str(r.product_category) ?? str(r.category)
}

/**
 * The privacy shield's tokens (`EMAIL_3f9a…`, PII type + 8–64 hex digits) mean nothing to the model and
 * cost it a dozen word pieces each; the type word alone keeps what the text said ("call me on phone").
 */
const PII_TOKEN = /\b(EMAIL|CARD|PHONE|NID|NAME)_[0-9a-f]{8,64}\b/g

function withoutPiiTokens(text: string): string {
  return text.replace(PII_TOKEN, (_m, type: string) => type.toLowerCase())
}

/**
 * What is embedded for a record: a post's content with its hashtags, category and place; an order's
 * product name with its category and shipping city (the enricher's `city` when the record has none).
 * Anonymised PII tokens become their type word. `undefined` when there is nothing to embed.
 */
export function embeddingText(kind: SourceKind, r: JsonObject): string | undefined {
  const category = categoryOf(r)
  if (kind === 'social') {
    const content = str(r.content)
    if (content === undefined) return undefined
    const tags = Array.isArray(r.hashtags)
      ? r.hashtags.filter((t): t is string => typeof t === 'string' && t !== '')
      : []
    const place = str(r.location) ?? str(r.city)
    const extra = [tags.map((t) => (t.startsWith('#') ? t : `#${t}`)).join(' '), category, place]
    return withoutPiiTokens([content, ...extra.filter((x) => x !== undefined && x !== '')].join(' · '))
  }
  const name = str(r.product_name)
  if (name === undefined) return undefined
  const place = str(r.shipping_city) ?? str(r.city)
  return withoutPiiTokens([name, category, place].filter((x) => x !== undefined).join(' · '))
}

export interface Embeddable {
  readonly item: EmbeddingItem
  /** The input record's bytes, passed on to the sink topic unchanged. */
  readonly raw: Buffer
}

const MAX_ID = 512

function violation(field: string, message: string, type = 'required'): Violation {
  return { rule: `embedding:${field}`, type, field, message }
}

/** A record the service can embed: a JSON object with its id (post_id / order_id) and some text. */
export function embeddable(kind: SourceKind, raw: Buffer | null): ValidationResult<Embeddable> {
  if (raw === null)
    return { ok: false, violations: [violation('value', 'a tombstone (null value) has nothing to embed')] }
  let r: unknown
  try {
    r = JSON.parse(raw.toString('utf8'))
  } catch (err) {
    return {
      ok: false,
      violations: [violation('value', `not JSON: ${(err as Error).message}`, 'deserialize')],
    }
  }
  if (r === null || typeof r !== 'object' || Array.isArray(r)) {
    return { ok: false, violations: [violation('value', 'not a JSON object', 'type')] }
  }
  const record = r as JsonObject
  const idField = kind === 'social' ? 'post_id' : 'order_id'
  const id = record[idField]
  const violations: Violation[] = []
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID) {
    violations.push(violation(idField, `must be a string of 1–${MAX_ID} characters`))
  }
  const text = embeddingText(kind, record)
  if (text === undefined)
    violations.push(violation(kind === 'social' ? 'content' : 'product_name', 'nothing to embed'))
  if (violations.length > 0) return { ok: false, violations }
  return {
    ok: true,
    value: {
      item: { collection: COLLECTIONS[kind], id: id as string, text: text!, properties: record },
      raw,
    },
  }
}

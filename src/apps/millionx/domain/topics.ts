/**
 * MillionX topics (seed 004): scraper sources, the validated topic each one maps to, the dead-letter
 * topic for schema failures, and the later stages' topics. `validateForTopic` is the schema validator's
 * whole decision for one record as a pure function.
 *
 * @example
 * const r = validateForTopic('source.market.daraz', value)
 * r.ok ? send(r.topic, r.value) : send(SCHEMA_VALIDATION_ERRORS_TOPIC, validationErrorRecord(...))
 */
import { validateWith, type Violation } from '../../../rules/index.ts'
import { MarketOrder, SocialPost } from './models.ts'

export const SOURCE_TOPICS = [
  'source.social.tiktok',
  'source.social.facebook',
  'source.market.shopify',
  'source.market.daraz',
] as const
export type SourceTopic = (typeof SOURCE_TOPICS)[number]

export const VALIDATED_TOPICS = {
  'source.social.tiktok': 'validated.social.tiktok',
  'source.social.facebook': 'validated.social.facebook',
  'source.market.shopify': 'validated.market.shopify',
  'source.market.daraz': 'validated.market.daraz',
} as const satisfies Record<SourceTopic, string>
export type ValidatedTopic = (typeof VALIDATED_TOPICS)[SourceTopic]

export const SCHEMA_VALIDATION_ERRORS_TOPIC = 'schema-validation-errors'

/** The later stages (privacy shield → context enricher → embedding service). */
export const STAGE_TOPICS = {
  anonymized: { social: 'enriched.social.anonymized', market: 'enriched.market.anonymized' },
  contextualized: { social: 'enriched.social.contextualized', market: 'enriched.market.contextualized' },
  sink: { social: 'sink.snowflake.social', market: 'sink.snowflake.market' },
} as const

export type SourceKind = 'social' | 'market'

export function isSourceTopic(topic: string): topic is SourceTopic {
  return Object.hasOwn(VALIDATED_TOPICS, topic)
}

export function kindOf(topic: SourceTopic): SourceKind {
  return topic.startsWith('source.social.') ? 'social' : 'market'
}

/** `source.social.tiktok` → `tiktok`. */
export function platformOf(topic: SourceTopic): string {
  return topic.slice(topic.lastIndexOf('.') + 1)
}

const validators = {
  social: validateWith(SocialPost, { prefix: 'SocialPost' }),
  market: validateWith(MarketOrder, { prefix: 'MarketOrder' }),
}

export type TopicValidation =
  | { readonly ok: true; readonly topic: ValidatedTopic; readonly kind: 'social'; readonly value: SocialPost }
  | {
      readonly ok: true
      readonly topic: ValidatedTopic
      readonly kind: 'market'
      readonly value: MarketOrder
    }
  | { readonly ok: false; readonly violations: readonly Violation[] }

/**
 * Validates a source record against its topic's model; a record whose `platform` is not the topic's
 * (a Facebook post on the TikTok topic) is invalid too. On success, says where it goes.
 */
export function validateForTopic(topic: SourceTopic, value: unknown): TopicValidation {
  const kind = kindOf(topic)
  const r = validators[kind](value)
  if (!r.ok) return r
  const platform = platformOf(topic)
  if (r.value.platform !== platform) {
    return {
      ok: false,
      violations: [
        {
          rule: `${kind === 'social' ? 'SocialPost' : 'MarketOrder'}:platform:topic`,
          type: 'enum',
          field: 'platform',
          message: `platform "${r.value.platform}" does not match the topic ${topic} (expected "${platform}")`,
          severity: 'error',
          value: r.value.platform,
        },
      ],
    }
  }
  return kind === 'social'
    ? { ok: true, topic: VALIDATED_TOPICS[topic], kind, value: r.value as SocialPost }
    : { ok: true, topic: VALIDATED_TOPICS[topic], kind, value: r.value as MarketOrder }
}

/** What goes to `schema-validation-errors`: the original record, why it failed, and when. */
export interface SchemaValidationError {
  readonly source_topic: string
  readonly error_type: 'schema_validation'
  readonly error_message: string
  readonly errors: readonly Violation[]
  readonly original: unknown
  readonly failed_at: string
  readonly retry_count: number
}

export function validationErrorRecord(
  sourceTopic: string,
  original: unknown,
  violations: readonly Violation[],
  meta: { readonly now: number; readonly retryCount?: number },
): SchemaValidationError {
  return {
    source_topic: sourceTopic,
    error_type: 'schema_validation',
    error_message: violations.map((v) => (v.field ? `${v.field}: ${v.message}` : v.message)).join('; '),
    errors: violations,
    original,
    failed_at: new Date(meta.now).toISOString(),
    retry_count: meta.retryCount ?? 0,
  }
}

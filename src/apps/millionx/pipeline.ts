/**
 * The MillionX pipeline (seed 004), stage 1: the schema validator. The later stages (privacy shield →
 * context enricher → embedding service) are stage apps in `stages/` (`weir run millionx` runs them in one
 * process, `--stage` one each), each reading the topics the one before it writes, as the seed's
 * processors do:
 *
 *   source.social.tiktok    ─┐                    ┌→ validated.social.tiktok
 *   source.social.facebook  ─┤  schemaValidator   ├→ validated.social.facebook
 *   source.market.shopify   ─┤  (SocialPost /     ├→ validated.market.shopify
 *   source.market.daraz     ─┘   MarketOrder)     └→ validated.market.daraz
 *                                     ↓ unreadable or invalid, with every violation
 *                            schema-validation-errors (the pipeline's dead-letter topic)
 */
import { bytes, json, type Serde } from '../../core/serde.ts'
import { type Pipeline, pipeline, type Stream } from '../../dsl/stream.ts'
import type { ValidationResult, Violation } from '../../dsl/operators/validate.ts'
import {
  type MarketOrder,
  platformOf,
  SCHEMA_VALIDATION_ERRORS_TOPIC,
  type SocialPost,
  SOURCE_TOPICS,
  type SourceTopic,
  VALIDATED_TOPICS,
  validateForTopic,
} from './domain/index.ts'
import type { ValidatorMetrics } from './metrics.ts'

/** The real topic names: the seed's, behind an optional prefix (tenants, tests). */
export interface MillionxTopics {
  readonly sources: Readonly<Record<SourceTopic, string>>
  readonly validated: Readonly<Record<SourceTopic, string>>
  readonly deadLetters: string
}

export function millionxTopics(
  prefix = '',
  deadLetters: string = SCHEMA_VALIDATION_ERRORS_TOPIC,
): MillionxTopics {
  const each = (f: (s: SourceTopic) => string) =>
    Object.fromEntries(SOURCE_TOPICS.map((s) => [s, prefix + f(s)])) as Record<SourceTopic, string>
  return {
    sources: each((s) => s),
    validated: each((s) => VALIDATED_TOPICS[s]),
    deadLetters: prefix + deadLetters,
  }
}

export type ValidatedRecord = SocialPost | MarketOrder
/** Keys stay the bytes the scrapers wrote: the validator never changes what it passes on. */
export type RecordKey = Buffer | null
export type ValidatedStreams = Readonly<Record<SourceTopic, Stream<RecordKey, ValidatedRecord>>>

export interface MillionxPipelineOptions {
  readonly topics: MillionxTopics
  /** Partitions of the topics the pipeline creates. */
  readonly partitions: number
  readonly metrics: ValidatorMetrics
}

/** Characters of an offending value kept in a violation: details must fit a dead-letter header. */
const MAX_VALUE_CHARS = 120

/**
 * Stage 1, the schema validator: each source topic is read as JSON and checked against its model
 * (types, bounds, enums, total_price = quantity × unit_price, platform = the topic's). Valid records go on
 * as the model's output (unknown fields dropped); an unreadable record is a DESERIALIZE_FAILED dead
 * letter, an invalid one a VALIDATION_FAILED dead letter whose details list every violation.
 */
export function schemaValidator(p: Pipeline, options: MillionxPipelineOptions): ValidatedStreams {
  const { topics, partitions, metrics } = options
  const out = {} as Record<SourceTopic, Stream<RecordKey, ValidatedRecord>>
  for (const source of SOURCE_TOPICS) {
    const value = countFailures(json<unknown>(), () => metrics.unreadable(source))
    out[source] = p
      .stream<unknown, RecordKey>(topics.sources[source], { key: bytes(), value, partitions })
      .validate(
        (v): ValidationResult<ValidatedRecord> => {
          const r = validateForTopic(source, v)
          if (r.ok) {
            metrics.passed(source)
            return { ok: true, value: r.value }
          }
          metrics.failed(source, r.violations)
          return { ok: false, violations: r.violations.map(compact) }
        },
        { name: `validate-${platformOf(source)}` },
      ).valid
  }
  return out
}

/** The schema validator stage as a pipeline: each validated stream written to its topic. */
export function millionxPipeline(options: MillionxPipelineOptions): Pipeline {
  const p = pipeline('millionx')
  const validated = schemaValidator(p, options)
  for (const source of SOURCE_TOPICS) {
    validated[source].to(options.topics.validated[source], {
      key: bytes(),
      partitions: options.partitions,
      name: `to-${VALIDATED_TOPICS[source]}`,
    })
  }
  return p
}

/** A serde that counts the values it cannot read (then fails as before: a dead letter with the reason). */
function countFailures<T>(serde: Serde<T>, onFailure: () => void): Serde<T> {
  return {
    name: serde.name,
    serialize: (v, ctx) => serde.serialize(v, ctx),
    deserialize(data, ctx) {
      try {
        const r = serde.deserialize(data, ctx)
        if (r instanceof Promise) {
          return r.catch((err: unknown) => {
            onFailure()
            throw err
          })
        }
        return r
      } catch (err) {
        onFailure()
        throw err
      }
    },
  }
}

function compact(v: Violation): Violation {
  if (v.value === undefined) return v
  const value = v.value
  if (typeof value === 'string')
    return value.length > MAX_VALUE_CHARS ? { ...v, value: `${value.slice(0, MAX_VALUE_CHARS)}…` } : v
  if (value !== null && typeof value === 'object') {
    const text = JSON.stringify(value) ?? ''
    return text.length > MAX_VALUE_CHARS ? { ...v, value: `${text.slice(0, MAX_VALUE_CHARS)}…` } : v
  }
  return v
}

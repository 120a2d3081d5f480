/**
 * The MillionX stages, in pipeline order: the one list `weir run millionx [--stage …]`, `weir describe
 * millionx` and the tests read. Each loads lazily, so running one stage loads only its dependencies.
 */
import type { StageSpec } from '../../../service/stages.ts'

export const MILLIONX_STAGES: readonly StageSpec[] = [
  {
    id: 'schema-validator',
    envPrefix: 'SCHEMA_VALIDATOR',
    load: async () => (await import('./schema-validator.ts')).schemaValidatorStage,
  },
  {
    id: 'privacy-shield',
    envPrefix: 'PRIVACY_SHIELD',
    load: async () => (await import('./privacy-shield.ts')).privacyShieldStage,
  },
  {
    id: 'context-enricher',
    envPrefix: 'CONTEXT_ENRICHER',
    load: async () => (await import('./context-enricher.ts')).contextEnricherStage,
  },
  {
    id: 'embedding-service',
    envPrefix: 'EMBEDDING_SERVICE',
    load: async () => (await import('./embedding-service.ts')).embeddingServiceStage,
  },
]

/** The ids `--stage` takes, for messages and docs. */
export const MILLIONX_STAGE_IDS = MILLIONX_STAGES.map((s) => s.id)

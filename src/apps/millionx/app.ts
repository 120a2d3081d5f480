/**
 * `weir run millionx`: the MillionX pipeline (seed 004) — every stage in one process, each with its own
 * consumer group and ops port (the seed's 6066–6069), or some of them with `--stage` / MILLIONX_STAGES.
 * The stages themselves are in ./stages/. As a plain app (`weir produce millionx`, in-process tests) it
 * is the schema validator, the first stage.
 */
import { STAGE_SCOPED_VARS, type StagedApp } from '../../service/stages.ts'
import { contextEnricherStage } from './stages/context-enricher.ts'
import { embeddingServiceStage } from './stages/embedding-service.ts'
import { MILLIONX_STAGES } from './stages/index.ts'
import { privacyShieldStage } from './stages/privacy-shield.ts'
import { schemaValidatorEnv, schemaValidatorStage } from './stages/schema-validator.ts'

/** The validator's variables (kept under this name for code that read the app's config). */
export const millionxEnv = schemaValidatorEnv

const stageEnvDocs = [
  {
    name: 'MILLIONX_STAGES',
    default: 'all',
    description: `Stages to run, comma-separated (as --stage): ${MILLIONX_STAGES.map((s) => s.id).join(', ')}`,
  },
  ...MILLIONX_STAGES.flatMap((s) =>
    STAGE_SCOPED_VARS.map((v) => ({
      name: `${s.envPrefix}_${v}`,
      description: `${v} of the ${s.id} stage (unprefixed ${v} applies when it runs alone${s.id === 'schema-validator' ? ', and to it when all run' : ''})`,
    })),
  ),
]

/** Every stage's variables once (the first description wins: they share the Kafka ones). */
function mergedEnv(): StagedApp['env'] {
  const seen = new Set<string>()
  const out: Array<StagedApp['env'][number]> = []
  for (const entry of [
    ...schemaValidatorStage.env,
    ...privacyShieldStage.env,
    ...contextEnricherStage.env,
    ...embeddingServiceStage.env,
    ...stageEnvDocs,
  ]) {
    if (seen.has(entry.name)) continue
    seen.add(entry.name)
    out.push(entry)
  }
  return out
}

export const millionxApp: StagedApp = {
  ...schemaValidatorStage,
  name: 'millionx',
  description:
    'MillionX pipeline (seed 004): schema validator (6069) → privacy shield (6066) → context enricher (6067) → embedding service (6068); --stage runs one',
  env: mergedEnv(),
  stages: MILLIONX_STAGES,
  primaryStage: 'schema-validator',
  stageSelectorEnv: 'MILLIONX_STAGES',
}

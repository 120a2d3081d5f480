/** Config: one validated boundary from environment variables to a typed, secret-safe value. */
export {
  type DurationOptions,
  type EnumOptions,
  type EnvField,
  envBool,
  envDuration,
  envEnum,
  envInt,
  envList,
  envNumber,
  envSecret,
  envString,
  envUrl,
  type FieldOptions,
  type IntOptions,
  type ListOptions,
  type NumberOptions,
  parseDuration,
  type SecretOptions,
  type StringOptions,
  type UrlOptions,
} from './fields.ts'
export {
  type ConfigProblem,
  describeConfig,
  type Env,
  isProduction,
  loadConfig,
  productionMarker,
} from './load.ts'
export { REDACTED, Secret } from './secret.ts'

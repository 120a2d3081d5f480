/** MillionX domain (seed 004): SocialPost / MarketOrder models and the topic map. Pure. */
export {
  CURRENCIES,
  LANGUAGES,
  MARKET_PLATFORMS,
  MarketOrder,
  ORDER_STATUSES,
  PAYMENT_METHODS,
  PRICE_TOLERANCE,
  PRODUCT_CATEGORIES,
  SOCIAL_PLATFORMS,
  SocialPost,
} from './models.ts'
export {
  isSourceTopic,
  kindOf,
  platformOf,
  SCHEMA_VALIDATION_ERRORS_TOPIC,
  type SchemaValidationError,
  SOURCE_TOPICS,
  type SourceKind,
  type SourceTopic,
  STAGE_TOPICS,
  type TopicValidation,
  VALIDATED_TOPICS,
  type ValidatedTopic,
  validateForTopic,
  validationErrorRecord,
} from './topics.ts'

/** PII detection and anonymisation (the MillionX privacy shield's core), usable on any JSON record. */
export {
  type Anonymized,
  type Anonymizer,
  type AnonymizerOptions,
  createAnonymizer,
  DEFAULT_SKIP_FIELDS,
  emptyCounts,
  type PiiCounts,
} from './anonymize.ts'
export { type FindOptions, findPii, NID_FIELDS, PII_TYPES, type PiiMatch, type PiiType } from './detect.ts'
export { isCardNumber, luhnValid } from './luhn.ts'
export { findNames, NAME_FIELDS } from './names.ts'

/**
 * PII detection in one string: where each e-mail address, phone number (Bangladesh and US), card number
 * (issuer range + Luhn), Bangladesh NID (10, 13 or 17 digits) and personal name is. Overlaps are resolved
 * by the order of `PII_TYPES` (an e-mail before a name inside it; a card before a phone made of its
 * digits), then by length.
 *
 * @example
 * findPii('Call 01712-345678 or mail rahim@x.com') // [{ type: 'PHONE', … }, { type: 'EMAIL', … }]
 */
import { isCardNumber } from './luhn.ts'
import { findNames, NAME_FIELDS } from './names.ts'

export const PII_TYPES = ['EMAIL', 'CARD', 'PHONE', 'NID', 'NAME'] as const
export type PiiType = (typeof PII_TYPES)[number]

export interface PiiMatch {
  readonly type: PiiType
  readonly start: number
  readonly end: number
  /** The value as hashed: normalised so that one phone or e-mail written two ways gives one token. */
  readonly normalized: string
}

const EMAIL =
  /(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g

/**
 * Bangladesh mobile: +880 / 880 / 0, then 1[3-9] and 8 digits, with optional space or dash groups; after an
 * explicit `+880` any 9–10 digits (the seed's own example, +880123456789, is one digit short).
 */
const BD_PHONE =
  /(?<![\d+])(?:\+?880[\s-]?|0)1[3-9]\d{2}[\s-]?\d{3}[\s-]?\d{3}(?!\d)|(?<![\d+])\+880[\s-]?\d(?:[\s-]?\d){8,9}(?!\d)/g
/** US: (NXX) NXX-XXXX, NXX-NXX-XXXX, NXX.NXX.XXXX, +1 NXX NXX XXXX; bare 10-digit runs are not phones. */
const US_PHONE =
  /(?<![\d+])(?:\+1[\s.-]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[\s.-])[2-9]\d{2}[\s.-]\d{4}(?!\d)|(?<![\d+])\+1[2-9]\d{2}[2-9]\d{6}(?!\d)/g

/** 13–19 digits, optionally in groups separated by one space or dash. */
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g

/** Runs of exactly 10, 13 or 17 digits (not part of a longer number, a decimal, a date or a price). */
const DIGIT_RUN = /(?<!\d|\d[.,:/-])(\d{10}|\d{13}|\d{17})(?!\d|[.,:/-]\d)/g
/** Words that say an NID follows (English, Banglish, Bangla). */
const NID_CUE =
  /(?:\bn\.?\s?i\.?\s?d\b|national\s+id|voter\s+id|smart\s*card|id\s*card|জাতীয়\s*পরিচয়|এনআইডি|ভোটার)[^\d\n]{0,20}$/i
/** Field names that hold an NID. */
export const NID_FIELDS = /(^|_)(nid|national_id|voter_id|nid_number)$/i

function digitsOf(s: string): string {
  return s.replace(/\D/g, '')
}

function bdPhone(raw: string): string {
  const d = digitsOf(raw)
  return d.startsWith('880') ? d : `88${d}`
}

/** 17-digit smart-card-era NIDs start with the holder's birth year. */
function plausible17(d: string): boolean {
  const year = Number(d.slice(0, 4))
  return year >= 1900 && year <= 2015
}

export interface FindOptions {
  /** The field the text is in (its last path segment): `author`, `customer_name`, `nid`, … */
  readonly field?: string
}

export function findPii(text: string, options: FindOptions = {}): PiiMatch[] {
  return findPiiInField(text, options.field ?? '')
}

/** `findPii` with the field name given as is (the anonymiser calls it for every string of every record). */
export function findPiiInField(text: string, field: string): PiiMatch[] {
  if (NAME_FIELDS.test(field)) {
    const name = text.trim()
    if (name === '' || /@|\d{5,}/.test(name)) return scan(text, field)
    const start = text.indexOf(name)
    return [
      { type: 'NAME', start, end: start + name.length, normalized: name.toLowerCase().replace(/\s+/g, ' ') },
    ]
  }
  return scan(text, field)
}

const DIGIT = /\d/
/** Every name candidate starts with a capital (honorifics included). */
const CAPITAL = /\p{Lu}/u

/**
 * Most strings (hashtags, cities, product words) hold no '@', no digit and no capital, so nothing can
 * match: they return before any pattern runs. The handlers are module functions, not closures, so a scan
 * allocates only what it finds (the anonymiser scans every string of every record).
 */
function scan(text: string, field: string): PiiMatch[] {
  const hasAt = text.includes('@')
  const hasDigit = DIGIT.test(text)
  if (!hasAt && !hasDigit && !CAPITAL.test(text)) return []
  const found: PiiMatch[] = []
  if (hasAt) each(EMAIL, text, found, false, onEmail)
  if (hasDigit) {
    each(CARD, text, found, false, onCard)
    each(BD_PHONE, text, found, false, onBdPhone)
    each(US_PHONE, text, found, false, onUsPhone)
    each(DIGIT_RUN, text, found, NID_FIELDS.test(field), onDigitRun)
  }
  for (const span of findNames(text)) {
    found.push({
      type: 'NAME',
      start: span.start,
      end: span.end,
      normalized: text.slice(span.start, span.end).toLowerCase().replace(/\s+/g, ' '),
    })
  }
  return resolve(found)
}

type OnMatch = (found: PiiMatch[], m: RegExpExecArray, text: string, nidField: boolean) => void

function each(re: RegExp, text: string, found: PiiMatch[], nidField: boolean, onMatch: OnMatch): void {
  re.lastIndex = 0
  for (let m = re.exec(text); m !== null; m = re.exec(text)) onMatch(found, m, text, nidField)
}

const onEmail: OnMatch = (found, m) => {
  found.push(at('EMAIL', m, m[0].toLowerCase()))
}

const onCard: OnMatch = (found, m) => {
  const d = digitsOf(m[0])
  if (isCardNumber(d)) found.push(at('CARD', m, d))
}

const onBdPhone: OnMatch = (found, m) => {
  found.push(at('PHONE', m, bdPhone(m[0])))
}

const onUsPhone: OnMatch = (found, m) => {
  const d = digitsOf(m[0])
  found.push(at('PHONE', m, d.length === 10 ? `1${d}` : d))
}

const onDigitRun: OnMatch = (found, m, text, nidField) => {
  const d = m[0]
  const cue = NID_CUE.test(text.slice(Math.max(0, m.index - 40), m.index))
  if (nidField || cue || (d.length === 17 && plausible17(d))) found.push(at('NID', m, d))
}

function at(type: PiiType, m: RegExpExecArray, normalized: string): PiiMatch {
  return { type, start: m.index, end: m.index + m[0].length, normalized }
}

const RANK: Record<PiiType, number> = { EMAIL: 0, CARD: 1, PHONE: 2, NID: 3, NAME: 4 }

/** Non-overlapping matches, in text order: higher-ranked types first, then longer spans. */
function resolve(found: PiiMatch[]): PiiMatch[] {
  if (found.length <= 1) return found
  found.sort((a, b) => RANK[a.type] - RANK[b.type] || b.end - b.start - (a.end - a.start))
  const kept: PiiMatch[] = []
  for (const m of found) {
    if (!kept.some((k) => m.start < k.end && k.start < m.end)) kept.push(m)
  }
  return kept.sort((a, b) => a.start - b.start)
}

/**
 * Product category by keywords, with a confidence: English, Bangla and Banglish terms for smartphone,
 * laptop, fashion, electronics and home; `general` when nothing matches. Confidence grows with the share
 * of matched weight that went to the winning category and with how strong the matches were (a brand
 * model name weighs more than a generic word), so "phone case" is electronics-ish but not certain.
 *
 * @example
 * classifyProduct('Samsung Galaxy A54 er dam koto?') // { category: 'smartphone', confidence: 0.9, matched: ['galaxy', 'samsung'] }
 */
export const ENRICH_CATEGORIES = [
  'smartphone',
  'laptop',
  'fashion',
  'electronics',
  'home',
  'general',
] as const
export type EnrichCategory = (typeof ENRICH_CATEGORIES)[number]

export interface CategoryResult {
  readonly category: EnrichCategory
  /** 0–1. `general` (no keyword) is 0.3: a fallback, not a finding. */
  readonly confidence: number
  readonly matched: readonly string[]
}

/** Keyword → weight per category. Multi-word terms match as phrases. */
const KEYWORDS: Readonly<Record<Exclude<EnrichCategory, 'general'>, Readonly<Record<string, number>>>> = {
  smartphone: {
    smartphone: 3,
    phone: 2,
    mobile: 2,
    iphone: 3,
    android: 2,
    galaxy: 3,
    redmi: 3,
    xiaomi: 2,
    realme: 3,
    oppo: 3,
    vivo: 3,
    oneplus: 3,
    pixel: 2,
    primo: 3,
    symphony: 2,
    infinix: 3,
    tecno: 3,
    nokia: 2,
    ফোন: 2,
    মোবাইল: 2,
    স্মার্টফোন: 3,
    'mobile phone': 3,
    handset: 2,
  },
  laptop: {
    laptop: 3,
    notebook: 2,
    macbook: 3,
    thinkpad: 3,
    ideapad: 3,
    pavilion: 3,
    vivobook: 3,
    zenbook: 3,
    chromebook: 3,
    inspiron: 3,
    'core i5': 2,
    'core i7': 2,
    ryzen: 2,
    ল্যাপটপ: 3,
    computer: 1,
    pc: 1,
  },
  fashion: {
    saree: 3,
    sari: 3,
    jamdani: 3,
    panjabi: 3,
    punjabi: 2,
    kurti: 3,
    salwar: 3,
    kameez: 3,
    'three-piece': 3,
    'three piece': 3,
    lungi: 3,
    shirt: 2,
    't-shirt': 2,
    tshirt: 2,
    jeans: 2,
    dress: 2,
    shoe: 2,
    shoes: 2,
    sneaker: 2,
    sandal: 2,
    hijab: 3,
    borka: 3,
    abaya: 3,
    bag: 1,
    fashion: 2,
    শাড়ি: 3,
    পাঞ্জাবি: 3,
    জামা: 2,
    kapor: 2,
    jama: 2,
    aarong: 2,
  },
  electronics: {
    headphone: 3,
    headphones: 3,
    earbuds: 3,
    earphone: 3,
    speaker: 2,
    tv: 2,
    television: 3,
    smartwatch: 3,
    'smart band': 3,
    band: 1,
    watch: 1,
    camera: 2,
    charger: 2,
    'power bank': 3,
    powerbank: 3,
    router: 2,
    jbl: 3,
    monitor: 2,
    keyboard: 2,
    mouse: 1,
    tablet: 2,
    ipad: 3,
    cable: 1,
    ইলেকট্রনিক্স: 3,
    bluetooth: 2,
  },
  home: {
    refrigerator: 3,
    fridge: 3,
    'rice cooker': 3,
    cooker: 2,
    blender: 3,
    fan: 2,
    'ceiling fan': 3,
    ac: 1,
    'air conditioner': 3,
    'washing machine': 3,
    microwave: 3,
    oven: 2,
    iron: 1,
    furniture: 3,
    sofa: 3,
    bed: 2,
    mattress: 3,
    curtain: 2,
    kitchen: 2,
    'gas stove': 3,
    stove: 2,
    fridj: 2,
    ফ্রিজ: 3,
    miyako: 3,
    'walton refrigerator': 2,
    bati: 1,
    hari: 1,
    patil: 2,
  },
}

type Scored = Exclude<EnrichCategory, 'general'>

interface Term {
  /** Its category's place in SCORED (scratch arrays are indexed by it). */
  readonly at: number
  readonly term: string
  readonly weight: number
}

const SCORED = Object.keys(KEYWORDS) as Scored[]

const TERMS: readonly Term[] = Object.entries(KEYWORDS).flatMap(([category, words]) =>
  Object.entries(words).map(([term, weight]) => ({
    at: SCORED.indexOf(category as Scored),
    term,
    weight,
  })),
)
const SINGLE = new Map<string, Term[]>()
const PHRASES: Term[] = []
for (const t of TERMS) {
  if (t.term.includes(' ')) PHRASES.push(t)
  else SINGLE.set(t.term, [...(SINGLE.get(t.term) ?? []), t])
}

const TOKEN = /[\p{L}\p{M}\p{N}-]+/gu

/**
 * One call's tallies, reused by every call (classifyProduct runs for each record of the enricher and
 * never re-enters itself): a score and the matched terms per category, the categories in the order they
 * first matched (ties go to the earliest), and the words already counted.
 */
const score = SCORED.map(() => 0)
const matched: string[][] = SCORED.map(() => [])
const order: number[] = []
const seen = new Set<string>()

function add(t: Term): void {
  if (score[t.at] === 0) order.push(t.at)
  score[t.at]! += t.weight
  matched[t.at]!.push(t.term)
}

export function classifyProduct(text: string): CategoryResult {
  const lower = text.toLowerCase()
  for (const c of order) {
    score[c] = 0
    matched[c]!.length = 0
  }
  order.length = 0
  seen.clear()
  TOKEN.lastIndex = 0
  for (let m = TOKEN.exec(lower); m !== null; m = TOKEN.exec(lower)) {
    const word = m[0]
    const terms = SINGLE.get(word)
    if (terms === undefined || seen.has(word)) continue
    seen.add(word)
    for (const t of terms) add(t)
  }
  for (const t of PHRASES) if (lower.includes(t.term)) add(t)
  let best = -1
  let bestScore = 0
  let total = 0
  for (const c of order) {
    const s = score[c]!
    total += s
    if (s > bestScore) {
      best = c
      bestScore = s
    }
  }
  if (best === -1) return { category: 'general', confidence: 0.3, matched: [] }
  // Share of the evidence × strength of it (3 points is one strong keyword).
  const share = bestScore / total
  const strength = Math.min(1, bestScore / 4)
  const confidence = Math.round(Math.min(0.99, 0.35 + 0.64 * share * strength) * 100) / 100
  return { category: SCORED[best]!, confidence, matched: [...new Set(matched[best])].sort() }
}

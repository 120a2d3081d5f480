/**
 * MillionX scraper output (seed 004): social posts on `source.social.tiktok` / `source.social.facebook`
 * and marketplace orders on `source.market.shopify` / `source.market.daraz`, Bangladesh flavoured
 * (taka prices, Dhaka addresses, Banglish and Bangla text). Posts and orders carry PII on purpose —
 * e-mails, +8801… and 01… phone numbers, names, street addresses, card numbers (Luhn-valid) and NIDs —
 * for the privacy stage, and the five cities and product names the context enricher looks for. A share of records
 * is invalid, each with a `defect` naming the kind and the spoiled field.
 *
 * @example
 * const g = millionxGenerator({ seed: 3, invalidShare: 0.02 })
 * const r = g.next() // { topic: 'source.market.daraz', key: order_id, value: MarketOrder, … }
 */
import type { MarketOrder, SocialPost, SourceTopic } from '../apps/millionx/domain/index.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { BD_FIRST, BD_LAST, bdPhone, digits, email } from './people.ts'
import { createRng, cumulative, type Rng } from './rng.ts'
import { checkShare, type Generated, type RecordGenerator, takeFrom } from './types.ts'

export const MILLIONX_DEFECTS = [
  'missing_field',
  'wrong_type',
  'out_of_range',
  'bad_enum',
  'total_mismatch',
] as const
export type MillionxDefect = (typeof MILLIONX_DEFECTS)[number]

type SocialTopic = Extract<SourceTopic, `source.social.${string}`>
type MarketTopic = Extract<SourceTopic, `source.market.${string}`>
export type MillionxRecord =
  | Generated<SocialPost, MillionxDefect, SocialTopic>
  | Generated<MarketOrder, MillionxDefect, MarketTopic>

export interface MillionxGeneratorOptions {
  readonly seed?: number
  /** Share of deliberately invalid records, 0–1 (default 0). */
  readonly invalidShare?: number
  readonly defects?: readonly MillionxDefect[]
  readonly now?: () => number
}

const TOPICS: readonly SourceTopic[] = [
  'source.social.tiktok',
  'source.social.facebook',
  'source.market.shopify',
  'source.market.daraz',
]
const TOPIC_WEIGHTS = cumulative([35, 25, 20, 20])

type Category = NonNullable<MarketOrder['category']>
const PRODUCTS: ReadonlyArray<readonly [name: string, category: Category, priceBdt: number]> = [
  ['Samsung Galaxy A54', 'smartphone', 42000],
  ['Xiaomi Redmi Note 13', 'smartphone', 24000],
  ['iPhone 15', 'smartphone', 135000],
  ['Realme C55', 'smartphone', 18000],
  ['Walton Primo H10', 'smartphone', 9000],
  ['HP Pavilion 15', 'laptop', 85000],
  ['Lenovo IdeaPad Slim 3', 'laptop', 62000],
  ['Jamdani Saree', 'fashion', 6500],
  ['Cotton Panjabi', 'fashion', 1800],
  ['Three-piece Salwar Kameez', 'fashion', 2500],
  ['Xiaomi Smart Band 8', 'electronics', 4500],
  ['JBL Tune 510BT', 'electronics', 5500],
  ['Walton Refrigerator 252L', 'home', 38000],
  ['Miyako Rice Cooker 1.8L', 'home', 2800],
  ['Sunsilk Shampoo 375ml', 'beauty', 450],
  ['Miniket Rice 5kg', 'grocery', 380],
]
const CITIES = ['Dhaka', 'Chittagong', 'Sylhet', 'Rajshahi', 'Khulna']
const AREAS = [
  'Dhanmondi',
  'Gulshan',
  'Banani',
  'Mirpur',
  'Uttara',
  'Mohammadpur',
  'Bashundhara',
  'Agrabad',
  'Zindabazar',
]
const SHOPS = ['Daraz', 'Pickaboo', 'Star Tech', 'Ryans', 'Aarong', 'Chaldal']
const TAGS = ['dhaka', 'bangladesh', 'deals', 'unboxing', 'review', 'fashion', 'tech', 'eid', 'sale']
const PAYMENT_WEIGHTS = cumulative([50, 25, 12, 5, 8])
const PAYMENTS = ['cod', 'bkash', 'nagad', 'rocket', 'card'] as const
const STATUS_WEIGHTS = cumulative([20, 25, 20, 28, 5, 2])
const STATUSES = ['pending', 'confirmed', 'shipped', 'delivered', 'cancelled', 'returned'] as const

const SOCIAL_REQUIRED = ['post_id', 'platform', 'content', 'author', 'engagement_count', 'posted_at'] as const
const MARKET_REQUIRED = [
  'order_id',
  'platform',
  'product_id',
  'product_name',
  'quantity',
  'unit_price',
  'total_price',
  'currency',
  'payment_method',
  'status',
  'order_date',
] as const

const DAY_MS = 86_400_000

/** An `n`-digit number as text, no leading zero. */
function numeric(rng: Rng, n: number): string {
  return `${rng.int(1, 9)}${digits(rng, n - 1)}`
}

const round2 = (x: number) => Math.round(x * 100) / 100

/** A Visa or Mastercard number with a valid Luhn check digit, in groups of four. */
function cardNumber(rng: Rng): string {
  const body = `${rng.chance(0.6) ? '4' : `5${rng.int(1, 5)}`}${digits(rng, 14)}`.slice(0, 15)
  let sum = 0
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48
    if (i % 2 === 0) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return `${body}${(10 - (sum % 10)) % 10}`.replace(/(\d{4})(?=\d)/g, '$1 ')
}

/** A Bangladesh NID: 10 digits (smart card), 13 (old) or 17 (birth year first). */
function nid(rng: Rng): string {
  const kind = rng.int(0, 2)
  if (kind === 0) return numeric(rng, 10)
  if (kind === 1) return numeric(rng, 13)
  return `${rng.int(1965, 2004)}${digits(rng, 13)}`
}

export function millionxGenerator(options: MillionxGeneratorOptions = {}): RecordGenerator<MillionxRecord> {
  const rng = createRng(options.seed ?? 1)
  const share = checkShare('invalidShare', options.invalidShare ?? 0)
  const defects = options.defects ?? MILLIONX_DEFECTS
  if (share > 0 && defects.length === 0)
    throw new WeirError(ErrorCode.CONFIG_INVALID, 'defects must not be empty when invalidShare > 0')
  const now = options.now ?? Date.now

  function content(
    product: string,
    price: number,
    city: string,
  ): { text: string; tags: string[]; language: 'bn' | 'en' | 'mixed' } {
    const tag = rng.pick(TAGS)
    const first = rng.pick(BD_FIRST)
    const last = rng.pick(BD_LAST)
    switch ((rng.next() * 9) | 0) {
      case 0:
        return {
          text: `Just got my new ${product} from ${rng.pick(SHOPS)}! Only ৳${price} 😍 #${tag}`,
          tags: [tag],
          language: 'en',
        }
      case 1:
        return {
          text: `${product} er dam koto ekhon? ${city} e kothay pabo? #${tag}`,
          tags: [tag],
          language: 'mixed',
        }
      case 2:
        return {
          text: `Selling ${product}, barely used. Price ${price} tk. Call ${bdPhone(rng)} (${first} ${last})`,
          tags: [],
          language: 'en',
        }
      case 3:
        return {
          text: `Best deal on ${product} in ${city}! Inbox or mail ${email(rng, first, last)} #deals`,
          tags: ['deals'],
          language: 'en',
        }
      case 4:
        return { text: `নতুন ${product} কিনলাম, দাম ${price} টাকা! #${tag}`, tags: [tag], language: 'bn' }
      case 5:
        return {
          text: `Order korte WhatsApp ${bdPhone(rng)} ba email ${email(rng, first, last)} e jogajog korun. ${product} stock e ache!`,
          tags: [],
          language: 'mixed',
        }
      case 7:
        return {
          text: `${first} here: paid for the ${product} with card ${cardNumber(rng)} but no delivery to ${city} yet! ${email(rng, first, last)}`,
          tags: [],
          language: 'en',
        }
      case 8:
        return {
          text: `${product} kinbo, ${city} delivery. Amar NID ${nid(rng)}, phone 01${rng.int(3, 9)}${digits(rng, 8)}. Call korben ${first} ${last} ke`,
          tags: [],
          language: 'mixed',
        }
      default:
        return {
          text: `Review: ${product} is worth it 👍 #review #${tag}`,
          tags: tag === 'review' ? ['review'] : ['review', tag],
          language: 'en',
        }
    }
  }

  let lastWall = Number.NaN
  let lastIso = ''
  function isoOf(wall: number): string {
    if (wall !== lastWall) {
      lastWall = wall
      lastIso = new Date(wall).toISOString()
    }
    return lastIso
  }

  function post(topic: SocialTopic, wall: number): SocialPost {
    const tiktok = topic === 'source.social.tiktok'
    const [product, , base] = rng.pick(PRODUCTS)
    const city = rng.pick(CITIES)
    const { text, tags, language } = content(product, Math.round(base * rng.float(0.85, 1.15)), city)
    const first = rng.pick(BD_FIRST)
    const last = rng.pick(BD_LAST)
    const handle = `${first}${last}${rng.int(1, 99)}`.toLowerCase()
    const postId = tiktok ? numeric(rng, 19) : `${numeric(rng, 15)}_${numeric(rng, 16)}`
    const likes = Math.round(Math.exp(rng.normal(5, 1.5)))
    const comments = Math.round(likes * rng.float(0, 0.1))
    const shares = Math.round(likes * rng.float(0, 0.05))
    return {
      post_id: postId,
      platform: tiktok ? 'tiktok' : 'facebook',
      content: text,
      author: `${first} ${last}`,
      author_id: `${tiktok ? 'tt' : 'fb'}_${numeric(rng, 12)}`,
      engagement_count: likes + comments + shares,
      likes,
      comments,
      shares,
      hashtags: tags,
      url: tiktok
        ? `https://www.tiktok.com/@${handle}/video/${postId}`
        : `https://www.facebook.com/${postId}`,
      location: city,
      language,
      posted_at: new Date(wall - rng.int(0, 3 * DAY_MS)).toISOString(),
      scraped_at: isoOf(wall),
    }
  }

  function order(topic: MarketTopic, wall: number): MarketOrder {
    const shopify = topic === 'source.market.shopify'
    const [product, category, base] = rng.pick(PRODUCTS)
    const usd = shopify && rng.chance(0.15)
    const unit = usd ? round2((base / 120) * rng.float(0.9, 1.1)) : Math.round(base * rng.float(0.85, 1.15))
    const quantity = rng.chance(0.85) ? rng.int(1, 3) : rng.int(4, 20)
    const first = rng.pick(BD_FIRST)
    const last = rng.pick(BD_LAST)
    const city = rng.pick(CITIES)
    return {
      order_id: shopify ? `SH-${numeric(rng, 7)}` : numeric(rng, 15),
      platform: shopify ? 'shopify' : 'daraz',
      product_id: `SKU-${numeric(rng, 8)}`,
      product_name: product,
      category,
      quantity,
      unit_price: unit,
      total_price: round2(quantity * unit),
      currency: usd ? 'USD' : 'BDT',
      customer_name: `${first} ${last}`,
      customer_phone: bdPhone(rng),
      customer_email: rng.chance(0.7) ? email(rng, first, last) : undefined,
      shipping_address: `House ${rng.int(1, 120)}, Road ${rng.int(1, 30)}, ${rng.pick(AREAS)}, ${city}`,
      shipping_city: city,
      payment_method: PAYMENTS[rng.weighted(PAYMENT_WEIGHTS)]!,
      status: STATUSES[rng.weighted(STATUS_WEIGHTS)]!,
      order_date: new Date(wall - rng.int(0, 2 * DAY_MS)).toISOString(),
    }
  }

  /** Spoils `v` in place; returns the field spoiled. */
  function spoil(v: Record<string, unknown>, social: boolean, kind: MillionxDefect): string {
    switch (kind) {
      case 'missing_field': {
        const field = rng.pick<string>(social ? SOCIAL_REQUIRED : MARKET_REQUIRED)
        delete v[field]
        return field
      }
      case 'wrong_type': {
        const field = rng.pick(
          social ? ['engagement_count', 'posted_at', 'hashtags'] : ['quantity', 'unit_price', 'order_date'],
        )
        const old = v[field]
        v[field] =
          typeof old === 'number'
            ? String(old)
            : field === 'hashtags'
              ? 'dhaka,deals'
              : Date.parse(String(old))
        return field
      }
      case 'out_of_range':
        if (social) {
          if (rng.chance(0.5)) {
            v.engagement_count = -rng.int(1, 1000)
            return 'engagement_count'
          }
          v.content = ''
          return 'content'
        }
        if (rng.chance(0.5)) {
          v.quantity = rng.pick([0, -1, -3, 50_000])
          return 'quantity'
        }
        v.unit_price = rng.pick([0, -10, -2500])
        return 'unit_price'
      case 'bad_enum': {
        const [field, bad] = social
          ? rng.pick([
              ['platform', rng.pick(['myspace', 'twitter', 'TikTok'])],
              ['language', 'fr'],
            ] as const)
          : rng.pick([
              ['payment_method', 'cheque'],
              ['status', 'lost'],
              ['currency', 'EUR'],
              ['platform', 'amazon'],
            ] as const)
        v[field] = bad
        return field
      }
      case 'total_mismatch': {
        const delta = rng.int(1, 500) * (rng.chance(0.5) ? 1 : -1)
        v.total_price = Math.max(0, round2((v.total_price as number) + delta))
        if (v.total_price === 0) v.total_price = round2((v.quantity as number) * (v.unit_price as number) + 1)
        return 'total_price'
      }
    }
  }

  function next(): MillionxRecord {
    const wall = now()
    const bad = share > 0 && rng.next() < share
    const kind = bad ? defects[(rng.next() * defects.length) | 0]! : undefined
    // A total mismatch only exists on orders.
    const topic =
      kind === 'total_mismatch'
        ? rng.chance(0.5)
          ? 'source.market.shopify'
          : 'source.market.daraz'
        : TOPICS[rng.weighted(TOPIC_WEIGHTS)]!
    const social = topic === 'source.social.tiktok' || topic === 'source.social.facebook'
    const value = social ? post(topic, wall) : order(topic as MarketTopic, wall)
    if (!social && (value as MarketOrder).customer_email === undefined)
      delete (value as { customer_email?: string }).customer_email
    const key = social ? (value as SocialPost).post_id : (value as MarketOrder).order_id
    if (kind === undefined) return { topic, key, value, timestamp: wall } as MillionxRecord
    const field = spoil(value as Record<string, unknown>, social, kind)
    return { topic, key, value, timestamp: wall, defect: { kind, field } } as MillionxRecord
  }

  return { next, take: (n) => takeFrom(next, n) }
}

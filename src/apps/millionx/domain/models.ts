/**
 * MillionX scraper models (seed 004) as zod schemas: the same checks the Pydantic models made (field
 * types, min/max, enums, and `total_price = quantity × unit_price`). Unknown fields are dropped, as
 * Pydantic's default does.
 *
 * @example
 * const r = MarketOrder.safeParse(JSON.parse(text))
 * if (!r.success) console.log(r.error.issues)
 */
import { z } from 'zod'

export const SOCIAL_PLATFORMS = ['tiktok', 'facebook'] as const
export const MARKET_PLATFORMS = ['shopify', 'daraz'] as const
export const PRODUCT_CATEGORIES = [
  'smartphone',
  'laptop',
  'fashion',
  'electronics',
  'home',
  'beauty',
  'grocery',
  'general',
] as const
export const PAYMENT_METHODS = ['cod', 'bkash', 'nagad', 'rocket', 'card'] as const
export const ORDER_STATUSES = [
  'pending',
  'confirmed',
  'shipped',
  'delivered',
  'cancelled',
  'returned',
] as const
export const CURRENCIES = ['BDT', 'USD'] as const
export const LANGUAGES = ['bn', 'en', 'mixed'] as const

const id = z.string().min(1).max(128)
const datetime = z.iso.datetime({ offset: true })
const count = z.int().min(0).max(10_000_000_000)

export const SocialPost = z.object({
  post_id: id,
  platform: z.enum(SOCIAL_PLATFORMS),
  content: z.string().min(1).max(10_000),
  author: z.string().min(1).max(200),
  author_id: id.optional(),
  engagement_count: count,
  likes: count.optional(),
  comments: count.optional(),
  shares: count.optional(),
  hashtags: z.array(z.string().min(1).max(100)).max(50).optional(),
  url: z.url().max(2048).optional(),
  location: z.string().min(1).max(100).optional(),
  language: z.enum(LANGUAGES).optional(),
  posted_at: datetime,
  scraped_at: datetime.optional(),
})
export type SocialPost = z.output<typeof SocialPost>

/** Money compares to the paisa/cent. */
export const PRICE_TOLERANCE = 0.01

export const MarketOrder = z
  .object({
    order_id: id,
    platform: z.enum(MARKET_PLATFORMS),
    product_id: id,
    product_name: z.string().min(1).max(500),
    category: z.enum(PRODUCT_CATEGORIES).optional(),
    quantity: z.int().min(1).max(10_000),
    unit_price: z.number().positive().max(10_000_000),
    total_price: z.number().min(0).max(100_000_000_000),
    currency: z.enum(CURRENCIES),
    customer_name: z.string().min(1).max(200).optional(),
    customer_phone: z.string().min(5).max(32).optional(),
    customer_email: z.email().optional(),
    shipping_address: z.string().min(1).max(500).optional(),
    shipping_city: z.string().min(1).max(100).optional(),
    payment_method: z.enum(PAYMENT_METHODS),
    status: z.enum(ORDER_STATUSES),
    order_date: datetime,
  })
  .superRefine((o, ctx) => {
    const expected = o.quantity * o.unit_price
    // A few ulps on top of the tolerance: binary floating point must not turn 0.01 into 0.010000000000002.
    if (Math.abs(o.total_price - expected) > PRICE_TOLERANCE + 8 * Number.EPSILON * Math.max(1, expected)) {
      ctx.addIssue({
        code: 'custom',
        path: ['total_price'],
        message: `total_price ${o.total_price} ≠ quantity ${o.quantity} × unit_price ${o.unit_price} (= ${Math.round(expected * 100) / 100})`,
        params: { rule: 'total_price', type: 'crossField' },
      })
    }
  })
export type MarketOrder = z.output<typeof MarketOrder>

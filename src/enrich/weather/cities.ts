/**
 * The Bangladesh cities the enricher knows (the seed's five), with coordinates for OpenWeatherMap and the
 * spellings a record may use: English, older and newer names, Bangla.
 *
 * @example
 * findCity('Order to Agrabad, Chattogram') // 'Chittagong'
 */
export const CITIES = {
  Dhaka: { lat: 23.8103, lon: 90.4125, names: ['dhaka', 'dacca', 'ঢাকা'] },
  Chittagong: { lat: 22.3569, lon: 91.7832, names: ['chittagong', 'chattogram', 'ctg', 'চট্টগ্রাম'] },
  Sylhet: { lat: 24.8949, lon: 91.8687, names: ['sylhet', 'সিলেট'] },
  Rajshahi: { lat: 24.3745, lon: 88.6042, names: ['rajshahi', 'রাজশাহী'] },
  Khulna: { lat: 22.8456, lon: 89.5403, names: ['khulna', 'খুলনা'] },
} as const

export type City = keyof typeof CITIES

const BY_NAME = new Map<string, City>()
for (const [city, c] of Object.entries(CITIES)) for (const n of c.names) BY_NAME.set(n, city as City)
const WORDS = /[\p{L}\p{M}]+/gu

/** The first known city named in any of the texts (in order), or undefined. */
export function findCity(...texts: ReadonlyArray<string | undefined>): City | undefined {
  for (const t of texts) {
    if (t === undefined || t === '') continue
    for (const m of t.toLowerCase().matchAll(WORDS)) {
      const c = BY_NAME.get(m[0])
      if (c !== undefined) return c
    }
  }
  return undefined
}

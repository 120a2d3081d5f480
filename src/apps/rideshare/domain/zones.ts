/** São Paulo, the simulated city: bounds and the surge-pricing zones (districts) by their centres. */

export interface Zone {
  readonly zone_id: string
  readonly name: string
  readonly lat: number
  readonly lon: number
}

export const SAO_PAULO = {
  name: 'São Paulo',
  currency: 'BRL',
  center: { lat: -23.5505, lon: -46.6333 },
  bounds: { minLat: -23.7, maxLat: -23.45, minLon: -46.78, maxLon: -46.52 },
} as const

export const SAO_PAULO_ZONES: readonly Zone[] = [
  { zone_id: 'se', name: 'Sé', lat: -23.5503, lon: -46.634 },
  { zone_id: 'republica', name: 'República', lat: -23.543, lon: -46.642 },
  { zone_id: 'bela-vista', name: 'Bela Vista', lat: -23.5614, lon: -46.648 },
  { zone_id: 'consolacao', name: 'Consolação', lat: -23.553, lon: -46.66 },
  { zone_id: 'jardim-paulista', name: 'Jardim Paulista', lat: -23.57, lon: -46.66 },
  { zone_id: 'pinheiros', name: 'Pinheiros', lat: -23.567, lon: -46.693 },
  { zone_id: 'vila-madalena', name: 'Vila Madalena', lat: -23.556, lon: -46.69 },
  { zone_id: 'itaim-bibi', name: 'Itaim Bibi', lat: -23.584, lon: -46.678 },
  { zone_id: 'moema', name: 'Moema', lat: -23.601, lon: -46.662 },
  { zone_id: 'vila-mariana', name: 'Vila Mariana', lat: -23.589, lon: -46.634 },
  { zone_id: 'liberdade', name: 'Liberdade', lat: -23.559, lon: -46.635 },
  { zone_id: 'brooklin', name: 'Brooklin', lat: -23.62, lon: -46.69 },
  { zone_id: 'lapa', name: 'Lapa', lat: -23.523, lon: -46.705 },
  { zone_id: 'santana', name: 'Santana', lat: -23.502, lon: -46.625 },
  { zone_id: 'tatuape', name: 'Tatuapé', lat: -23.54, lon: -46.576 },
  { zone_id: 'mooca', name: 'Mooca', lat: -23.558, lon: -46.599 },
  { zone_id: 'butanta', name: 'Butantã', lat: -23.571, lon: -46.723 },
  { zone_id: 'santo-amaro', name: 'Santo Amaro', lat: -23.653, lon: -46.71 },
]

/** The zone whose centre is nearest (equirectangular distance; fine at city scale). */
export function zoneOf(lat: number, lon: number): Zone {
  const k = Math.cos((lat * Math.PI) / 180)
  let best = SAO_PAULO_ZONES[0]!
  let bestD = Number.POSITIVE_INFINITY
  for (const z of SAO_PAULO_ZONES) {
    const dy = z.lat - lat
    const dx = (z.lon - lon) * k
    const d = dx * dx + dy * dy
    if (d < bestD) {
      bestD = d
      best = z
    }
  }
  return best
}

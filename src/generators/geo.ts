/** Small flat-earth helpers for moving things around a city (errors are negligible over a few km). */

const M_PER_DEG = 111_320
const RAD = Math.PI / 180

export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dy = (lat2 - lat1) * M_PER_DEG
  const dx = (lon2 - lon1) * M_PER_DEG * Math.cos(lat1 * RAD)
  return Math.sqrt(dx * dx + dy * dy)
}

/** Degrees clockwise from north, [0, 360). */
export function bearing(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dy = lat2 - lat1
  const dx = (lon2 - lon1) * Math.cos(lat1 * RAD)
  return normalizeHeading(Math.atan2(dx, dy) / RAD)
}

export function normalizeHeading(deg: number): number {
  const h = deg % 360
  return h < 0 ? h + 360 : h
}

/** The point `meters` away from (lat, lon) along `heading`. */
export function move(
  lat: number,
  lon: number,
  heading: number,
  meters: number,
): { lat: number; lon: number } {
  const h = heading * RAD
  return {
    lat: lat + (meters * Math.cos(h)) / M_PER_DEG,
    lon: lon + (meters * Math.sin(h)) / (M_PER_DEG * Math.cos(lat * RAD)),
  }
}

export const round6 = (x: number) => Math.round(x * 1e6) / 1e6

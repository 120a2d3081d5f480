/**
 * State keys are strings. A string group key is used as is; anything else (numbers, objects, null) is
 * JSON behind a marker, so `'1'` and `1` stay different. No encoded key starts with U+0000, which the
 * store keeps for its own records (the partition's metadata).
 */
export function encodeKey(key: unknown): string {
  if (typeof key === 'string' && (key.length === 0 || key.charCodeAt(0) > 2)) return key
  return `\u0002${JSON.stringify(key) ?? 'undefined'}`
}

/** Joins a group key and a window start into one state key (the start is always last, after U+0001). */
export function windowStateKey(keyStr: string, start: number): string {
  return `${keyStr}\u0001${start}`
}

/** The store's reserved key for its partition metadata (offsets applied, operator progress). */
export const META_KEY = '\u0000meta'

/** Keys of changelog segments (`PartitionStore`'s segmented layout): the prefix, then the segment's number. */
export const SEGMENT_KEY_PREFIX = '\u0000seg:'

/** The key `encodeKey` encoded (for keys JSON can carry: strings, numbers, booleans, null, plain objects). */
export function decodeKey(encoded: string): unknown {
  return encoded.charCodeAt(0) === 2 ? JSON.parse(encoded.slice(1)) : encoded
}

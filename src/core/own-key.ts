/**
 * Sets `target[key] = value` as an own key, whatever the key. Keys from outside (JSON fields, Kafka
 * header names) may be `__proto__`: `JSON.parse` makes that an own key, but assigning it would replace the
 * target's prototype instead, and the field would vanish from what is written or sent on.
 */
export function setOwnKey<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

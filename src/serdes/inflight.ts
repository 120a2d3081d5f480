/**
 * Shares one in-flight promise per key, so a burst of records needing the same schema makes one
 * registry call; the entry is dropped once settled, so a failure can be tried again later.
 */
export function shareInflight<K, V>(inflight: Map<K, Promise<V>>, key: K, run: () => Promise<V>): Promise<V> {
  const pending = inflight.get(key)
  if (pending) return pending
  const p = run()
  inflight.set(key, p)
  const forget = () => void inflight.delete(key)
  p.then(forget, forget)
  return p
}

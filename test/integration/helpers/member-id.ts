/**
 * Static group membership for the apps a test spawns, the way a StatefulSet names its pods: children of
 * the same app with the same env take the lowest free ordinal. A child restarted after kill -9 gets its
 * predecessor's `group.instance.id` back, and with it its partitions at once, instead of waiting ~10 s
 * for the dead member's session to expire; children running side by side get distinct ids (a shared id
 * would fence one of them). A test that sets KAFKA_GROUP_INSTANCE_ID itself (or "off") keeps its value.
 */
import { createHash } from 'node:crypto'

const ordinalsInUse = new Map<string, Set<number>>()

export interface MemberId {
  readonly env: Readonly<Record<string, string>>
  /** Frees the ordinal; call it when the child has exited. */
  release(): void
}

export function withMemberId(app: string, env: Readonly<Record<string, string>>): MemberId {
  if (env.KAFKA_GROUP_INSTANCE_ID !== undefined || env.GROUP_INSTANCE_ID !== undefined) {
    return { env, release: () => {} }
  }
  const sorted = Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k]}`)
  const key = createHash('sha1').update(`${app}\n${sorted.join('\n')}`).digest('hex').slice(0, 12)
  const inUse = ordinalsInUse.get(key) ?? new Set<number>()
  ordinalsInUse.set(key, inUse)
  let ordinal = 0
  while (inUse.has(ordinal)) ordinal++
  inUse.add(ordinal)
  return {
    env: { ...env, KAFKA_GROUP_INSTANCE_ID: `test-${key}-${ordinal}` },
    release: () => inUse.delete(ordinal),
  }
}

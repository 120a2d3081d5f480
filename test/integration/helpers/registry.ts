/**
 * The shared schema registry the services script starts (Apicurio, Confluent-compatible API). Tests that
 * need it skip with a clear reason when it is not there, and fail instead under WEIR_REQUIRE_REGISTRY
 * (CI sets it), so a missing registry never passes silently.
 */
const BASE = process.env.WEIR_REGISTRY_URL ?? `http://127.0.0.1:${process.env.REGISTRY_PORT ?? '8081'}`

/** Where it listens, for a proxy in front of it. */
export const REGISTRY_ADDRESS = { host: new URL(BASE).hostname, port: Number(new URL(BASE).port || 80) }

/** The Confluent-compatible API of the shared registry. */
export const REGISTRY_API = `${BASE}/apis/ccompat/v7`

export async function registryReachable(api = REGISTRY_API): Promise<boolean> {
  try {
    return (await fetch(`${api}/subjects`, { signal: AbortSignal.timeout(3000) })).ok
  } catch {
    return false
  }
}

/** For `describe(…, { skip })`: false when the registry answers, else why the tests are skipped. */
export async function registrySkip(): Promise<false | string> {
  if (await registryReachable()) return false
  if (process.env.WEIR_REQUIRE_REGISTRY) {
    throw new Error(
      `WEIR_REQUIRE_REGISTRY is set but no schema registry answers at ${REGISTRY_API}: run scripts/registry.sh up`,
    )
  }
  return `no schema registry at ${REGISTRY_API}: run scripts/registry.sh up (WEIR_REQUIRE_REGISTRY=1 makes this a failure)`
}

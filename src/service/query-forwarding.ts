/**
 * Interactive queries across instances. Each instance advertises the `host:port` of its ops server in
 * the consumer group's member metadata (APPLICATION_SERVER, see KafkaSource); the coordinator's view
 * of the group (DescribeGroups: every member's address and assigned partitions, `Admin.groupMembers`)
 * says who else may hold a key. A point query this instance cannot answer from its own state is asked
 * of the members that can, with a header that makes them answer from their own state only (no loops):
 *
 *   - the key's partition is known (a table): the member that owns that partition;
 *   - not known (an aggregate keyed by something else than the input's key): every other member.
 *
 * A member's 200 is returned as it is (with `x-weir-served-by`); a member restoring the partition
 * answers 503 + Retry-After, and so does this one when the group is rebalancing, a member that may
 * own the key advertised no address, or it could not be reached. All members saying 404 is a 404,
 * after one more look with a fresh view of the group (the owner may have just moved).
 * Range queries (`?prefix=`) stay local: each instance pages through what it holds.
 */
import type { Admin, GroupMembers } from '../connectors/contract.ts'
import type { Logger } from '../log/logger.ts'
import type { OpsResponse } from '../ops/router.ts'
import { FORWARDED_HEADER, type ForwardQuery } from '../ops/state.ts'

/** On a forwarded answer: the instance whose state it came from. */
export const SERVED_BY_HEADER = 'x-weir-served-by'

export interface QueryForwardingOptions {
  /** This instance's advertised `host:port` (its own entry in the group is skipped). */
  readonly self: string
  readonly groupId: string
  /** An admin whose `groupMembers` describes the group (the transport's). */
  readonly admin: Pick<Admin, 'groupMembers'>
  /** How long one view of the group is reused. Default 1000 ms (a 404 is double-checked with a fresh one). */
  readonly cacheMs?: number
  /** Per forwarded request. Default 2000 ms. */
  readonly timeoutMs?: number
  readonly logger?: Logger
}

export function queryForwarding(options: QueryForwardingOptions): ForwardQuery {
  const cacheMs = options.cacheMs ?? 1000
  const timeoutMs = options.timeoutMs ?? 2000
  let cached: { at: number; view: Promise<GroupMembers> } | undefined
  /** The group as last described; `maxAgeMs` bounds how old a reused view may be. */
  const group = (maxAgeMs: number): { at: number; view: Promise<GroupMembers> } => {
    const describe = options.admin.groupMembers
    if (describe === undefined)
      return { at: Date.now(), view: Promise.resolve({ state: 'Stable', members: [] }) }
    if (cached === undefined || Date.now() - cached.at > maxAgeMs) {
      const view = describe.call(options.admin, options.groupId)
      const entry = { at: Date.now(), view }
      cached = entry
      view.catch(() => {
        if (cached === entry) cached = undefined
      })
    }
    return cached
  }

  /** Asks the members that may own the key; undefined when every one of them said 404. */
  const ask = async (
    view: GroupMembers,
    req: Parameters<ForwardQuery>[0],
    store: string,
    key: string,
    partition: number | undefined,
  ): Promise<OpsResponse | undefined> => {
    if (view.state !== 'Stable')
      return unavailable(`the group is rebalancing (${view.state}); the owner of "${key}" is not known yet`)
    const others = view.members.filter((m) => m.address !== options.self && m.partitions.length > 0)
    const owners =
      partition === undefined
        ? others
        : others.filter((m) => m.partitions.some((p) => p.partition === partition))
    const targets = owners.length > 0 ? owners : others
    const path = `/state/${encodeURIComponent(store)}/${encodeURIComponent(key)}`
    const answers = await Promise.all(
      targets.map(async (m): Promise<{ status: number; res?: OpsResponse }> => {
        if (m.address === undefined) return { status: 503 }
        try {
          const res = await fetch(`http://${m.address}${path}`, {
            headers: {
              [FORWARDED_HEADER]: options.self,
              ...(req.headers.authorization === undefined
                ? {}
                : { authorization: req.headers.authorization }),
            },
            signal: AbortSignal.timeout(timeoutMs),
          })
          const body = await res.text()
          const headers: Record<string, string> = {
            'content-type': res.headers.get('content-type') ?? 'application/json; charset=utf-8',
            'cache-control': 'no-store',
            [SERVED_BY_HEADER]: m.address,
          }
          const retry = res.headers.get('retry-after')
          if (retry !== null) headers['retry-after'] = retry
          return { status: res.status, res: { status: res.status, headers, body } }
        } catch (err) {
          options.logger?.debug('interactive query: forwarding failed', { to: m.address, error: err })
          return { status: 503 }
        }
      }),
    )
    const found = answers.find((a) => a.status === 200)
    if (found?.res !== undefined) return found.res
    const restoring = answers.find((a) => a.status === 503 && a.res !== undefined)
    if (restoring?.res !== undefined) return restoring.res
    if (answers.some((a) => a.status === 503))
      return unavailable(`the instance that may own "${key}" advertised no address or did not answer`)
    // Auth failures and the like are the caller's to see; otherwise every member said 404.
    return answers.find((a) => a.status !== 404)?.res
  }

  return async (req, store, key, partition) => {
    try {
      const first = group(cacheMs)
      const answer = await ask(await first.view, req, store, key, partition)
      if (answer !== undefined) return answer
      // Every member said 404. A view a moment old may predate a rebalance (the owner moved): look once
      // more with a fresh one (at most a few describes a second however many keys are missing).
      if (Date.now() - first.at > FRESH_MS) {
        const again = await ask(await group(FRESH_MS).view, req, store, key, partition)
        if (again !== undefined) return again
      }
    } catch (err) {
      options.logger?.warn('interactive query: cannot describe the group', { error: err })
      return unavailable(`cannot tell which instance owns "${key}": the group could not be described`)
    }
    return {
      status: 404,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: JSON.stringify({ error: `no value for "${key}" in ${store}` }),
    }
  }
}

/** A view younger than this is not described again to double-check a 404. */
const FRESH_MS = 250

function unavailable(error: string): OpsResponse {
  return {
    status: 503,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'retry-after': '1',
    },
    body: JSON.stringify({ error }),
  }
}

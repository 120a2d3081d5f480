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
 * own the key advertised no address, or it could not be reached. All members saying 404 is a 404.
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
  /** How long one view of the group is reused. Default 1000 ms; a query that finds nothing refreshes it. */
  readonly cacheMs?: number
  /** Per forwarded request. Default 2000 ms. */
  readonly timeoutMs?: number
  readonly logger?: Logger
}

export function queryForwarding(options: QueryForwardingOptions): ForwardQuery {
  const cacheMs = options.cacheMs ?? 1000
  const timeoutMs = options.timeoutMs ?? 2000
  let cached: { at: number; view: Promise<GroupMembers> } | undefined
  const group = (fresh: boolean): Promise<GroupMembers> => {
    const describe = options.admin.groupMembers
    if (describe === undefined) return Promise.resolve({ state: 'Stable', members: [] })
    if (fresh || cached === undefined || Date.now() - cached.at > cacheMs) {
      const view = describe.call(options.admin, options.groupId)
      cached = { at: Date.now(), view }
      view.catch(() => {
        if (cached?.view === view) cached = undefined
      })
    }
    return cached.view
  }

  return async (req, store, key, partition) => {
    let view: GroupMembers
    try {
      view = await group(false)
    } catch (err) {
      options.logger?.warn('interactive query: cannot describe the group', { error: err })
      return unavailable(`cannot tell which instance owns "${key}": the group could not be described`)
    }
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
      targets.map(async (m): Promise<{ address?: string; status: number; res?: OpsResponse }> => {
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
          return { address: m.address, status: res.status, res: { status: res.status, headers, body } }
        } catch (err) {
          options.logger?.debug('interactive query: forwarding failed', { to: m.address, error: err })
          return { address: m.address, status: 503 }
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
    const other = answers.find((a) => a.status !== 404 && a.res !== undefined)
    if (other?.res !== undefined) return other.res
    // Nobody has it: the next query looks at a fresh view of the group (a rebalance may have just ended).
    cached = undefined
    return {
      status: 404,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: JSON.stringify({ error: `no value for "${key}" in ${store}`, instances: targets.length + 1 }),
    }
  }
}

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

import type { Processor } from '../runtime/processor.ts'
import type { StateStores } from './changelog.ts'
import { META_KEY } from './keys.ts'

/** What a point query found. `elsewhere`: the key's partition is owned by another instance. */
export type QueryResult =
  | { readonly state: 'found'; readonly value: unknown }
  | { readonly state: 'missing' }
  | { readonly state: 'restoring'; readonly retryAfterSeconds: number }
  | { readonly state: 'elsewhere'; readonly partition: number }

export interface RangeQuery {
  readonly prefix?: string
  /** Keys after this one (the `next` of the previous page). */
  readonly after?: string
  readonly limit: number
  /** Windowed stores: window starts in [from, to). */
  readonly from?: number
  readonly to?: number
}

export interface QueryPage {
  readonly entries: ReadonlyArray<{
    readonly key: string
    readonly value: unknown
    readonly windowStart?: number
  }>
  /** Pass as `after` for the next page; undefined on the last page. */
  readonly next: string | undefined
  /** Some partition is being restored: the page may miss its keys. */
  readonly restoring: boolean
}

/**
 * A named store that can be read while the pipeline runs (interactive queries): tables, global tables
 * and the state of named aggregates. Reads see the state as processed so far on this instance.
 *
 * @example
 * const running = await run(p, options)
 * const r = running.store('driver-position')?.get('d-42')
 */
export interface QueryableStore {
  readonly name: string
  readonly kind: 'table' | 'global-table' | 'key-value' | 'window'
  get(key: string): QueryResult
  range(query: RangeQuery): QueryPage
}

/** The named stores the processors of a running graph expose. */
export function queryableStores(processors: readonly Processor[]): Map<string, QueryableStore> {
  const out = new Map<string, QueryableStore>()
  for (const p of processors) for (const s of p.stores?.() ?? []) if (!out.has(s.name)) out.set(s.name, s)
  return out
}

/**
 * A read-only view of an operator's keyed state (`StateStores`). Window state keys end in
 * `\u0001<window start>`; for those, `get` returns every window of the key and `range` filters by start.
 */
export function stateStoresView<V>(
  name: string,
  stores: StateStores<V>,
  windowed: boolean,
  present: (stored: V) => unknown,
): QueryableStore {
  const restoring = () => stores.restoringCount() > 0
  return {
    name,
    kind: windowed ? 'window' : 'key-value',
    get(key) {
      if (windowed) {
        const page = this.range({ prefix: `${key}\u0001`, limit: 10_000 })
        if (page.entries.length > 0) return { state: 'found', value: page.entries.map((e) => e.value) }
      } else {
        for (const part of stores.partitions()) {
          const v = part.get(key)
          if (v !== undefined) return { state: 'found', value: present(v) }
        }
      }
      return restoring() ? { state: 'restoring', retryAfterSeconds: 1 } : { state: 'missing' }
    },
    range(q) {
      // Filtered on the state keys first; only the page's values are presented.
      const rows: Array<{ sk: string; stored: V; windowStart?: number }> = []
      for (const part of stores.partitions()) {
        for (const [sk, stored] of part.entries()) {
          if (sk === META_KEY) continue
          if (q.prefix !== undefined && !sk.startsWith(q.prefix)) continue
          if (q.after !== undefined && sk <= q.after) continue
          if (!windowed) {
            rows.push({ sk, stored })
            continue
          }
          const cut = sk.lastIndexOf('\u0001')
          if (cut < 0) continue
          const start = Number(sk.slice(cut + 1))
          if ((q.from !== undefined && start < q.from) || (q.to !== undefined && start >= q.to)) continue
          rows.push({ sk, stored, windowStart: start })
        }
      }
      rows.sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
      const page = rows.slice(0, q.limit)
      return {
        entries: page.map((r) =>
          r.windowStart === undefined
            ? { key: r.sk, value: present(r.stored) }
            : {
                key: r.sk.slice(0, r.sk.lastIndexOf('\u0001')),
                windowStart: r.windowStart,
                value: present(r.stored),
              },
        ),
        next: rows.length > q.limit ? page.at(-1)?.sk : undefined,
        restoring: restoring(),
      }
    },
  }
}

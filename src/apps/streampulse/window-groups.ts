/**
 * One pass over StreamPulse's events: a window slot holds the totals of every content, region and
 * device group its events touched, so each event is keyed, timed and stored once (by one window
 * operator) instead of three times, and adds to three arrays of numbers with no object allocated.
 *
 * A window is split into CONTENT_BUCKETS slots by a hash of the content id, so no slot grows past what
 * one changelog record may hold (~16,000 contents per slot stay under the broker's 1 MiB). Each slot's
 * region and device totals are a partial of their own, merged with the others in PostgreSQL as the
 * partitions' are (see ./sql.ts).
 *
 * Late events re-emit only what they changed: each group remembers the slot's change count when it last
 * changed, and `PartRowsOf` emits the groups changed since it last emitted that same slot object. A
 * slot restored from the changelog is a new object, so it is emitted whole (as the engine re-fires it).
 */
import type { Aggregation } from '../../dsl/aggregations.ts'
import type { WindowResult } from '../../dsl/windowed.ts'
import type { DownloadEvent, Grouping, PartRow } from './domain.ts'

/** Slots per window and partition. */
export const CONTENT_BUCKETS = 8
/** The window key of each bucket, as constant strings (no per-event allocation). */
const BUCKET_KEYS = Array.from({ length: CONTENT_BUCKETS }, (_, i) => String(i))

/** The bucket of a content id: FNV-1a over its UTF-16 code units, stable across processes. */
export function contentBucket(contentId: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < contentId.length; i++) h = Math.imul(h ^ contentId.charCodeAt(i), 0x01000193)
  return BUCKET_KEYS[(h >>> 0) % CONTENT_BUCKETS]!
}

/**
 * A group's totals: downloads, successful, failed, bytes, speed (thousandths of a Mbps, so partial
 * sums add up exactly), duration (ms), and the slot's change count at its last change.
 */
type Totals = number[]
const VERSION = 6

/** The changelog form: [key, sub key, downloads, successful, failed, bytes, speed, duration] per group. */
interface WindowGroupsJson {
  readonly c: ReadonlyArray<[string, string, ...number[]]>
  readonly r: ReadonlyArray<[string, string, ...number[]]>
  readonly d: ReadonlyArray<[string, string, ...number[]]>
}

export class WindowGroups {
  /** Events applied to this object. */
  version = 0
  readonly content = new Map<string, Totals>()
  readonly region = new Map<string, Totals>()
  /** device type → OS version → totals (no joined key to build per event) */
  readonly device = new Map<string, Map<string, Totals>>()

  add(e: DownloadEvent): this {
    const v = ++this.version
    const ok = e.status === 'success' ? 1 : 0
    const speed = Math.round(e.download_speed_mbps * 1000)
    const duration = Math.round(e.duration_seconds * 1000)
    let os = this.device.get(e.device_type)
    if (os === undefined) {
      os = new Map()
      this.device.set(e.device_type, os)
    }
    addTo(totalsIn(this.content, e.content_id), ok, e.bytes, speed, duration, v)
    addTo(totalsIn(this.region, e.region), ok, e.bytes, speed, duration, v)
    addTo(totalsIn(os, e.os_version), ok, e.bytes, speed, duration, v)
    return this
  }

  /** Calls `fn` for each group changed after change count `since` (−1: every group). */
  changedSince(since: number, fn: (kind: Grouping, key: string, sub: string, t: Totals) => void): void {
    for (const [k, t] of this.content) if (t[VERSION]! > since) fn('content', k, '', t)
    for (const [k, t] of this.region) if (t[VERSION]! > since) fn('region', k, '', t)
    for (const [k, os] of this.device) for (const [s, t] of os) if (t[VERSION]! > since) fn('device', k, s, t)
  }

  /** The durable state store writes slots as JSON. */
  toJSON(): WindowGroupsJson {
    const row = (k: string, s: string, t: Totals): [string, string, ...number[]] => [
      k,
      s,
      ...t.slice(0, VERSION),
    ]
    const d: Array<[string, string, ...number[]]> = []
    for (const [k, os] of this.device) for (const [s, t] of os) d.push(row(k, s, t))
    return {
      c: [...this.content].map(([k, t]) => row(k, '', t)),
      r: [...this.region].map(([k, t]) => row(k, '', t)),
      d,
    }
  }

  /** A slot as the state holds it: live, or as read back from the changelog. */
  static of(slot: WindowGroups | WindowGroupsJson): WindowGroups {
    if (slot instanceof WindowGroups) return slot
    const g = new WindowGroups()
    const totals = (row: readonly [string, string, ...number[]]): Totals => [...row.slice(2), 0] as Totals
    for (const row of slot.c) g.content.set(row[0], totals(row))
    for (const row of slot.r) g.region.set(row[0], totals(row))
    for (const row of slot.d) {
      let os = g.device.get(row[0])
      if (os === undefined) {
        os = new Map()
        g.device.set(row[0], os)
      }
      os.set(row[1], totals(row))
    }
    return g
  }
}

function totalsIn(groups: Map<string, Totals>, key: string): Totals {
  let t = groups.get(key)
  if (t === undefined) {
    t = [0, 0, 0, 0, 0, 0, 0]
    groups.set(key, t)
  }
  return t
}

function addTo(t: Totals, ok: number, bytes: number, speed: number, duration: number, version: number): void {
  t[0]!++
  t[1]! += ok
  t[2]! += 1 - ok
  t[3]! += bytes
  t[4]! += speed
  t[5]! += duration
  t[VERSION] = version
}

/** The window aggregation: every group of a slot, updated in place. */
export const windowGroups: Aggregation<DownloadEvent, WindowGroups | WindowGroupsJson, WindowGroups> = {
  init: () => new WindowGroups(),
  add: (slot, e) => WindowGroups.of(slot).add(e),
  result: (slot) => WindowGroups.of(slot),
}

/**
 * Turns each window result into partial rows: the whole slot the first time this object is emitted
 * (the window's end, or a re-fire after a restore), then the groups changed since (a late event's).
 * What was emitted from a live object is on its way to the sink, whose flush precedes every offset
 * commit; a restore makes new objects, so nothing is skipped that did not reach the sink.
 */
export class PartRowsOf {
  readonly #emitted = new WeakMap<WindowGroups, number>()

  rows(w: WindowResult<unknown, WindowGroups>, partition: number): PartRow[] {
    const g = w.value
    const since = this.#emitted.get(g) ?? -1
    this.#emitted.set(g, g.version)
    const window_start = new Date(w.start)
    const window_end = new Date(w.end)
    // A bucket's share is a partial of its own: (partition, bucket) names the slot that computed it.
    const source_partition = partition * CONTENT_BUCKETS + Number(w.key)
    const out: PartRow[] = []
    g.changedSince(since, (kind, group_key, sub_key, t) => {
      out.push({
        kind,
        window_start,
        window_end,
        group_key,
        sub_key,
        source_partition,
        downloads: t[0]!,
        successful: t[1]!,
        failed: t[2]!,
        bytes: t[3]!,
        speed_milli: t[4]!,
        duration_ms: t[5]!,
      })
    })
    return out
  }
}

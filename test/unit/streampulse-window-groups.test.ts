import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { DownloadEvent, PartRow } from '../../src/apps/streampulse/domain.ts'
import {
  CONTENT_BUCKETS,
  contentBucket,
  PartRowsOf,
  WindowGroups,
  windowGroups,
} from '../../src/apps/streampulse/window-groups.ts'
import { streamPulseGenerator } from '../../src/generators/streampulse.ts'

const T0 = Date.UTC(2026, 0, 28, 19, 15)
const events = (n: number) =>
  streamPulseGenerator({ seed: 7, now: () => T0, contents: 50 })
    .take(n)
    .map((r) => r.value as DownloadEvent)

/** The partial rows the same events give, summed with plain loops per (kind, group, sub-group). */
function expectedTotals(es: readonly DownloadEvent[]): Map<string, number[]> {
  const out = new Map<string, number[]>()
  const add = (k: string, e: DownloadEvent) => {
    const t = out.get(k) ?? [0, 0, 0, 0, 0, 0]
    t[0]! += 1
    t[1]! += e.status === 'success' ? 1 : 0
    t[2]! += e.status === 'success' ? 0 : 1
    t[3]! += e.bytes
    t[4]! += Math.round(e.download_speed_mbps * 1000)
    t[5]! += Math.round(e.duration_seconds * 1000)
    out.set(k, t)
  }
  for (const e of es) {
    add(`content|${e.content_id}|`, e)
    add(`region|${e.region}|`, e)
    add(`device|${e.device_type}|${e.os_version}`, e)
  }
  return out
}

const totalsOf = (rows: readonly PartRow[]) =>
  new Map(
    rows.map((r) => [
      `${r.kind}|${r.group_key}|${r.sub_key}`,
      [r.downloads, r.successful, r.failed, r.bytes, r.speed_milli, r.duration_ms],
    ]),
  )

const result = (g: WindowGroups) => ({ key: '3', start: T0, end: T0 + 60_000, value: g })

describe('streampulse window groups (one window pass for content, region and device)', () => {
  it('a slot holds the same totals per content, region and device as summing the events one by one', () => {
    const es = events(500)
    let slot = windowGroups.init()
    for (const e of es) slot = windowGroups.add(slot, e, e.timestamp)
    const rows = new PartRowsOf().rows(result(windowGroups.result(slot)), 2)
    assert.deepEqual(totalsOf(rows), expectedTotals(es))
    assert.ok(rows.every((r) => r.source_partition === 2 * CONTENT_BUCKETS + 3))
  })

  it('after the first emission, a late event re-emits only the three rows it changed', () => {
    const es = events(200)
    const g = new WindowGroups()
    for (const e of es.slice(0, 199)) g.add(e)
    const parts = new PartRowsOf()
    assert.ok(parts.rows(result(g), 0).length > 3)
    g.add(es[199]!)
    const late = parts.rows(result(g), 0)
    assert.deepEqual(late.map((r) => r.kind).sort(), ['content', 'device', 'region'])
    const all = totalsOf(new PartRowsOf().rows(result(g), 0))
    for (const [k, t] of totalsOf(late)) assert.deepEqual(t, all.get(k), k)
    assert.equal(parts.rows(result(g), 0).length, 0, 'nothing changed since')
  })

  it('a slot read back from its changelog JSON has the same totals and is emitted whole', () => {
    const es = events(300)
    const g = new WindowGroups()
    for (const e of es) g.add(e)
    const parts = new PartRowsOf()
    parts.rows(result(g), 0)
    const restored = windowGroups.result(JSON.parse(JSON.stringify(g)))
    assert.notEqual(restored, g)
    assert.deepEqual(totalsOf(parts.rows(result(restored), 0)), expectedTotals(es))
  })

  it('the bucket of a content id is stable and spreads ids over every bucket', () => {
    assert.equal(contentBucket('mov-00042'), contentBucket('mov-00042'))
    const seen = new Set(Array.from({ length: 200 }, (_, i) => contentBucket(`c${i}`)))
    assert.equal(seen.size, CONTENT_BUCKETS)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { META_KEY, SEGMENT_KEY_PREFIX } from '../../src/state/keys.ts'
import { type ChangelogWrite, PartitionStore } from '../../src/state/store.ts'

/** A changelog partition: every write in order, and what compaction leaves (last write per key, tombstones gone). */
class Log {
  readonly writes: ChangelogWrite[] = []
  append(ws: readonly ChangelogWrite[]): void {
    this.writes.push(...ws)
  }
  compacted(): ChangelogWrite[] {
    const last = new Map<string, number>()
    this.writes.forEach((w, i) => last.set(w.key, i))
    return this.writes.filter((w, i) => last.get(w.key) === i && w.value !== null)
  }
}

function restored(writes: readonly ChangelogWrite[], segmentSize = 4): PartitionStore<number> {
  const s = new PartitionStore<number>(0, true, { segmentSize })
  for (const w of writes) s.restoreRecord(w.key, w.value)
  return s
}

const origin = (offset: number) => ({ topic: 'in', partition: 0, offset })
const keysOf = (s: PartitionStore<number>) => [...s.entries()].map(([k]) => k).sort()

describe('state store, segmented changelog', () => {
  it('writes changed keys together, segmentSize per record, and restores them with their origins', () => {
    const log = new Log()
    const s = new PartitionStore<number>(0, true, { segmentSize: 4 })
    for (let i = 0; i < 10; i++) s.put(`k${i}`, i * 10, origin(i))
    s.markApplied(origin(9))
    log.append(s.drain())
    const segments = log.writes.filter((w) => w.key.startsWith(SEGMENT_KEY_PREFIX))
    assert.deepEqual(
      segments.map((w) => (JSON.parse(w.value as string) as { s: unknown[] }).s.length),
      [4, 4, 2],
    )
    assert.equal(log.writes.at(-1)?.key, META_KEY, 'the metadata comes last')
    const r = restored(log.writes)
    assert.deepEqual(keysOf(r), keysOf(s))
    assert.equal(r.get('k7'), 70)
    assert.ok(r.changedBy('k7', origin(7)) && !r.changedBy('k7', origin(8)))
    assert.ok(r.replayed(origin(9)))
  })

  it("keeps a segment record well under the broker's 1 MB default, however long the keys", () => {
    const s = new PartitionStore<number>(0, true, { segmentSize: 1000 })
    for (let i = 0; i < 1000; i++) s.put(`${'x'.repeat(2000)}${i}`, i)
    const segments = s.drain().filter((w) => w.key.startsWith(SEGMENT_KEY_PREFIX))
    assert.ok(segments.length > 4)
    for (const w of segments) assert.ok(Buffer.byteLength(w.value as string) < 512 * 1024)
    assert.equal(restored(segments).size, 1000)
  })

  it('a segment every key left gets a tombstone; a mostly-left one hands its keys on', () => {
    const log = new Log()
    const s = new PartitionStore<number>(0, true, { segmentSize: 4 })
    for (let i = 0; i < 8; i++) s.put(`k${i}`, i)
    log.append(s.drain()) // segments 0 (k0–k3) and 1 (k4–k7)
    for (let i = 0; i < 4; i++) s.delete(`k${i}`)
    s.delete('k4')
    s.delete('k5') // segment 1 half left: not yet moved
    s.delete('k6') // more than half: k7 moves on
    const w = s.drain()
    log.append(w)
    assert.deepEqual(
      w.filter((x) => x.value === null).map((x) => x.key),
      [`${SEGMENT_KEY_PREFIX}0`, `${SEGMENT_KEY_PREFIX}1`],
    )
    assert.deepEqual(keysOf(restored(log.writes)), ['k7'])
    assert.deepEqual(keysOf(restored(log.compacted())), ['k7'])
  })

  it('matches the live store after any history, compacted or not, with at most as many extra keys as live ones', () => {
    let seed = 11
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    for (let round = 0; round < 20; round++) {
      const log = new Log()
      let s = new PartitionStore<number>(0, true, { segmentSize: 8 })
      for (let step = 0; step < 3000; step++) {
        const k = `k${random(200)}`
        if (random(3) === 0) s.delete(k)
        else s.put(k, step, origin(step))
        if (random(50) === 0) log.append(s.drain())
        if (random(700) === 0) {
          // A restart from the changelog (written so far) in the middle of the history.
          log.append(s.drain())
          s = restored(log.writes, 8)
        }
      }
      log.append(s.drain())
      for (const r of [restored(log.writes, 8), restored(log.compacted(), 8)]) {
        const live = keysOf(s)
        for (const k of live) assert.equal(r.get(k), s.get(k), `round ${round}: ${k}`)
        // Keys deleted from a segment still alive come back (as seen at their time); never more than live.
        const extra = keysOf(r).filter((k) => !s.has(k))
        assert.ok(
          extra.length <= Math.max(8, live.length),
          `round ${round}: ${extra.length} extra, ${live.length} live`,
        )
      }
      // The changelog stays in proportion to the live keys, however long the history.
      const entries = log
        .compacted()
        .filter((w) => w.key.startsWith(SEGMENT_KEY_PREFIX))
        .reduce((n, w) => n + (JSON.parse(w.value as string) as { s: unknown[] }).s.length, 0)
      assert.ok(
        entries <= 2 * keysOf(s).length + 16,
        `round ${round}: ${entries} entries for ${keysOf(s).length} keys`,
      )
    }
  })

  it('reads per-key records written before, and deletes them for good when their key goes', () => {
    const log = new Log()
    const before = new PartitionStore<number>(0, true)
    before.put('old-a', 1, origin(1))
    before.put('old-b', 2, origin(2))
    log.append(before.drain())
    const s = restored(log.writes)
    assert.deepEqual(keysOf(s), ['old-a', 'old-b'])
    s.delete('old-a')
    s.put('old-b', 3, origin(3)) // moves into a segment: its per-key record is deleted too
    const w = s.drain()
    log.append(w)
    assert.deepEqual(
      w.filter((x) => x.value === null).map((x) => x.key),
      ['old-a', 'old-b'],
    )
    for (const r of [restored(log.writes), restored(log.compacted())]) {
      assert.deepEqual(keysOf(r), ['old-b'])
      assert.equal(r.get('old-b'), 3)
    }
  })
})

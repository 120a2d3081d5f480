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
    for (const [i, w] of this.writes.entries()) last.set(w.key, i)
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

  it('a segment every key left gets a tombstone; keys deleted from a live one come back on a restore', () => {
    const log = new Log()
    const s = new PartitionStore<number>(0, true, { segmentSize: 4 })
    for (let i = 0; i < 8; i++) s.put(`k${i}`, i)
    log.append(s.drain()) // segments 0 (k0–k3) and 1 (k4–k7)
    for (let i = 0; i < 7; i++) s.delete(`k${i}`)
    const w = s.drain()
    log.append(w)
    assert.deepEqual(
      w.filter((x) => x.key !== META_KEY).map((x) => [x.key, x.value]),
      [[`${SEGMENT_KEY_PREFIX}0`, null]],
      'nothing for the keys themselves',
    )
    for (const r of [restored(log.writes), restored(log.compacted())])
      assert.deepEqual(keysOf(r), ['k4', 'k5', 'k6', 'k7'])
  })

  it('hands the keys of old segments on once the segments hold over twice the live keys', () => {
    const log = new Log()
    const s = new PartitionStore<number>(0, true, { segmentSize: 4 })
    for (let i = 0; i < 40; i++) s.put(`k${i}`, i)
    log.append(s.drain()) // ten segments
    for (let i = 0; i < 40; i++) if (i % 4 !== 3) s.delete(`k${i}`) // 10 live keys in 40 entries
    const w = s.drain()
    log.append(w)
    const dead = w.filter((x) => x.value === null).map((x) => x.key)
    assert.deepEqual(
      dead,
      [0, 1, 2].map((n) => `${SEGMENT_KEY_PREFIX}${n}`),
      'limit 2 × 10 + 2 × 4 = 28 entries',
    )
    const compacted = restored(log.compacted())
    assert.equal(compacted.size, 10 + 7 * 3, 'the 21 keys deleted from the 7 segments alive come back')
    for (let i = 3; i < 40; i += 4) assert.equal(compacted.get(`k${i}`), i)
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
      // The changelog stays in proportion to the live keys, however long the history: at each drain the
      // segments not handed on hold at most 2 × live + 2 segments; those handed on go at the next one.
      const entries = log
        .compacted()
        .filter((w) => w.key.startsWith(SEGMENT_KEY_PREFIX))
        .reduce((n, w) => n + (JSON.parse(w.value as string) as { s: unknown[] }).s.length, 0)
      const live = keysOf(s).length
      assert.ok(entries <= 3 * live + 4 * 8, `round ${round}: ${entries} entries for ${live} keys`)
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

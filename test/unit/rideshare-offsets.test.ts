/**
 * The rideshare bridge's memory-bounded dedupe (`OffsetRanges`: runs of offsets instead of one key per
 * record) and its payload path (`jsonText`, `bridgeMessageJson`: payloads published as the text they
 * arrived in). Each is checked against the simple version it replaces.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  bridgeMessageJson,
  RIDESHARE_TOPICS,
  toBridgeMessage,
} from '../../src/apps/rideshare/domain/index.ts'
import { JsonText, jsonText } from '../../src/apps/rideshare/json-text.ts'
import { OffsetRanges } from '../../src/apps/rideshare/offset-ranges.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { rideshareGenerator } from '../../src/generators/index.ts'

/** What OffsetRanges must answer like: every offset with the time it was first seen. */
class OffsetMap {
  readonly #seen = new Map<number, number>()
  readonly within: number
  constructor(within: number) {
    this.within = within
  }
  seen(offset: number, now: number): boolean {
    const at = this.#seen.get(offset)
    if (at !== undefined && now - at < this.within) return true
    this.#seen.set(offset, now)
    return false
  }
}

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('OffsetRanges', () => {
  it('drops an offset seen within the span and forgets it after', () => {
    const s = new OffsetRanges(60_000)
    assert.equal(s.seen(5, 0), false)
    assert.equal(s.seen(5, 0), true)
    assert.equal(s.seen(6, 0), false)
    assert.equal(s.seen(5, 59_999), true)
    assert.equal(s.seen(5, 60_000), false, 'forgotten after 60 s, and seen again now')
    assert.equal(s.seen(5, 60_001), true)
    assert.equal(s.seen(6, 60_001), false)
  })

  it('keeps one run per millisecond for a partition read in order, not one entry per offset', () => {
    const s = new OffsetRanges(60_000)
    let offset = 0
    for (let ms = 0; ms < 60_000; ms++)
      for (let i = 0; i < 200; i++) assert.equal(s.seen(offset++, ms), false)
    assert.equal(s.runs, 60_000, '12 million offsets in 60,000 runs')
    assert.equal(s.seen(0, 59_999), true)
    assert.equal(s.seen(offset - 1, 59_999), true)
    for (let i = 0; i < 200; i++) s.seen(offset++, 60_000)
    assert.equal(s.runs, 60_000, 'the oldest run expired as the newest came')
    assert.equal(s.seen(0, 60_001), false)
  })

  it('a re-delivery after a rebalance is dropped; the records after it pass', () => {
    const s = new OffsetRanges(60_000)
    for (let o = 100; o < 200; o++) s.seen(o, 1000)
    const again = Array.from({ length: 150 }, (_, i) => s.seen(150 + i, 2000))
    assert.deepEqual(
      again.map((dup, i) => (dup ? 150 + i : -1)).filter((o) => o >= 0),
      Array.from({ length: 50 }, (_, i) => 150 + i),
    )
  })

  it('answers like a map of every offset, for deliveries in any order, with gaps and rewinds', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = rng(seed)
      const runs = new OffsetRanges(500)
      const map = new OffsetMap(500)
      let now = 0
      let next = 0
      for (let step = 0; step < 20_000; step++) {
        const r = random()
        now += r < 0.2 ? Math.floor(random() * 40) : 0
        let offset: number
        if (r < 0.85) offset = next++
        else if (r < 0.9)
          offset = next += 1 + Math.floor(random() * 5) // a gap
        else offset = Math.max(0, next - 1 - Math.floor(random() * 300)) // a re-delivery or a rewind
        if (r > 0.99) runs.expire(now)
        assert.equal(
          runs.seen(offset, now),
          map.seen(offset, now),
          `seed ${seed} step ${step} offset ${offset}`,
        )
      }
    }
  })
})

describe('jsonText', () => {
  const serde = jsonText()
  const ctx = { topic: 't', isKey: false }

  it('keeps the text as it arrived next to the parsed value', () => {
    const text = '{ "driver_id": "d1", "lat": -23.5, "name": "São Paulo" }'
    const v = serde.deserialize(Buffer.from(text), ctx) as JsonText
    assert.equal(v.text, text)
    assert.deepEqual(v.value, { driver_id: 'd1', lat: -23.5, name: 'São Paulo' })
    assert.equal((serde.deserialize(Buffer.from(`\ufeff${text}`), ctx) as JsonText).text, text, 'BOM dropped')
  })

  it('refuses what json() refuses, with DESERIALIZE_FAILED', () => {
    for (const bad of [null, Buffer.alloc(0), Buffer.from('{"a":'), Buffer.from([0x7b, 0xff, 0x7d])]) {
      assert.throws(
        () => serde.deserialize(bad, ctx),
        (err) => err instanceof WeirError && err.code === ErrorCode.DESERIALIZE_FAILED,
      )
    }
  })

  it('writes a JsonText as its text and a plain value as JSON', () => {
    assert.equal(String(serde.serialize(new JsonText(' [1] ', [1]), ctx)), ' [1] ')
    assert.equal(String(serde.serialize({ a: 1 } as never, ctx)), '{"a":1}')
  })
})

describe('bridgeMessageJson', () => {
  it('is JSON.stringify(toBridgeMessage(…)) for every topic, key and generated payload', () => {
    const g = rideshareGenerator({ seed: 9, drivers: 20, riders: 50 })
    const seen = new Set<string>()
    for (let i = 0; i < 20_000 && seen.size < RIDESHARE_TOPICS.length; i++) {
      const r = g.next()
      seen.add(r.topic)
      for (const key of [r.key, null, 'quote"and\\slash']) {
        const meta = { key, timestamp: 1_763_900_000_123 + i }
        assert.equal(
          bridgeMessageJson(r.topic, JSON.stringify(r.value), meta),
          JSON.stringify(toBridgeMessage(r.topic, r.value as never, meta)),
        )
      }
    }
    assert.equal(seen.size, RIDESHARE_TOPICS.length)
  })

  it('carries the payload text unchanged, and parses to the same message', () => {
    const text = '{ "driver_id" : "d1",\n "lat": 1.50 }'
    const json = bridgeMessageJson('gps_pings', text, { key: 'd1', timestamp: 7 })
    assert.ok(json.includes(text))
    assert.deepEqual(
      JSON.parse(json),
      toBridgeMessage('gps_pings', JSON.parse(text), { key: 'd1', timestamp: 7 }),
    )
  })
})

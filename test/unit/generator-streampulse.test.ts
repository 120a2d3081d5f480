import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_SCHEMA_PATH } from '../../src/apps/streampulse/config.ts'
import { type DownloadEvent, validateEvent } from '../../src/apps/streampulse/domain.ts'
import { streamPulseGenerator } from '../../src/generators/streampulse.ts'
import { avroFile } from '../../src/serdes/avro/file.ts'

const T0 = Date.UTC(2026, 0, 28, 19, 15)

describe('streampulse generator', () => {
  it('is seeded: the same seed and clock give the same events', () => {
    const a = streamPulseGenerator({ seed: 3, now: () => T0 }).take(50)
    const b = streamPulseGenerator({ seed: 3, now: () => T0 }).take(50)
    assert.deepEqual(a, b)
  })

  it('events are valid, fit event.avsc, and popular content takes most downloads (long tail)', () => {
    const avro = avroFile<DownloadEvent>({ schemaPath: DEFAULT_SCHEMA_PATH })
    const counts = new Map<string, number>()
    for (const r of streamPulseGenerator({ seed: 1, now: () => T0, contents: 1000 }).take(5000)) {
      const e = r.value as DownloadEvent
      assert.equal(validateEvent(e).ok, true)
      const bytes = avro.serialize(e, { topic: 't', isKey: false }) as Buffer
      assert.deepEqual({ ...(avro.deserialize(bytes, { topic: 't', isKey: false }) as DownloadEvent) }, e)
      assert.equal(e.status === 'failed', e.error_code !== null, 'failed events carry an error code')
      counts.set(e.content_id, (counts.get(e.content_id) ?? 0) + 1)
    }
    const sorted = [...counts.values()].sort((x, y) => y - x)
    const top10 = sorted.slice(0, 10).reduce((s, n) => s + n, 0)
    assert.ok(top10 > 5000 * 0.25, `the 10 most popular titles take ${top10} of 5000`)
    assert.ok(counts.size > 300, `a long tail: ${counts.size} distinct titles`)
  })

  it('the degraded region is slow and failing during its scheduled minute, itself otherwise', () => {
    let t = T0
    const g = streamPulseGenerator({
      seed: 2,
      now: () => t,
      degradedRegion: 'ap-south',
      degradeEveryMs: 300_000,
      degradeForMs: 60_000,
    })
    const stats = (from: number) => {
      let n = 0
      let failed = 0
      let speed = 0
      for (let i = 0; i < 20_000; i++) {
        t = from + (i % 60_000)
        const e = g.next().value as DownloadEvent
        if (e.region !== 'ap-south') continue
        n++
        if (e.status === 'failed') failed++
        speed += e.download_speed_mbps
      }
      return { success: 1 - failed / n, speed: speed / n }
    }
    const degraded = stats(Math.floor(T0 / 300_000) * 300_000)
    const normal = stats(Math.floor(T0 / 300_000) * 300_000 + 120_000)
    assert.ok(degraded.success < 0.8 && degraded.speed < 10, JSON.stringify(degraded))
    assert.ok(normal.success > 0.9 && normal.speed > 20, JSON.stringify(normal))
  })

  it('late, straggling and malformed shares are what was asked', () => {
    const g = streamPulseGenerator({
      seed: 4,
      now: () => T0,
      lateShare: 0.1,
      stragglerShare: 0.2,
      malformedShare: 0.05,
      lateMs: 300_000,
    })
    let late = 0
    let straggling = 0
    let malformed = 0
    const n = 20_000
    for (const r of g.take(n)) {
      if (r.defect?.kind === 'malformed') {
        malformed++
        assert.ok(Buffer.isBuffer(r.value))
        continue
      }
      const behind = T0 - (r.value as DownloadEvent).timestamp
      if (behind > 300_000) late++
      else if (behind > 0) straggling++
    }
    const near = (x: number, share: number) => Math.abs(x / n - share) < 0.02
    assert.ok(near(malformed, 0.05), `malformed ${malformed}`)
    assert.ok(near(late, 0.1 * 0.95), `late ${late}`)
    assert.ok(near(straggling, 0.2 * 0.9 * 0.95), `straggling ${straggling}`)
  })
})

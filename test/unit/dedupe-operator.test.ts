import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pipeline } from '../../src/dsl/stream.ts'
import type { Metrics } from '../../src/ops/metrics.ts'
import { SEGMENT_KEY_PREFIX } from '../../src/state/keys.ts'
import { TestDriver } from '../../src/testing/driver.ts'

interface Ev {
  readonly id: string
}

function deduped(options: { within?: string; maxKeys?: number; durable?: boolean; time?: 'event' } = {}) {
  const p = pipeline('dd')
  p.stream<Ev>('in')
    .dedupe({
      key: (e) => e.id,
      within: (options.within ?? '60s') as '60s',
      maxKeys: options.maxKeys,
      durable: options.durable,
      time: options.time,
      name: options.durable ? 'seen' : undefined,
    })
    .map((e) => e.id)
    .to('out')
  return p
}

const ids = (d: TestDriver) => d.output<string>('out').values()

/** Every `[key, value, topic, offset]` the changelog's segment records hold, in order. */
function segmentEntries(d: TestDriver, changelog: string): Array<[string, unknown, string, number]> {
  return d.broker
    .all(changelog)
    .filter((r) => r.key?.toString().startsWith(SEGMENT_KEY_PREFIX) && r.value !== null)
    .flatMap((r) => (JSON.parse(String(r.value)) as { s: Array<[string, unknown, string, number]> }).s)
}

describe('dedupe', () => {
  it('drops repeats of a key within the span and counts them', async () => {
    const d = new TestDriver(deduped())
    d.input<Ev>('in').pipeAll([{ id: 'a' }, { id: 'b' }, { id: 'a' }, { id: 'a' }])
    assert.deepEqual(ids(d), ['a', 'b'])
    assert.equal(d.metrics.counter('weir_dedupe_dropped_total', '').get({ operator: 'dedupe-1' }), 2)
  })

  it('lets a key through again once the span since its first sighting has passed', async () => {
    const d = new TestDriver(deduped({ within: '60s' }))
    const input = d.input<Ev>('in')
    input.pipe({ id: 'a' })
    await d.advance(59_999)
    input.pipe({ id: 'a' })
    await d.advance(1)
    input.pipe({ id: 'a' })
    assert.deepEqual(ids(d), ['a', 'a'], 'a repeat does not extend the span')
  })

  it('keys expire on the clock, so memory shrinks with no input', async () => {
    const d = new TestDriver(deduped({ within: '10s' }))
    d.input<Ev>('in').pipeAll([{ id: 'a' }, { id: 'b' }, { id: 'c' }])
    assert.deepEqual((d.metrics as Metrics).snapshot().weir_state_keys, {
      'operator=dedupe-1,partition=0': 3,
    })
    await d.advance(10_000)
    assert.deepEqual((d.metrics as Metrics).snapshot().weir_state_keys, {
      'operator=dedupe-1,partition=0': 0,
    })
  })

  it('keeps at most maxKeys, forgetting the least recently seen first', async () => {
    const d = new TestDriver(deduped({ maxKeys: 2 }))
    const input = d.input<Ev>('in')
    input.pipeAll([{ id: 'a' }, { id: 'b' }, { id: 'a' }, { id: 'c' }])
    assert.deepEqual((d.metrics as Metrics).snapshot().weir_state_keys, {
      'operator=dedupe-1,partition=0': 2,
    })
    input.pipeAll([{ id: 'a' }, { id: 'b' }])
    assert.deepEqual(
      ids(d),
      ['a', 'b', 'c', 'b'],
      'b was forgotten (a was seen more recently), so it passes again',
    )
    assert.deepEqual((d.metrics as Metrics).snapshot().weir_state_evicted_total, {
      'operator=dedupe-1,reason=max-keys': 2,
    })
  })

  it('event time: the span is measured in record timestamps', async () => {
    const d = new TestDriver(deduped({ within: '10s', time: 'event' }))
    const input = d.input<Ev>('in')
    input
      .pipe({ id: 'a' }, { timestamp: 1_000_000 })
      .pipe({ id: 'a' }, { timestamp: 1_009_999 })
      .pipe({ id: 'a' }, { timestamp: 1_010_000 })
    assert.deepEqual(ids(d), ['a', 'a'])
  })

  it('durable: remembers keys across a restart; a record re-read after a crash passes again', async () => {
    const d1 = new TestDriver(deduped({ durable: true }))
    await d1.init()
    d1.input<Ev>('in').pipe({ id: 'a' }).pipe({ id: 'b' })
    await d1.checkpoint()
    d1.input<Ev>('in').pipe({ id: 'c' })
    for (const p of d1.task.graph.processors) p.flushState?.()
    assert.ok(d1.broker.all('dd-seen-changelog').length > 0)

    const d2 = new TestDriver(deduped({ durable: true }), { broker: d1.broker, startTime: d1.clock.now() })
    await d2.init()
    d2.input<Ev>('in').pipe({ id: 'c' }, { offset: 2 }).pipe({ id: 'a' }).pipe({ id: 'd' })
    assert.deepEqual(
      ids(d2).slice(3),
      ['c', 'd'],
      'c is the same record re-read: it passes; a is a real repeat',
    )
  })

  it('durable: many new keys reach the changelog before the checkpoint, and a crash then loses nothing', async () => {
    const d1 = new TestDriver(deduped({ durable: true, maxKeys: 100_000 }))
    await d1.init()
    const input = d1.input<Ev>('in')
    for (let i = 0; i < 2500; i++) input.pipe({ id: `k${i}` })
    const early = segmentEntries(d1, 'dd-seen-changelog')
    assert.equal(early.length, 2000, 'written in drains of 1,000 changed keys, not held for the checkpoint')
    assert.equal(
      d1.broker.all('dd-seen-changelog').filter((r) => r.key?.toString().startsWith(SEGMENT_KEY_PREFIX))
        .length,
      2,
      'a segment record per 1,000 keys',
    )

    // A crash before any checkpoint: nothing committed, every record is read again from offset 0.
    const d2 = new TestDriver(deduped({ durable: true, maxKeys: 100_000 }), {
      broker: d1.broker,
      startTime: d1.clock.now(),
    })
    await d2.init()
    const again = d2.input<Ev>('in')
    for (let i = 0; i < 2500; i++) again.pipe({ id: `k${i}` }, { offset: i })
    again.pipe({ id: 'k7' }).pipe({ id: 'k2499' }).pipe({ id: 'new' })
    const out = ids(d2).slice(2500)
    assert.equal(out.length, 2501, 're-read records pass again (their outputs may not have been written)')
    assert.deepEqual(out.slice(2500), ['new'], 'k7 (restored) and k2499 (re-read live) are real repeats')
  })

  it('durable: restores a changelog of the earlier format (where a key was first seen kept in the value)', async () => {
    const d1 = new TestDriver(deduped({ durable: true }))
    await d1.init()
    d1.input<Ev>('in').pipe({ id: 'a' }).pipe({ id: 'b' }).pipe({ id: 'c' })
    await d1.checkpoint()
    // Rewrite each key's latest envelope as the earlier format wrote it: v = [time, topic, offset].
    const changelog = 'dd-seen-changelog'
    let rewritten = 0
    for (const [key, v, t, o] of segmentEntries(d1, changelog)) {
      assert.equal(typeof v, 'number', 'the current format keeps only the time in the value')
      const old = JSON.stringify({ v: [v, t, o], t, o })
      d1.broker.append({ topic: changelog, partition: 0, key: Buffer.from(key), value: Buffer.from(old) }, 0)
      rewritten++
    }
    assert.equal(rewritten, 3)

    const d2 = new TestDriver(deduped({ durable: true }), { broker: d1.broker, startTime: d1.clock.now() })
    await d2.init()
    d2.input<Ev>('in').pipe({ id: 'c' }, { offset: 2 }).pipe({ id: 'a' }).pipe({ id: 'd' })
    assert.deepEqual(ids(d2).slice(3), ['c', 'd'], 'c re-read passes; a is a repeat; d is new')
  })

  it('checks its options', () => {
    const s = pipeline('bad').stream<Ev>('in')
    assert.throws(() => s.dedupe({ key: (e) => e.id, within: 0 }), /dedupe within/)
    assert.throws(() => s.dedupe({ key: (e) => e.id, within: '1m', durable: true }), /needs a stable `name`/)
    assert.throws(
      () => s.dedupe({ key: (e) => e.id, within: '1m', maxKeys: 0 }),
      /maxKeys must be a positive integer/,
    )
  })
})

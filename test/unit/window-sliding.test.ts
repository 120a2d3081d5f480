import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { aggregations, count, sample } from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import type { WindowResult } from '../../src/dsl/windowed.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { sliding } from '../../src/time/windows.ts'

interface Ev {
  readonly k: string
  readonly t: number
}

const T0 = Date.UTC(2026, 0, 1)
type Out = WindowResult<string, { n: number; ts: number[] }>

function slidingCounts(emit: 'final' | 'update' = 'final', grace = 0) {
  const p = pipeline('slide')
  p.stream<Ev>('in')
    .groupBy((e) => e.k)
    .window(sliding({ size: 10_000, grace }), { timestamp: (e) => e.t })
    .aggregate(aggregations({ n: count(), ts: sample(1, (e: Ev) => e.t - T0) }), { name: 'slide', emit })
    .to('out')
  return p
}

function pipe(d: TestDriver, ...events: Array<[string, number]>): void {
  for (const [k, t] of events) d.input<Ev>('in').pipe({ k, t: T0 + t }, { key: k })
}

const got = (d: TestDriver) =>
  d
    .output<Out>('out')
    .values()
    .map((w) => [w.start - T0, w.end - T0, w.value.ts])

describe('sliding windows (Kafka Streams semantics)', () => {
  it('emits one window per distinct set of records within `size`: each record’s left window, and non-empty right windows', async () => {
    const d = new TestDriver(slidingCounts(), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0], ['a', 5000], ['a', 30_000], ['a', 60_000])
    assert.deepEqual(got(d), [
      [-10_000, 0, [0]],
      [-5000, 5000, [0, 5000]],
      [1, 10_001, [5000]],
      [20_000, 30_000, [30_000]],
    ])
  })

  it('records exactly `size` apart share a window (both ends are inclusive)', async () => {
    const d = new TestDriver(slidingCounts(), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0], ['a', 10_000], ['a', 100_000])
    assert.deepEqual(got(d), [
      [-10_000, 0, [0]],
      [0, 10_000, [0, 10_000]],
      [1, 10_001, [10_000]],
    ])
  })

  it('out-of-order records within grace join every window they fall in', async () => {
    const d = new TestDriver(slidingCounts('final', 5000), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0], ['a', 8000], ['a', 3000], ['a', 100_000])
    assert.deepEqual(got(d), [
      [-10_000, 0, [0]],
      [-7000, 3000, [0, 3000]],
      [-2000, 8000, [0, 3000, 8000]],
      [1, 10_001, [3000, 8000]],
      [3001, 13_001, [8000]],
    ])
  })

  it('closes on the wall clock and then forgets the key', async () => {
    const d = new TestDriver(slidingCounts(), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0], ['a', 4000])
    await d.advance(60_000)
    assert.deepEqual(got(d), [
      [-10_000, 0, [0]],
      [-6000, 4000, [0, 4000]],
      [1, 10_001, [4000]],
    ])
    await d.checkpoint()
    await d.checkpoint()
    const changelog = d.broker.all('slide-slide-changelog').filter((r) => r.key?.toString().startsWith('a'))
    assert.equal(
      changelog.at(-1)?.value,
      null,
      'the key’s state is deleted (a tombstone) once its windows are emitted',
    )
  })

  it('update mode emits the window ending at each record as it arrives', async () => {
    const d = new TestDriver(slidingCounts('update'), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0], ['a', 5000], ['a', 12_000])
    assert.deepEqual(got(d), [
      [-10_000, 0, [0]],
      [-5000, 5000, [0, 5000]],
      [2000, 12_000, [5000, 12_000]],
    ])
  })

  it('needs durable state', () => {
    const w = pipeline('s')
      .stream<Ev>('c')
      .groupByKey()
      .window(sliding({ size: 10 }))
    assert.throws(
      () => w.aggregate(count(), { name: 'x', emit: 'final', durable: false }),
      /sliding windows keep their records in durable state/,
    )
  })
})

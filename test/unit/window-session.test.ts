import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { aggregations, avg, count, reducer, sample } from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import type { WindowResult } from '../../src/dsl/windowed.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { session } from '../../src/time/windows.ts'

interface Click {
  readonly user: string
  readonly t: number
  readonly v: number
}

const T0 = Date.UTC(2026, 0, 1)
type Out = WindowResult<string, { n: number; avg: number | null; vs: number[] }>

function sessions(options: {
  gap: number
  grace?: number
  outOfOrderness?: number
  emit?: 'final' | 'update'
}) {
  const p = pipeline('sessions')
  p.stream<Click>('clicks')
    .groupBy((c) => c.user)
    .window(session({ gap: options.gap, grace: options.grace }), {
      timestamp: (c) => c.t,
      outOfOrderness: options.outOfOrderness,
    })
    .aggregate(aggregations({ n: count(), avg: avg((c: Click) => c.v), vs: sample(1, (c: Click) => c.v) }), {
      name: 'visits',
      emit: options.emit ?? 'final',
    })
    .to('out')
  return p
}

function pipe(d: TestDriver, ...clicks: Array<[string, number, number]>): void {
  for (const [user, t, v] of clicks) d.input<Click>('clicks').pipe({ user, t: T0 + t, v }, { key: user })
}

const got = (d: TestDriver) =>
  d
    .output<Out>('out')
    .values()
    .map((w) => [w.key, w.start - T0, w.end - T0, w.value.n, w.value.vs])

describe('session windows', () => {
  it('a session is [first, last]; a gap longer than `gap` starts a new one', async () => {
    const d = new TestDriver(sessions({ gap: 1000 }), { startTime: T0 })
    await d.init()
    pipe(d, ['u', 0, 1], ['u', 600, 2], ['u', 1600, 3])
    assert.deepEqual(got(d), [], 'a record exactly `gap` after the last joins the session')
    pipe(d, ['u', 2601, 4])
    assert.deepEqual(got(d), [['u', 0, 1600, 3, [1, 2, 3]]])
  })

  it('a record that bridges two sessions merges them (accumulators merged)', async () => {
    const d = new TestDriver(sessions({ gap: 1000, outOfOrderness: 5000 }), { startTime: T0 })
    await d.init()
    pipe(d, ['u', 0, 10], ['u', 500, 20], ['u', 2200, 30], ['u', 2300, 40])
    pipe(d, ['u', 1400, 50])
    pipe(d, ['u', 9000, 0])
    assert.deepEqual(got(d), [['u', 0, 2300, 5, [10, 20, 30, 40, 50]]])
    assert.equal(d.output<Out>('out').values()[0]?.value.avg, 30)
  })

  it('keys have separate sessions', async () => {
    const d = new TestDriver(sessions({ gap: 1000 }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0, 1], ['b', 100, 2], ['a', 900, 3], ['b', 5000, 4])
    assert.deepEqual(got(d), [
      ['a', 0, 900, 2, [1, 3]],
      ['b', 100, 100, 1, [2]],
    ])
  })

  it('closes on the wall clock after gap + grace with no further input', async () => {
    const d = new TestDriver(sessions({ gap: 30_000, grace: 5000 }), { startTime: T0 })
    await d.init()
    pipe(d, ['u', 0, 1])
    await d.advance(35_000)
    assert.deepEqual(got(d), [])
    await d.advance(1000)
    assert.deepEqual(got(d), [['u', 0, 0, 1, [1]]])
  })

  it('a record too late for any open session is late', async () => {
    const d = new TestDriver(sessions({ gap: 1000 }), { startTime: T0 })
    await d.init()
    pipe(d, ['u', 10_000, 1], ['u', 100, 2])
    assert.equal(d.deadLetters()[0]?.info.code, 'LATE_RECORD')
  })

  it('update mode emits the merged session as it grows', async () => {
    const d = new TestDriver(sessions({ gap: 1000, outOfOrderness: 5000, emit: 'update' }), { startTime: T0 })
    await d.init()
    pipe(d, ['u', 0, 1], ['u', 2000, 2], ['u', 1000, 3])
    assert.deepEqual(got(d), [
      ['u', 0, 0, 1, [1]],
      ['u', 2000, 2000, 1, [2]],
      ['u', 0, 2000, 3, [1, 2, 3]],
    ])
  })

  it('needs an aggregation that can merge', () => {
    const w = pipeline('s')
      .stream<Click>('c')
      .groupByKey()
      .window(session({ gap: 10 }))
    const noMerge = reducer({ init: () => 0, add: (n: number) => n + 1, result: (n: number) => n })
    assert.throws(() => w.aggregate(noMerge, { name: 'x', emit: 'final' }), /needs a merge function/)
  })
})

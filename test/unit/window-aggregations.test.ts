import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type Aggregation,
  aggregations,
  avg,
  count,
  first,
  latest,
  max,
  min,
  reducer,
  sample,
  stddev,
  sum,
  variance,
} from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import type { WindowResult } from '../../src/dsl/windowed.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { tumbling } from '../../src/time/windows.ts'

/** Folds values (with times) through an aggregation, as a window does. */
function run<V, A, R>(agg: Aggregation<V, A, R>, values: readonly V[], times?: readonly number[]): R {
  let acc = agg.init()
  values.forEach((v, i) => {
    acc = agg.add(acc, v, times?.[i] ?? i)
  })
  // Round trip through JSON, as durable state does.
  return agg.result(JSON.parse(JSON.stringify(acc)) as A)
}

/** Folds two halves separately and merges them, as session windows do. */
function merged<V, A, R>(agg: Aggregation<V, A, R>, a: readonly V[], b: readonly V[]): R {
  const fold = (vs: readonly V[], offset: number) =>
    vs.reduce((acc, v, i) => agg.add(acc, v, offset + i), agg.init())
  return agg.result(agg.merge!(fold(a, 0), fold(b, a.length)))
}

const speeds = [10, 20, 30, 40]
const id = (x: number) => x

describe('aggregations', () => {
  it('count, sum, avg, min, max', () => {
    assert.equal(run(count(), speeds), 4)
    assert.equal(run(sum(id), speeds), 100)
    assert.equal(run(avg(id), speeds), 25)
    assert.equal(run(min(id), speeds), 10)
    assert.equal(run(max(id), speeds), 40)
  })

  it('skip null, undefined and NaN like SQL skips NULL; null when nothing counted', () => {
    const vals = [5, null, undefined, Number.NaN, 15] as Array<number | null | undefined>
    const f = (x: number | null | undefined) => x
    assert.equal(run(avg(f), vals), 10)
    assert.equal(run(sum(f), vals), 20)
    assert.equal(run(min(f), vals), 5)
    assert.equal(run(avg(f), []), null)
    assert.equal(run(max(f), []), null)
    assert.equal(run(variance(f), []), null)
  })

  it('variance and stddev: population by default, sample on request, numerically stable', () => {
    assert.equal(run(variance(id), speeds), 125)
    assert.ok(Math.abs(run(variance(id, { sample: true }), speeds)! - 500 / 3) < 1e-9)
    assert.ok(Math.abs(run(stddev(id), speeds)! - Math.sqrt(125)) < 1e-9)
    assert.equal(run(variance(id), [7]), 0)
    const big = [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16]
    assert.ok(Math.abs(run(variance(id), big)! - 22.5) < 1e-6, 'Welford keeps precision with large offsets')
  })

  it('first and latest go by time, ties by arrival; they can project a field', () => {
    const vals = [{ p: 'a' }, { p: 'b' }, { p: 'c' }, { p: 'd' }]
    const times = [20, 10, 30, 30]
    assert.deepEqual(run(first<{ p: string }>(), vals, times), { p: 'b' })
    assert.equal(
      run(
        latest((v: { p: string }) => v.p),
        vals,
        times,
      ),
      'd',
    )
    assert.equal(
      run(
        first((v: { p: string }) => v.p),
        [],
        [],
      ),
      null,
    )
  })

  it('sample keeps one value in n, in arrival order', () => {
    assert.deepEqual(run(sample(3), [1, 2, 3, 4, 5, 6, 7]), [1, 4, 7])
    assert.deepEqual(
      run(
        sample(1, (x: number) => x * 10),
        [1, 2],
      ),
      [10, 20],
    )
    assert.throws(() => sample(0), /positive integer/)
  })

  it('a custom reducer is typed and checked', () => {
    const distinct = reducer({
      init: () => [] as string[],
      add: (seen: string[], v: { id: string }) => (seen.includes(v.id) ? seen : [...seen, v.id]),
      result: (seen) => seen.length,
    })
    assert.equal(run(distinct, [{ id: 'a' }, { id: 'b' }, { id: 'a' }]), 2)
    assert.throws(() => reducer({ init: () => 0, add: 'nope' } as never), /reducer add: expected a function/)
  })

  it('aggregations() computes several at once into a typed object', () => {
    const all = aggregations({ n: count(), avg: avg(id), top: max(id), spread: stddev(id) })
    const r = run(all, speeds)
    const n: number = r.n
    const a: number | null = r.avg
    assert.deepEqual({ n, a, top: r.top }, { n: 4, a: 25, top: 40 })
    assert.throws(() => aggregations({}), /at least one/)
  })

  it('merging partial results equals folding everything (what sessions rely on)', () => {
    const a = [3, 9, 4]
    const b = [12, 1]
    const all = [...a, ...b]
    for (const agg of [
      count(),
      sum(id),
      avg(id),
      min(id),
      max(id),
      variance(id),
      stddev(id),
      first<number>(),
      latest<number>(),
      sample(2),
    ]) {
      const want = run(agg as Aggregation<number, unknown, unknown>, all)
      const got = merged(agg as Aggregation<number, unknown, unknown>, a, b)
      if (typeof want === 'number') assert.ok(Math.abs((got as number) - want) < 1e-9)
      else if (!Array.isArray(want)) assert.deepEqual(got, want)
    }
    const combined = aggregations({ n: count(), v: variance(id) })
    assert.equal(typeof combined.merge, 'function', 'mergeable when every part is')
    assert.equal(
      aggregations({ r: reducer({ init: () => 0, add: (x: number) => x, result: (x) => x }) }).merge,
      undefined,
    )
  })

  it('the traffic aggregates over a 5-minute window', async () => {
    interface Reading {
      sensor_id: string
      timestamp: string
      speed_mph: number
      volume_vph: number
      occupancy_percent: number
    }
    const p = pipeline('traffic')
    p.stream<Reading>('traffic-raw')
      .groupBy((r) => r.sensor_id)
      .window(tumbling({ size: '5m', grace: '1m' }), { timestamp: (r) => Date.parse(r.timestamp) })
      .aggregate(
        aggregations({
          avg_speed: avg((r) => r.speed_mph),
          avg_volume: avg((r) => r.volume_vph),
          avg_occupancy: avg((r) => r.occupancy_percent),
          speed_variance: variance((r) => r.speed_mph),
          message_count: count(),
        }),
        { name: 'traffic-5m', emit: 'final' },
      )
      .map((w) => ({ sensor_id: w.key, window_start: w.start, window_end: w.end, ...w.value }))
      .to('traffic-aggregates')
    const d = new TestDriver(p, { startTime: Date.UTC(2026, 0, 1, 12) })
    await d.init()
    const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 12, min)).toISOString()
    const input = d.input<Reading>('traffic-raw')
    input.pipe(
      { sensor_id: 'S1', timestamp: at(0), speed_mph: 50, volume_vph: 100, occupancy_percent: 10 },
      { key: 'S1' },
    )
    input.pipe(
      { sensor_id: 'S1', timestamp: at(4), speed_mph: 70, volume_vph: 300, occupancy_percent: 30 },
      { key: 'S1' },
    )
    await d.advance(6 * 60_000)
    assert.deepEqual(d.output('traffic-aggregates').values(), [
      {
        sensor_id: 'S1',
        window_start: Date.UTC(2026, 0, 1, 12, 0),
        window_end: Date.UTC(2026, 0, 1, 12, 5),
        avg_speed: 60,
        avg_volume: 200,
        avg_occupancy: 20,
        speed_variance: 100,
        message_count: 2,
      },
    ])
    const typed = d.output<WindowResult<string, unknown>>('traffic-aggregates').values()
    assert.equal(typed.length, 1)
  })
})

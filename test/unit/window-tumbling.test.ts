import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode } from '../../src/core/errors.ts'
import { aggregations, avg, count, latest, sample } from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import type { WindowResult } from '../../src/dsl/windowed.ts'
import { createLogger } from '../../src/log/logger.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { hopping, tumbling } from '../../src/time/windows.ts'

interface Reading {
  readonly s: string
  readonly t: number
  readonly v: number
}

const T0 = Date.UTC(2026, 0, 1)

/** Counts and collects `v` per sensor in event-time windows; results on `out`. */
function counting(options: {
  size: number
  grace?: number
  outOfOrderness?: number
  closeOnWallClock?: boolean
  late?: 'dlq' | 'drop'
  repartition?: boolean
}) {
  const p = pipeline('w')
  p.stream<Reading>('in')
    .groupBy((r) => r.s, { repartition: options.repartition })
    .window(tumbling({ size: options.size, grace: options.grace ?? 0 }), {
      timestamp: (r) => r.t,
      outOfOrderness: options.outOfOrderness,
      closeOnWallClock: options.closeOnWallClock,
    })
    .aggregate(aggregations({ n: count(), vs: sample(1, (r: Reading) => r.v) }), {
      name: 'counts',
      emit: 'final',
      late: options.late,
    })
    .to('out')
  return p
}

type Counted = WindowResult<string, { n: number; vs: number[] }>

function results(d: TestDriver): Array<[number, number, number[]]> {
  return d
    .output<Counted>('out')
    .values()
    .map((w) => [w.start - T0, w.end - T0, w.value.vs])
}

function pipe(d: TestDriver, ...readings: Array<[string, number, number]>): void {
  const input = d.input<Reading>('in')
  for (const [s, t, v] of readings) input.pipe({ s, t: T0 + t, v }, { key: s })
}

describe('tumbling windows on event time', () => {
  it('windows are [start, end): a record exactly at a window end goes to the next window', async () => {
    const d = new TestDriver(counting({ size: 1000 }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0, 1], ['a', 999, 2], ['a', 1000, 3])
    assert.deepEqual(
      results(d),
      [[0, 1000, [1, 2]]],
      'the record at 1000 closed [0, 1000) without joining it',
    )
    pipe(d, ['a', 2000, 4])
    assert.deepEqual(results(d), [
      [0, 1000, [1, 2]],
      [1000, 2000, [3]],
    ])
  })

  it('results are keyed by the group key and carry key, start, end and value', async () => {
    const d = new TestDriver(counting({ size: 1000 }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 10, 1], ['b', 20, 2], ['a', 1500, 3])
    const records = d.output<Counted>('out').records()
    assert.deepEqual(
      records.map((r) => [r.key, r.value.key, r.value.start - T0, r.value.end - T0, r.value.value.n]),
      [
        ['a', 'a', 0, 1000, 1],
        ['b', 'b', 0, 1000, 1],
      ],
    )
    assert.equal(records[0]?.timestamp, T0 + 999, 'a result is stamped with the last instant of its window')
  })

  it('out-of-order records within the grace period still count', async () => {
    const d = new TestDriver(counting({ size: 1000, grace: 500 }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 100, 1], ['a', 1200, 2], ['a', 900, 3])
    assert.deepEqual(results(d), [], '[0, 1000) stays open until 1500')
    pipe(d, ['a', 1499, 4])
    assert.deepEqual(results(d), [])
    pipe(d, ['a', 1500, 5])
    assert.deepEqual(results(d), [[0, 1000, [1, 3]]])
    assert.equal(d.deadLetters().length, 0)
  })

  it('outOfOrderness holds the watermark back: later records still join', async () => {
    const d = new TestDriver(counting({ size: 1000, outOfOrderness: 300 }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 100, 1], ['a', 1200, 2], ['a', 950, 3])
    assert.deepEqual(results(d), [])
    pipe(d, ['a', 1300, 4])
    assert.deepEqual(results(d), [[0, 1000, [1, 3]]])
  })

  it('a record later than the grace period goes to the dead-letter topic as LATE_RECORD and is counted', async () => {
    const d = new TestDriver(counting({ size: 1000, grace: 200 }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 100, 1], ['a', 1200, 2], ['a', 999, 3], ['a', 1300, 4])
    assert.deepEqual(results(d), [[0, 1000, [1]]])
    const [dead] = d.deadLetters()
    assert.equal(d.deadLetters().length, 1)
    assert.equal(dead?.info.code, ErrorCode.LATE_RECORD)
    assert.equal(dead?.info.stage, 'counts')
    assert.deepEqual(
      JSON.parse(dead!.value!.toString()),
      { s: 'a', t: T0 + 999, v: 3 },
      'the original record',
    )
    assert.match(dead!.info.message!, /late record/)
    assert.equal(d.metrics.counter('weir_window_late_records_total', '').get({ operator: 'counts' }), 1)
  })

  it("late: 'drop' drops late records but still counts them", async () => {
    const d = new TestDriver(counting({ size: 1000, late: 'drop' }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 100, 1], ['a', 1200, 2], ['a', 500, 3])
    assert.equal(d.deadLetters().length, 0)
    assert.equal(d.metrics.counter('weir_window_late_records_total', '').get({ operator: 'counts' }), 1)
  })

  it('late: a function receives the stream of late records to route them', async () => {
    const p = pipeline('w')
    p.stream<Reading>('in')
      .groupBy((r) => r.s)
      .window(tumbling({ size: 1000 }), { timestamp: (r) => r.t })
      .aggregate(count(), { name: 'counts', emit: 'final', late: (late) => late.map((r) => r.v).to('late') })
      .to('out')
    const d = new TestDriver(p, { startTime: T0 })
    await d.init()
    pipe(d, ['a', 100, 1], ['a', 1200, 2], ['a', 500, 3])
    assert.deepEqual(d.output('late').values(), [3])
    assert.equal(d.deadLetters().length, 0)
  })

  it('windows close on the wall clock when input stops: no further record is needed', async () => {
    const d = new TestDriver(counting({ size: 60_000, grace: 5000 }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0, 1], ['a', 30_000, 2])
    await d.advance(30_000 + 4999)
    assert.deepEqual(results(d), [], 'not before wall time passes end + grace')
    await d.advance(1)
    assert.deepEqual(results(d), [[0, 60_000, [1, 2]]])
  })

  it('wall-clock closing also waits for the out-of-orderness allowance', async () => {
    const d = new TestDriver(counting({ size: 10_000, grace: 1000, outOfOrderness: 2000 }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0, 1])
    await d.advance(12_999)
    assert.deepEqual(results(d), [])
    await d.advance(1)
    assert.deepEqual(results(d), [[0, 10_000, [1]]])
  })

  it('with closeOnWallClock: false, only event time closes windows', async () => {
    const d = new TestDriver(counting({ size: 1000, closeOnWallClock: false }), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0, 1])
    await d.advance(3_600_000)
    assert.deepEqual(results(d), [])
    pipe(d, ['b', 1000, 2])
    assert.deepEqual(results(d), [[0, 1000, [1]]])
  })
})

describe('emit final vs update', () => {
  function averaging(emit: 'final' | 'update', updateEveryMs?: number) {
    const p = pipeline('emit')
    p.stream<Reading>('in')
      .groupBy((r) => r.s)
      .window(tumbling({ size: 10_000 }), { timestamp: (r) => r.t })
      .aggregate(
        avg((r) => r.v),
        { name: 'avg', emit, updateEveryMs },
      )
      .to('out')
    return p
  }
  const values = (d: TestDriver) =>
    d
      .output<WindowResult<string, number>>('out')
      .values()
      .map((w) => [w.start - T0, w.value])

  it('final emits one result per window, when it closes', async () => {
    const d = new TestDriver(averaging('final'), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0, 10], ['a', 1, 20], ['a', 2, 30])
    assert.deepEqual(values(d), [])
    pipe(d, ['a', 10_000, 0])
    assert.deepEqual(values(d), [[0, 20]])
  })

  it('update emits the current result on every change, and nothing more at close', async () => {
    const d = new TestDriver(averaging('update'), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0, 10], ['a', 1, 20], ['a', 2, 30], ['a', 10_000, 0])
    assert.deepEqual(values(d), [
      [0, 10],
      [0, 15],
      [0, 20],
      [10_000, 0],
    ])
  })

  it('updateEveryMs rate-limits updates per window; the latest pending one is emitted later or at close', async () => {
    const d = new TestDriver(averaging('update', 1000), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 0, 10], ['a', 1, 20], ['a', 2, 30])
    assert.deepEqual(values(d), [[0, 10]], 'one update per second')
    await d.advance(1000)
    assert.deepEqual(values(d), [
      [0, 10],
      [0, 20],
    ])
    pipe(d, ['a', 3, 40])
    pipe(d, ['a', 3, 50])
    assert.equal(values(d).length, 2)
    pipe(d, ['a', 10_000, 0])
    assert.deepEqual(
      values(d).slice(2),
      [
        [0, 30],
        [10_000, 0],
      ],
      'closing emits the pending update, then the next window starts',
    )
  })
})

describe('hopping windows', () => {
  it('a record counts in every window that overlaps it', async () => {
    const p = pipeline('hop')
    p.stream<Reading>('in')
      .groupByKey()
      .window(hopping({ size: 10_000, advance: 5000 }), { timestamp: (r) => r.t })
      .aggregate(count(), { name: 'hop', emit: 'final' })
      .to('out')
    const d = new TestDriver(p, { startTime: T0 })
    await d.init()
    pipe(d, ['a', 7000, 0], ['a', 12_000, 0], ['a', 40_000, 0])
    const got = d
      .output<WindowResult<string, number>>('out')
      .values()
      .map((w) => [w.start - T0, w.end - T0, w.value])
    assert.deepEqual(got, [
      [0, 10_000, 1],
      [5000, 15_000, 2],
      [10_000, 20_000, 1],
    ])
  })
})

describe('processing-time windows without durable state', () => {
  // Grouped in place: these are about the window holding its own input's offsets.
  function latestPerDriver() {
    const p = pipeline('gps')
    p.stream<{ driver: string; lat: number }>('gps')
      .groupBy((g) => g.driver, { repartition: false })
      .window(tumbling({ size: 100 }), { time: 'processing' })
      .aggregate(
        latest((g: { lat: number }) => g.lat),
        { emit: 'final' },
      )
      .to('driver-updates')
    return p
  }

  it('windows follow the wall clock, keep only the latest value and need no name or changelog', async () => {
    const p = latestPerDriver()
    assert.equal(p.topology.topics().filter((t) => t.role === 'internal').length, 0)
    const d = new TestDriver(p, { startTime: T0 })
    const gps = d.input<{ driver: string; lat: number }>('gps')
    gps.pipe({ driver: 'd1', lat: 1 }).pipe({ driver: 'd1', lat: 2 }).pipe({ driver: 'd2', lat: 9 })
    await d.advance(50)
    gps.pipe({ driver: 'd1', lat: 3 })
    assert.equal(d.output('driver-updates').size, 0)
    await d.advance(50)
    assert.deepEqual(
      d
        .output<WindowResult<string, number>>('driver-updates')
        .values()
        .map((w) => [w.key, w.value]),
      [
        ['d1', 3],
        ['d2', 9],
      ],
    )
  })

  it('holds input offsets until the window containing them is emitted', async () => {
    const d = new TestDriver(latestPerDriver(), { startTime: T0 })
    const gps = d.input<{ driver: string; lat: number }>('gps')
    gps.pipe({ driver: 'd1', lat: 1 }).pipe({ driver: 'd2', lat: 2 })
    assert.deepEqual(await d.checkpoint(), [], 'nothing is committed past an unemitted record')
    await d.advance(100)
    gps.pipe({ driver: 'd1', lat: 3 })
    assert.deepEqual(
      await d.checkpoint(),
      [{ topic: 'gps', partition: 0, offset: 2 }],
      'the emitted window released its records',
    )
    await d.close()
    assert.equal(d.output('driver-updates').size, 3, 'a clean stop emits the open window')
    assert.equal(d.committed('gps'), 3)
  })
})

describe('grouping and DSL checks', () => {
  it('logs once when the grouping key differs from the record key (state is per input partition)', async () => {
    const lines: string[] = []
    const d = new TestDriver(counting({ size: 1000, repartition: false }), {
      startTime: T0,
      logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }),
    })
    await d.init()
    d.input<Reading>('in').pipe({ s: 'a', t: T0, v: 1 }, { key: 'a' })
    assert.equal(lines.length, 0)
    d.input<Reading>('in').pipe({ s: 'a', t: T0, v: 1 }, { key: 'zzz' }).pipe({ s: 'b', t: T0, v: 1 })
    assert.equal(lines.length, 1)
    assert.match(lines[0]!, /grouping key differs from the record key/)
  })

  it('declares a compacted changelog topic named <app>-<operator>-changelog', () => {
    const topics = counting({ size: 1000 }).topology.topics()
    assert.deepEqual(
      topics.find((t) => t.role === 'internal'),
      { name: 'w-counts-changelog', role: 'internal', config: { 'cleanup.policy': 'compact' } },
    )
  })

  it('rejects unsound window definitions with clear errors', () => {
    const g = pipeline('bad')
      .stream<Reading>('in')
      .groupBy((r) => r.s)
    const w = g.window(tumbling({ size: 1000 }))
    assert.throws(() => w.aggregate(count(), { emit: 'final' }), /durable window state needs a stable `name`/)
    assert.throws(() => w.aggregate(count(), { name: 'x' } as never), /choose when windows emit/)
    assert.throws(
      () => w.aggregate(count(), { name: 'y', emit: 'final', updateEveryMs: 10 }),
      /rate-limits emit: 'update'/,
    )
    assert.throws(() => w.aggregate({} as never, { name: 'z', emit: 'final' }), /give an aggregation/)
    assert.throws(() => tumbling({ size: 0 }), /tumbling size: expected a whole number of milliseconds > 0/)
    assert.throws(() => tumbling({ size: '5 minutes' as never }), /duration like '30s'/)
    assert.throws(() => hopping({ size: 1000, advance: 2000 }), /advance .* must not exceed size/)
    assert.throws(
      () => g.window(tumbling({ size: 1000 }), { time: 'processing', timestamp: (r) => r.t }),
      /timestamp is for event time/,
    )
    assert.equal(tumbling({ size: '5m', grace: '30s' }).size, 300_000)
  })

  it('a bad event time goes to the error policy, not into a window', async () => {
    const d = new TestDriver(counting({ size: 1000 }), { startTime: T0 })
    await d.init()
    d.input<Reading>('in').pipe({ s: 'a', t: Number.NaN, v: 1 })
    assert.equal(d.deadLetters()[0]?.info.code, ErrorCode.VALIDATION_FAILED)
  })
})

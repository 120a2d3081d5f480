import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode } from '../../src/core/errors.ts'
import { aggregations, count, sample } from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import type { WindowResult } from '../../src/dsl/windowed.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { session, tumbling } from '../../src/time/windows.ts'

interface Reading {
  readonly s: string
  readonly t: number
  readonly v: number
}

const T0 = Date.UTC(2026, 0, 1)

/** Flink's event-time trigger with allowed lateness: a result at the end, then one per late record. */
function onEnd(grace: number) {
  const p = pipeline('w')
  p.stream<Reading>('in')
    .groupBy((r) => r.s)
    .window(tumbling({ size: 1000, grace }), { timestamp: (r) => r.t })
    .aggregate(aggregations({ n: count(), vs: sample(1, (r: Reading) => r.v) }), {
      name: 'counts',
      emit: 'end',
    })
    .to('out')
  return p
}

type Counted = WindowResult<string, { n: number; vs: number[] }>

function results(d: TestDriver): Array<[string, number, number[]]> {
  return d
    .output<Counted>('out')
    .values()
    .map((w) => [w.key, w.start - T0, w.value.vs])
}

function pipe(d: TestDriver, ...readings: Array<[string, number, number]>): void {
  const input = d.input<Reading>('in')
  for (const [s, t, v] of readings) input.pipe({ s, t: T0 + t, v }, { key: s })
}

describe("tumbling windows with emit: 'end'", () => {
  it('emit a result when the watermark passes the end and a corrected one per late record; nothing repeated at end + grace', async () => {
    const d = new TestDriver(onEnd(5000), { startTime: T0 })
    await d.init()
    pipe(d, ['a', 100, 1], ['a', 900, 2], ['b', 500, 7])
    assert.deepEqual(results(d), [], 'nothing before the window ends')
    pipe(d, ['a', 1000, 3])
    assert.deepEqual(
      results(d),
      [
        ['a', 0, [1, 2]],
        ['b', 0, [7]],
      ],
      'both keys fire when the watermark reaches 1000, without waiting for the grace period',
    )
    pipe(d, ['a', 400, 4])
    assert.deepEqual(
      results(d).slice(2),
      [['a', 0, [1, 2, 4]]],
      'a late record within grace re-emits its window',
    )
    pipe(d, ['c', 700, 9])
    assert.deepEqual(results(d).slice(3), [['c', 0, [9]]], 'a key first seen late emits at once')
    pipe(d, ['a', 6000, 5])
    const closing = results(d).slice(4)
    assert.deepEqual(
      closing.filter(([, start]) => start === 0),
      [],
      'every change was emitted already: nothing repeated when the state goes at end + grace',
    )
    pipe(d, ['a', 500, 6])
    const [dead] = d.deadLetters()
    assert.equal(dead?.info.code, ErrorCode.LATE_RECORD, 'later than grace is still a dead letter')
  })

  it('after a restart, restored windows whose end passed fire again (a result emitted before a crash may not have reached its sink)', async () => {
    const first = new TestDriver(onEnd(5000), { startTime: T0 })
    await first.init()
    pipe(first, ['a', 100, 1], ['a', 1000, 2])
    assert.deepEqual(results(first), [['a', 0, [1]]])
    await first.checkpoint()
    await first.close()
    const second = new TestDriver(onEnd(5000), { startTime: T0, broker: first.broker })
    await second.init()
    assert.deepEqual(results(second).slice(1), [['a', 0, [1]]], '[0, 1000) again; [1000, 2000) has not ended')
  })

  it('a restored window already past end + grace (not yet deleted) fires once more as it closes', async () => {
    const first = new TestDriver(onEnd(500), { startTime: T0 })
    await first.init()
    pipe(first, ['a', 100, 1], ['a', 1000, 2])
    await first.checkpoint()
    // Past end + grace: [0, 1000) closes with nothing to emit; it leaves the changelog only after the
    // checkpoint after next, so a crash now restores it.
    pipe(first, ['a', 1600, 3])
    await first.checkpoint()
    // A crash: no close (which would checkpoint again and delete the window).
    const second = new TestDriver(onEnd(500), { startTime: T0, broker: first.broker })
    await second.init()
    assert.deepEqual(
      results(second).filter(([, start]) => start === 0),
      [
        ['a', 0, [1]],
        ['a', 0, [1]],
      ],
      'fired before the crash, and once more after the restore',
    )
  })

  it('is refused for windows without fixed bounds', () => {
    const p = pipeline('w')
    assert.throws(
      () =>
        p
          .stream<Reading>('in')
          .groupBy((r) => r.s)
          .window(session({ gap: 1000 }), { timestamp: (r) => r.t })
          .aggregate(count(), { name: 's', emit: 'end' }),
      (e: { code?: string }) => e.code === ErrorCode.TOPOLOGY_INVALID,
    )
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { count } from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import type { WindowResult } from '../../src/dsl/windowed.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { DueQueue } from '../../src/time/due-queue.ts'
import { toMillis } from '../../src/time/duration.ts'
import { Watermarks } from '../../src/time/watermark.ts'
import { fixedWindowStarts, tumbling } from '../../src/time/windows.ts'

describe('watermarks', () => {
  const options = { outOfOrderness: 100, idleTimeout: 10_000, followWallClock: false }

  it('is the minimum over partitions of max event time − out-of-orderness, and never goes back', () => {
    const w = new Watermarks(options)
    assert.equal(w.current(0), Number.NEGATIVE_INFINITY)
    w.observe('t:0', 5000, 0)
    assert.equal(w.current(0), 4900)
    w.observe('t:1', 1000, 0)
    assert.equal(w.current(0), 4900, 'a slower partition appearing later cannot move it back')
    w.observe('t:0', 8000, 0)
    assert.equal(w.current(0), 4900)
    w.observe('t:1', 7000, 0)
    assert.equal(w.current(0), 6900, 'the slowest partition holds it')
    w.observe('t:1', 6000, 0)
    assert.equal(w.current(0), 6900, 'an out-of-order record does not lower a partition')
  })

  it('a partition idle longer than the timeout stops holding it back', () => {
    const w = new Watermarks(options)
    w.observe('t:0', 1000, 0)
    w.observe('t:1', 50_000, 0)
    assert.equal(w.current(9999), 900)
    w.observe('t:1', 60_000, 9999)
    assert.equal(w.current(10_000), 59_900, 't:0 went idle')
    w.observe('t:0', 2000, 10_001)
    assert.equal(w.current(10_001), 59_900, 'it comes back behind, but the watermark does not go back')
    assert.equal(w.current(100_000), 59_900, 'all idle: the highest counts')
  })

  it('is worked out afresh when partitions arrive: one moved here behind the others holds it back', () => {
    const w = new Watermarks(options)
    w.observe('t:0', 50_000, 0)
    assert.equal(w.current(0), 49_900)
    w.restore('t:1', 10_000, 1)
    assert.equal(w.current(1), 9900, 'the restored partition is 40 s behind; its windows must stay open')
    w.remove('t:1')
    assert.equal(w.current(2), 49_900)
    w.assign('t:2', 3)
    assert.equal(w.current(3), Number.NEGATIVE_INFINITY, 'an assigned partition that has not delivered holds it')
    assert.equal(w.current(10_003), 49_900, 'until it has been idle for the timeout')
  })

  it('stops following the wall clock once the input is paused, until the next record', () => {
    const w = new Watermarks({ ...options, followWallClock: true })
    w.observe('t:0', 1000, 0)
    assert.equal(w.current(500), 1400)
    w.pause()
    assert.equal(w.current(5000), 1400, 'stopping: quiet is not a lack of data')
    w.observe('t:0', 1100, 6000)
    assert.equal(w.current(6500), 1500)
  })

  it('with a caught-up signal, quiet counts only until the input was last known read to its end', () => {
    const caughtUp = new Map<string, number>()
    const w = new Watermarks({ ...options, followWallClock: true }, (tp) => caughtUp.get(tp))
    w.observe('t:0', 1000, 0)
    w.observe('t:1', 1000, 0)
    assert.equal(w.current(5000), 900, 'never caught up: no wall-clock advance')
    caughtUp.set('t:0', 3000)
    assert.equal(w.current(5000), 900, 't:1 is behind (lag, or no fetch succeeded)')
    caughtUp.set('t:1', 2000)
    assert.equal(w.current(5000), 2900, 'both read to their end as of 2000: quiet from 0 to 2000')
    assert.equal(w.current(60_000), 2900, 'the broker went away at 2000: time stands still')
    caughtUp.set('t:0', 70_000)
    caughtUp.set('t:1', 70_000)
    assert.equal(w.current(65_000), 65_900, 'never beyond now')
    assert.equal(w.current(9_000_000), 70_900)
  })

  it('with a caught-up signal, a partition is idle only after being read to its end for the idle timeout', () => {
    const caughtUp = new Map<string, number>()
    const w = new Watermarks(options, (tp) => caughtUp.get(tp))
    w.observe('t:0', 1000, 0)
    w.observe('t:1', 50_000, 0)
    assert.equal(w.current(60_000), 900, 'quiet for a minute, but never known drained: t:0 holds it')
    caughtUp.set('t:0', 10_000)
    assert.equal(w.current(60_000), 49_900, 'read to its end for the idle timeout: t:0 is idle')
  })

  it('follows the wall clock on quiet partitions when asked', () => {
    const w = new Watermarks({ ...options, followWallClock: true })
    w.observe('t:0', 1000, 50)
    assert.equal(w.current(50), 900)
    assert.equal(w.current(1050), 1900, 'one quiet second moves it one second')
    w.observe('t:0', 1500, 1100)
    assert.equal(w.current(1100), 1900, 'a record behind the extrapolation does not pull it back')
  })
})

describe('watermarks through windows over two partitions', () => {
  const T0 = Date.UTC(2026, 0, 1)
  function windows(closeOnWallClock: boolean) {
    const p = pipeline('wm')
    p.stream<{ t: number }, string>('in')
      .groupByKey()
      .window(tumbling({ size: 1000 }), { timestamp: (v) => v.t, idleTimeout: '5s', closeOnWallClock })
      .aggregate(count(), { name: 'n', emit: 'final' })
      .to('out')
    return p
  }
  const closed = (d: TestDriver) =>
    d
      .output<WindowResult<string, number>>('out')
      .values()
      .map((w) => [w.key, w.start - T0, w.value])

  it('a window closes only when every active partition has passed it', async () => {
    const d = new TestDriver(windows(false), { startTime: T0, partitions: 2 })
    await d.init()
    const input = d.input<{ t: number }, string>('in')
    input.pipe({ t: T0 + 100 }, { key: 'a', partition: 0 }).pipe({ t: T0 + 300 }, { key: 'b', partition: 1 })
    input.pipe({ t: T0 + 5000 }, { key: 'a', partition: 0 })
    assert.deepEqual(closed(d), [], 'partition 1 is still at 300')
    input.pipe({ t: T0 + 900 }, { key: 'b', partition: 1 })
    assert.deepEqual(closed(d), [])
    input.pipe({ t: T0 + 1000 }, { key: 'b', partition: 1 })
    assert.deepEqual(closed(d), [
      ['a', 0, 1],
      ['b', 0, 2],
    ])
  })

  it('an idle partition stops holding windows back after the idle timeout', async () => {
    const d = new TestDriver(windows(false), { startTime: T0, partitions: 2 })
    await d.init()
    const input = d.input<{ t: number }, string>('in')
    input.pipe({ t: T0 + 100 }, { key: 'b', partition: 1 }).pipe({ t: T0 + 200 }, { key: 'a', partition: 0 })
    await d.advance(4000)
    input.pipe({ t: T0 + 3000 }, { key: 'a', partition: 0 })
    assert.deepEqual(closed(d), [], 'partition 1 is quiet but not yet idle')
    await d.advance(1000)
    assert.deepEqual(
      closed(d),
      [
        ['a', 0, 1],
        ['b', 0, 1],
      ],
      'partition 1 idle for 5 s: partition 0 alone decides',
    )
  })
})

describe('time helpers', () => {
  it('durations accept ms and unit strings, and name the option when wrong', () => {
    assert.equal(toMillis(250, 'x'), 250)
    assert.equal(toMillis('250ms', 'x'), 250)
    assert.equal(toMillis('1.5s', 'x'), 1500)
    assert.equal(toMillis('5m', 'x'), 300_000)
    assert.equal(toMillis('2h', 'x'), 7_200_000)
    assert.equal(toMillis('1d', 'x'), 86_400_000)
    assert.equal(toMillis(0, 'x', { allowZero: true }), 0)
    assert.throws(() => toMillis(-1, 'grace'), /grace: expected/)
    assert.throws(() => toMillis(1.5, 'size'), /whole number/)
    assert.throws(() => toMillis('5 min' as never, 'size'), /size: expected milliseconds or a duration/)
  })

  it('fixed windows containing a time: [start, end), aligned to the epoch, negative times too', () => {
    assert.deepEqual(fixedWindowStarts(999, 1000, 1000), [0])
    assert.deepEqual(fixedWindowStarts(1000, 1000, 1000), [1000])
    assert.deepEqual(fixedWindowStarts(-1, 1000, 1000), [-1000])
    assert.deepEqual(fixedWindowStarts(21, 10, 3), [12, 15, 18, 21])
  })

  it('the due queue pops keys in time order, grouping keys due at the same time', () => {
    const q = new DueQueue()
    for (const [at, k] of [
      [5, 'e'],
      [1, 'a'],
      [3, 'c'],
      [1, 'b'],
      [9, 'z'],
      [2, 'x'],
    ] as const)
      q.push(at, k)
    assert.equal(q.size, 6)
    const order: string[] = []
    while (q.size > 0) order.push(...q.pop()!.keys)
    assert.deepEqual(order, ['a', 'b', 'x', 'c', 'e', 'z'])
    assert.equal(q.peek(), Number.POSITIVE_INFINITY)
  })
})

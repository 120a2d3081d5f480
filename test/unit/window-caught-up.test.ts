/**
 * Windows close on the wall clock only while the source has read its input to the end. The driver acts
 * as a source that reports it (`reportsCaughtUp`, as the Kafka source does); a test that stops calling
 * `caughtUp` is a broker that cannot be reached, or a partition with a backlog.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode } from '../../src/core/errors.ts'
import { count } from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import type { WindowResult } from '../../src/dsl/windowed.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { tumbling } from '../../src/time/windows.ts'

interface Reading {
  readonly s: string
  readonly t: number
}

const T0 = Date.UTC(2026, 0, 1)

function counting() {
  const p = pipeline('caught-up')
  p.stream<Reading>('in')
    .groupBy((r) => r.s)
    .window(tumbling({ size: 1000, grace: 500 }), { timestamp: (r) => r.t })
    .aggregate(count(), { name: 'counts', emit: 'final' })
    .to('out')
  return p
}

const closed = (d: TestDriver) =>
  d
    .output<WindowResult<string, number>>('out')
    .values()
    .map((w) => [w.key, w.start - T0, w.value])

/** Live input read to its end: the source reports it caught up every 100 ms while time passes. */
async function caughtUpFor(d: TestDriver, ms: number, partition?: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    d.caughtUp('in', partition)
    await d.advance(100)
  }
  d.caughtUp('in', partition)
}

const pipe = (d: TestDriver, s: string, t: number, partition = 0) =>
  d.input<Reading>('in').pipe({ s, t: T0 + t }, { key: s, partition })

describe('windows and the source caught-up signal', () => {
  it('while the source is caught up, quiet input closes windows on the wall clock', async () => {
    const d = new TestDriver(counting(), { startTime: T0, reportsCaughtUp: true })
    await d.init()
    pipe(d, 'a', 100)
    await caughtUpFor(d, 1399)
    assert.deepEqual(closed(d), [], 'not before end + grace')
    await caughtUpFor(d, 200)
    assert.deepEqual(closed(d), [['a', 0, 1]])
  })

  it('no window closes while the source is not caught up (broker unreachable); the backlog is on time once it is back', async () => {
    const d = new TestDriver(counting(), { startTime: T0, reportsCaughtUp: true })
    await d.init()
    pipe(d, 'a', 100)
    await caughtUpFor(d, 1000)
    pipe(d, 'a', 1100)
    d.caughtUp('in')
    // The broker goes away: no fetch succeeds, for a minute of wall time.
    await d.advance(60_000)
    assert.deepEqual(closed(d), [], 'a minute of quiet is no lack of data while Kafka cannot be read')
    // Back: the backlog written meanwhile arrives, its event times long behind the wall clock.
    pipe(d, 'a', 1900)
    pipe(d, 'a', 2300)
    assert.equal(d.deadLetters().length, 0, 'nothing is late')
    assert.deepEqual(closed(d), [['a', 0, 1]], 'event time closes what it passed')
    await d.advance(60_000)
    assert.deepEqual(closed(d), [['a', 0, 1]], 'still reading the backlog: the wall clock waits')
    await caughtUpFor(d, 1300)
    assert.deepEqual(closed(d), [
      ['a', 0, 1],
      ['a', 1000, 2],
      ['a', 2000, 1],
    ])
  })

  it('quiet does not span an outage: drained right after it, the records producers held meanwhile are on time', async () => {
    const run = async (reconnected: boolean) => {
      const d = new TestDriver(counting(), { startTime: T0, reportsCaughtUp: true })
      await d.init()
      pipe(d, 'a', 100)
      d.caughtUp('in')
      // The broker freezes for 15 s: no fetch answers, and the producers' records wait with it.
      await d.advance(15_000)
      // Back: the first fetch finds the partition at its end before the producers' backlog lands.
      if (reconnected) d.reconnected('in')
      await caughtUpFor(d, 1000)
      pipe(d, 'a', 700)
      pipe(d, 'a', 1700)
      return d
    }
    const d = await run(true)
    assert.equal(d.deadLetters().length, 0, 'the held-up record is not late')
    assert.deepEqual(closed(d), [['a', 0, 2]], 'event time closes what it passed')
    await caughtUpFor(d, 700)
    assert.deepEqual(closed(d), [['a', 0, 2]], 'quiet since the last record: not yet')
    await caughtUpFor(d, 200)
    assert.deepEqual(
      closed(d),
      [
        ['a', 0, 2],
        ['a', 1000, 1],
      ],
      'then the wall clock closes windows again',
    )
    // Without the source's word on the outage the 15 s count as quiet, and the record is dead-lettered.
    const blind = await run(false)
    assert.equal(blind.deadLetters()[0]?.info.code, ErrorCode.LATE_RECORD)
  })

  it('a partition with a backlog holds the wall clock back even while the others are caught up', async () => {
    const d = new TestDriver(counting(), { startTime: T0, reportsCaughtUp: true, partitions: 2 })
    await d.init()
    pipe(d, 'a', 100, 0)
    pipe(d, 'b', 200, 1)
    await caughtUpFor(d, 5000, 0)
    assert.deepEqual(closed(d), [], 'partition 1 has not been read to its end')
    pipe(d, 'b', 900, 1)
    await caughtUpFor(d, 2000)
    assert.deepEqual(closed(d), [
      ['a', 0, 1],
      ['b', 0, 2],
    ])
  })

  it('without the signal (input always at hand) the same outage closes the window and the backlog is late', async () => {
    const d = new TestDriver(counting(), { startTime: T0 })
    await d.init()
    pipe(d, 'a', 100)
    await d.advance(60_000)
    assert.deepEqual(closed(d), [['a', 0, 1]])
    pipe(d, 'a', 900)
    assert.equal(d.deadLetters()[0]?.info.code, ErrorCode.LATE_RECORD)
  })
})

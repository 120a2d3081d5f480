import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { count } from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import type { WindowResult } from '../../src/dsl/windowed.ts'
import type { Metrics } from '../../src/ops/metrics.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { tumbling } from '../../src/time/windows.ts'

interface Trip {
  readonly trip: string
  readonly driver: string
  readonly t: number
}

const T0 = Date.UTC(2026, 0, 1)

/** Trips are keyed by trip id; the count is per driver. */
function tripsPerDriver(repartition: boolean) {
  const p = pipeline('trips')
  p.stream<Trip>('trips')
    .groupBy((t) => t.driver, { name: 'by-driver', ...(repartition ? {} : { repartition: false }) })
    .window(tumbling({ size: 60_000 }), { timestamp: (t) => t.t })
    .aggregate(count(), { name: 'per-driver', emit: 'final' })
    .to('out')
  return p
}

function pipe(d: TestDriver, trips: ReadonlyArray<[string, string, number, number]>): void {
  for (const [trip, driver, t, partition] of trips)
    d.input<Trip>('trips').pipe({ trip, driver, t: T0 + t }, { key: trip, partition })
}

const results = (d: TestDriver) =>
  d
    .output<WindowResult<string, number>>('out')
    .values()
    .map((w) => [w.key, w.value])
    .sort()

describe('groupBy with repartition', () => {
  const trips: Array<[string, string, number, number]> = [
    ['t1', 'alice', 1000, 0],
    ['t2', 'alice', 2000, 1],
    ['t3', 'bob', 3000, 1],
    ['t4', 'alice', 4000, 0],
  ]

  it('brings every record of a group to one partition, so groups are complete across input partitions', async () => {
    const d = new TestDriver(tripsPerDriver(true), { startTime: T0, partitions: 2 })
    await d.init()
    pipe(d, trips)
    await d.advance(120_000)
    assert.deepEqual(results(d), [
      ['alice', 3],
      ['bob', 1],
    ])
    assert.ok(d.broker.all('trips-by-driver-repartition').length === 4)
  })

  it('without it, state is per input partition and a group spread over partitions is split', async () => {
    const d = new TestDriver(tripsPerDriver(false), { startTime: T0, partitions: 2 })
    await d.init()
    pipe(d, trips)
    await d.advance(120_000)
    assert.deepEqual(results(d), [
      ['alice', 1],
      ['alice', 2],
      ['bob', 1],
    ])
  })

  it('a restart resumes the repartition topic from its committed offsets', async () => {
    const d1 = new TestDriver(tripsPerDriver(true), { startTime: T0, partitions: 2 })
    await d1.init()
    pipe(d1, trips.slice(0, 3))
    await d1.checkpoint()
    const d2 = new TestDriver(tripsPerDriver(true), { startTime: T0, partitions: 2, broker: d1.broker })
    await d2.init()
    d2.input<Trip>('trips').pipe(
      { trip: 't4', driver: 'alice', t: T0 + 4000 },
      { key: 't4', partition: 0, offset: 1 },
    )
    await d2.advance(120_000)
    assert.deepEqual(results(d2), [
      ['alice', 3],
      ['bob', 1],
    ])
    const skipped = (d2.metrics as Metrics).snapshot().weir_state_replay_skipped_total
    assert.ok(skipped === 0 || skipped === undefined, 'nothing committed was read again')
  })

  it('is the default: an unnamed grouping is named after its aggregation', () => {
    const p = pipeline('x')
    p.stream<Trip>('trips')
      .groupBy((t) => t.driver)
      .window(tumbling({ size: 60_000 }), { timestamp: (t) => t.t })
      .aggregate(count(), { name: 'per-driver', emit: 'final' })
    const internal = p.topology.topics().filter((t) => t.role === 'internal').map((t) => t.name)
    assert.deepEqual(internal.sort(), ['x-per-driver-changelog', 'x-per-driver-repartition'])
  })
})

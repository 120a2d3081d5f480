import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { aggregations, max, sum } from '../../src/dsl/aggregations.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import type { Metrics } from '../../src/ops/metrics.ts'
import { TestDriver } from '../../src/testing/driver.ts'

interface Trip {
  readonly driver: string
  readonly fare: number
}

function totals(ttl?: string) {
  const p = pipeline('fares')
  p.stream<Trip>('trips')
    // In place (trips are keyed by driver): the restart test re-reads input offsets the state includes.
    .groupBy((t) => t.driver, { repartition: false })
    .aggregate(aggregations({ total: sum((t: Trip) => t.fare), top: max((t: Trip) => t.fare) }), {
      name: 'totals',
      ttl: ttl as '1h' | undefined,
    })
    .to('driver-totals')
  return p
}

describe('grouped (unwindowed) aggregates', () => {
  it('emit the running result per key on every record', async () => {
    const d = new TestDriver(totals())
    await d.init()
    d.input<Trip>('trips')
      .pipe({ driver: 'x', fare: 10 }, { key: 'x' })
      .pipe({ driver: 'y', fare: 5 }, { key: 'y' })
      .pipe({ driver: 'x', fare: 30 }, { key: 'x' })
    assert.deepEqual(d.output('driver-totals').keyValues(), [
      ['x', { total: 10, top: 10 }],
      ['y', { total: 5, top: 5 }],
      ['x', { total: 40, top: 30 }],
    ])
  })

  it('count and reduce', async () => {
    const p = pipeline('cr')
    const g = p.stream<Trip>('trips').groupByKey()
    g.count({ name: 'n' }).to('counts')
    g.reduce((a, b) => (b.fare > a.fare ? b : a), { name: 'best' })
      .map((t) => t.fare)
      .to('best')
    const d = new TestDriver(p)
    await d.init()
    d.input<Trip>('trips')
      .pipe({ driver: 'x', fare: 10 }, { key: 'x' })
      .pipe({ driver: 'x', fare: 3 }, { key: 'x' })
      .pipe({ driver: 'x', fare: 12 }, { key: 'x' })
    assert.deepEqual(d.output('counts').values(), [1, 2, 3])
    assert.deepEqual(d.output('best').values(), [10, 10, 12])
  })

  it('continue from the changelog after a restart and skip records already included', async () => {
    const d1 = new TestDriver(totals())
    await d1.init()
    const t = d1.input<Trip>('trips')
    t.pipe({ driver: 'x', fare: 10 }, { key: 'x' })
    await d1.checkpoint()
    t.pipe({ driver: 'x', fare: 20 }, { key: 'x' })
    for (const p of d1.task.graph.processors) p.flushState?.()

    const d2 = new TestDriver(totals(), { broker: d1.broker })
    await d2.init()
    d2.input<Trip>('trips')
      .pipe({ driver: 'x', fare: 20 }, { key: 'x', offset: 1 })
      .pipe({ driver: 'x', fare: 1 }, { key: 'x' })
    assert.deepEqual(d2.output('driver-totals').values().at(-1), { total: 31, top: 20 })
  })

  it('forget keys quiet for longer than the ttl, writing tombstones', async () => {
    const d = new TestDriver(totals('1h'))
    await d.init()
    d.input<Trip>('trips').pipe({ driver: 'x', fare: 10 }, { key: 'x' })
    await d.advance(30 * 60_000)
    d.input<Trip>('trips').pipe({ driver: 'y', fare: 10 }, { key: 'y' })
    await d.advance(31 * 60_000)
    assert.deepEqual((d.metrics as Metrics).snapshot().weir_state_keys, { 'operator=totals,partition=0': 1 })
    d.input<Trip>('trips').pipe({ driver: 'x', fare: 1 }, { key: 'x' })
    assert.deepEqual(d.output('driver-totals').values().at(-1), { total: 1, top: 1 }, 'x starts over')
    await d.checkpoint()
    assert.deepEqual((d.metrics as Metrics).snapshot().weir_state_evicted_total, {
      'operator=totals,reason=ttl': 1,
    })
  })

  it('needs a name for durable state', () => {
    const g = pipeline('n').stream<Trip>('trips').groupByKey()
    assert.throws(() => g.count({}), /durable state needs a stable `name`/)
    g.count({ durable: false })
  })
})

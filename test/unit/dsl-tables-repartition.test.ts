import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Serde, string } from '../../src/core/serde.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { TestDriver } from '../../src/testing/driver.ts'

interface Trip {
  readonly trip: string
  readonly driver: string
}

const T0 = Date.UTC(2026, 0, 1)

const internalTopics = (p: ReturnType<typeof pipeline>) =>
  p.topology
    .topics()
    .filter((t) => t.role === 'internal')
    .map((t) => t.name)
    .sort()

describe('repartitioning by default (test driver)', () => {
  it('groupBy on a new key counts each group whole although its records come on several partitions', async () => {
    const p = pipeline('trips')
    p.stream<Trip>('trips')
      .groupBy((t) => t.driver)
      .count({ name: 'per-driver' })
      .to('counts')
    assert.deepEqual(internalTopics(p), ['trips-per-driver-changelog', 'trips-per-driver-repartition'])
    const d = new TestDriver(p, { partitions: 2 })
    const trips = d.input<Trip, string>('trips')
    trips.pipe({ trip: 't1', driver: 'alice' }, { key: 't1', partition: 0 })
    trips.pipe({ trip: 't2', driver: 'alice' }, { key: 't2', partition: 1 })
    trips.pipe({ trip: 't3', driver: 'alice' }, { key: 't3', partition: 1 })
    await d.settle()
    assert.deepEqual(d.output<number>('counts').keyValues(), [
      ['alice', 1],
      ['alice', 2],
      ['alice', 3],
    ])
  })

  it('groupBy with repartition: false groups per input partition in place (no topic)', async () => {
    const p = pipeline('trips')
    p.stream<Trip>('trips')
      .groupBy((t) => t.driver, { repartition: false })
      .count({ name: 'per-driver' })
      .to('counts')
    assert.deepEqual(internalTopics(p), ['trips-per-driver-changelog'])
    const d = new TestDriver(p, { partitions: 2 })
    const trips = d.input<Trip, string>('trips')
    trips.pipe({ trip: 't1', driver: 'alice' }, { key: 't1', partition: 0 })
    trips.pipe({ trip: 't2', driver: 'alice' }, { key: 't2', partition: 1 })
    await d.settle()
    assert.deepEqual(d.output<number>('counts').values(), [1, 1], 'one partial count per partition')
  })

  it('groupByKey repartitions only a re-keyed stream, carrying its key serde', async () => {
    const plain = pipeline('a')
    plain.stream<Trip>('trips').groupByKey().count({ name: 'n' })
    assert.deepEqual(internalTopics(plain), ['a-n-changelog'])

    const p = pipeline('b')
    p.stream<Trip>('trips')
      .selectKey((t) => t.driver)
      .groupByKey({ key: string() as Serde<string> })
      .count({ name: 'n' })
      .to('counts')
    assert.deepEqual(internalTopics(p), ['b-n-changelog', 'b-n-repartition'])
    const d = new TestDriver(p, { partitions: 2 })
    const trips = d.input<Trip, string>('trips')
    trips.pipe({ trip: 't1', driver: 'bob' }, { key: 't1', partition: 0 })
    trips.pipe({ trip: 't2', driver: 'bob' }, { key: 't2', partition: 1 })
    await d.settle()
    assert.deepEqual(
      d.broker.all('b-n-repartition').map((r) => r.key?.toString()),
      ['bob', 'bob'],
      'keys written with the given serde (plain text, not JSON)',
    )
    assert.deepEqual(d.output<number>('counts').keyValues(), [
      ['bob', 1],
      ['bob', 2],
    ])
  })

  it('carries the value serde the stream was read with, the timestamp and the headers', async () => {
    const p = pipeline('c')
    p.stream<string | null>('lines', { value: string() })
      .groupBy((line) => line?.slice(0, 1) ?? '')
      .count({ name: 'by-letter' })
      .to('counts')
    const d = new TestDriver(p)
    d.input<string | null, string>('lines').pipe('apple', {
      timestamp: T0 + 5,
      headers: { trace: Buffer.from('x1') },
    })
    await d.settle()
    const [r] = d.broker.all('c-by-letter-repartition')
    assert.equal(r?.value?.toString(), 'apple', 'the string serde, not JSON ("\\"apple\\"")')
    assert.equal(r?.timestamp, T0 + 5)
    assert.equal(r?.headers.trace?.toString(), 'x1')
    assert.equal(d.output('counts').records()[0]?.timestamp, T0 + 5)
  })

  it('two aggregations of one named grouping share its topic; another stream may not take the name', () => {
    const p = pipeline('d')
    const s = p.stream<Trip>('trips')
    const g = s.groupBy((t) => t.driver, { name: 'by-driver' })
    g.count({ name: 'n1' })
    g.count({ name: 'n2' })
    assert.deepEqual(internalTopics(p), ['d-by-driver-repartition', 'd-n1-changelog', 'd-n2-changelog'])
    assert.throws(
      () =>
        s
          .filter(() => true)
          .groupBy((t) => t.trip, { name: 'by-driver' })
          .count({ name: 'n3' }),
      /two different streams repartition through "d-by-driver-repartition"/,
    )
  })

  it('the topic takes its source partition count (a join: the table topic count)', () => {
    const p = pipeline('e')
    const products = p.table<{ title: string }>('products', { name: 'products' })
    const orders = p.stream<{ product: string }>('orders').selectKey((o) => o.product)
    orders.join(products, (o, pr) => ({ ...o, title: pr.title }), { name: 'enrich' })
    orders.groupByKey().count({ name: 'per-product' })
    const decl = new Map(p.topology.topics().map((t) => [t.name, t]))
    assert.deepEqual(decl.get('e-enrich-repartition')?.partitionsLike, ['products'])
    assert.deepEqual(decl.get('e-per-product-repartition')?.partitionsLike, ['orders'])
  })

  it('a stream–table join of a re-keyed stream reads the table partition holding each key', async () => {
    const p = pipeline('shop')
    const products = p.table<{ title: string }>('products', { name: 'products' })
    p.stream<{ id: string; product: string }>('orders')
      .selectKey((o) => o.product)
      .join(products, (o, pr) => `${o.id}:${pr.title}`, { name: 'enrich' })
      .to('enriched')
    const d = new TestDriver(p, { partitions: 2 })
    d.broker.createTopic('products', 2)
    // Written keyed (no partition given): the broker's partitioner places them, as a producer would.
    for (const [k, title] of [
      ['p1', 'Kettle'],
      ['p2', 'Toaster'],
      ['p3', 'Lamp'],
    ] as const)
      d.broker.append(
        { topic: 'products', key: Buffer.from(k), value: Buffer.from(JSON.stringify({ title })) },
        T0,
      )
    await d.init()
    const orders = d.input<{ id: string; product: string }, string>('orders')
    orders.pipe({ id: 'o1', product: 'p1' }, { key: 'o1', partition: 0 })
    orders.pipe({ id: 'o2', product: 'p2' }, { key: 'o2', partition: 0 })
    orders.pipe({ id: 'o3', product: 'p3' }, { key: 'o3', partition: 1 })
    await d.settle()
    assert.deepEqual(d.output('enriched').values().sort(), ['o1:Kettle', 'o2:Toaster', 'o3:Lamp'])
  })

  it('a stream–stream join repartitions the re-keyed side like the other side', async () => {
    const p = pipeline('ads')
    const views = p.stream<{ user: string }, string>('views') // keyed by user
    p.stream<{ user: string; ad: string }, string>('clicks') // keyed by click id
      .selectKey((c) => c.user)
      .join(views, (c) => c.ad, { name: 'click-view', within: '5s' })
      .to('joined')
    assert.deepEqual(internalTopics(p), ['ads-click-view-changelog', 'ads-click-view-left-repartition'])
    const d = new TestDriver(p, { partitions: 2 })
    const v = d.input<{ user: string }, string>('views')
    // Views sit where the partitioner puts user keys: find it by writing them keyed.
    d.broker.createTopic('views', 2)
    for (const user of ['u1', 'u2']) {
      const r = d.broker.append({ topic: 'views', key: Buffer.from(user), value: Buffer.from('{}') }, T0)
      v.pipe({ user }, { key: user, partition: r.partition, timestamp: T0 })
    }
    const clicks = d.input<{ user: string; ad: string }, string>('clicks')
    clicks.pipe({ user: 'u1', ad: 'a1' }, { key: 'c1', partition: 0, timestamp: T0 + 1000 })
    clicks.pipe({ user: 'u2', ad: 'a2' }, { key: 'c2', partition: 1, timestamp: T0 + 1000 })
    clicks.pipe({ user: 'u2', ad: 'a3' }, { key: 'c3', partition: 0, timestamp: T0 + 1000 })
    await d.settle()
    assert.deepEqual(d.output('joined').values().sort(), ['a1', 'a2', 'a3'])
  })

  it('a re-keyed stream stays re-keyed through filter, map and merge; repartition: false keeps a join in place', () => {
    const p = pipeline('f')
    const trips = p.stream<Trip>('trips')
    const byDriver = trips.selectKey((t) => t.driver)
    byDriver
      .filter(() => true)
      .map((t) => t.trip)
      .groupByKey()
      .count({ name: 'after-map' })
    trips.merge(byDriver).groupByKey().count({ name: 'after-merge' })
    trips
      .filter(() => true)
      .groupByKey()
      .count({ name: 'never-re-keyed' })
    const products = p.table<{ title: string }>('products', { name: 'products' })
    byDriver.join(products, (t) => t, { name: 'in-place', repartition: false })
    assert.deepEqual(
      internalTopics(p).filter((t) => t.endsWith('-repartition')),
      ['f-after-map-repartition', 'f-after-merge-repartition'],
    )
  })
})

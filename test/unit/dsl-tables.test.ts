import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import type { RawRecord } from '../../src/core/record.ts'
import { json, string } from '../../src/core/serde.ts'
import { TableJoin } from '../../src/dsl/operators/table-join.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { queryableStores } from '../../src/state/query.ts'
import { TableStore } from '../../src/state/table-store.ts'
import { TestDriver } from '../../src/testing/driver.ts'

interface Order {
  readonly id: string
  readonly product: string
  readonly qty: number
}
interface Product {
  readonly title: string
  readonly price: number
}

/** Writes a table record (null value = tombstone) straight to the in-memory broker. */
function put(driver: TestDriver, topic: string, key: string, value: unknown, partition = 0): void {
  driver.broker.append(
    {
      topic,
      partition,
      key: Buffer.from(key),
      value: value === null ? null : Buffer.from(JSON.stringify(value)),
    },
    driver.clock.now(),
  )
}

/** Moves the virtual clock past the tables' refresh and waits for the reads it started. */
async function refreshTables(driver: TestDriver): Promise<void> {
  await driver.advance(500)
  for (const p of driver.task.graph.processors) if (p instanceof TableJoin) await p.refresh()
}

function ordersPipeline(inner: boolean) {
  const p = pipeline('shop')
  const products = p.table<Product>('products', { name: 'products' })
  const orders = p.stream<Order>('orders')
  const joined = inner
    ? orders.join(products, (o, pr) => ({ ...o, title: pr.title, total: pr.price * o.qty }))
    : orders.leftJoin(products, (o, pr) => ({ ...o, title: pr?.title ?? null }))
  joined.to('orders-enriched')
  return p
}

describe('stream–table join (test driver)', () => {
  it('join enriches each record with the table value for its key and drops records with none', async () => {
    const driver = new TestDriver(ordersPipeline(true))
    put(driver, 'products', 'p1', { title: 'Kettle', price: 20 })
    put(driver, 'products', 'p2', { title: 'Toaster', price: 35 })
    await driver.init()
    const orders = driver.input<Order, string>('orders')
    orders.pipe({ id: 'o1', product: 'p1', qty: 2 }, { key: 'p1' })
    orders.pipe({ id: 'o2', product: 'p9', qty: 1 }, { key: 'p9' })
    orders.pipe({ id: 'o3', product: 'p2', qty: 1 }, { key: 'p2' })
    await driver.settle()
    assert.deepEqual(driver.output('orders-enriched').values(), [
      { id: 'o1', product: 'p1', qty: 2, title: 'Kettle', total: 40 },
      { id: 'o3', product: 'p2', qty: 1, title: 'Toaster', total: 35 },
    ])
  })

  it('leftJoin passes records with no table value, with undefined as the table value', async () => {
    const driver = new TestDriver(ordersPipeline(false))
    put(driver, 'products', 'p1', { title: 'Kettle', price: 20 })
    await driver.init()
    driver
      .input<Order, string>('orders')
      .pipe({ id: 'o1', product: 'p1', qty: 1 }, { key: 'p1' })
      .pipe({ id: 'o2', product: 'p9', qty: 1 }, { key: 'p9' })
    await driver.settle()
    assert.deepEqual(
      driver
        .output('orders-enriched')
        .values()
        .map((v) => (v as { title: unknown }).title),
      ['Kettle', null],
    )
  })

  it('a later record sees an updated value, and a tombstone deletes the key', async () => {
    const driver = new TestDriver(ordersPipeline(false))
    put(driver, 'products', 'p1', { title: 'Kettle', price: 20 })
    await driver.init()
    const orders = driver.input<Order, string>('orders')
    orders.pipe({ id: 'o1', product: 'p1', qty: 1 }, { key: 'p1' })
    put(driver, 'products', 'p1', { title: 'Kettle II', price: 25 })
    await refreshTables(driver)
    orders.pipe({ id: 'o2', product: 'p1', qty: 1 }, { key: 'p1' })
    put(driver, 'products', 'p1', null)
    await refreshTables(driver)
    orders.pipe({ id: 'o3', product: 'p1', qty: 1 }, { key: 'p1' })
    await driver.settle()
    assert.deepEqual(
      driver
        .output('orders-enriched')
        .values()
        .map((v) => (v as { title: unknown }).title),
      ['Kettle', 'Kettle II', null],
    )
  })

  it('a restarted app has the table loaded before its first record (restored from the topic)', async () => {
    const first = new TestDriver(ordersPipeline(true))
    put(first, 'products', 'p1', { title: 'Kettle', price: 20 })
    put(first, 'products', 'p2', { title: 'Toaster', price: 35 })
    put(first, 'products', 'p2', null)
    await first.close()
    const again = new TestDriver(ordersPipeline(true), { broker: first.broker })
    await again.init()
    again
      .input<Order, string>('orders')
      .pipe({ id: 'o1', product: 'p1', qty: 1 }, { key: 'p1' })
      .pipe({ id: 'o2', product: 'p2', qty: 1 }, { key: 'p2' })
    await again.settle()
    assert.deepEqual(
      again
        .output('orders-enriched')
        .values()
        .map((v) => (v as { id: string }).id),
      ['o1'],
    )
    await again.close()
  })

  it('each partition of the stream looks up the same partition of the table', async () => {
    const driver = new TestDriver(ordersPipeline(false), { partitions: 2 })
    driver.broker.createTopic('products', 2)
    put(driver, 'products', 'k', { title: 'on-0', price: 1 }, 0)
    put(driver, 'products', 'k', { title: 'on-1', price: 1 }, 1)
    await driver.init()
    const orders = driver.input<Order, string>('orders')
    orders.pipe({ id: 'a', product: 'k', qty: 1 }, { key: 'k', partition: 1 })
    orders.pipe({ id: 'b', product: 'k', qty: 1 }, { key: 'k', partition: 0 })
    await driver.settle()
    assert.deepEqual(
      driver
        .output('orders-enriched')
        .values()
        .map((v) => (v as { title: unknown }).title),
      ['on-1', 'on-0'],
    )
  })

  it('a table whose topic has another partition count than the stream fails at start, naming both', async () => {
    const driver = new TestDriver(ordersPipeline(true), { partitions: 1 })
    driver.broker.createTopic('products', 3)
    await assert.rejects(driver.init(), (err: unknown) => {
      assert.ok(err instanceof WeirError)
      assert.equal(err.code, ErrorCode.TOPOLOGY_INVALID)
      assert.match(err.message, /stream topic "orders" has 1 partitions but table topic "products" has 3/)
      return true
    })
  })

  it('a joiner that throws sends the record to the dead-letter topic, naming the join; the rest pass', async () => {
    const p = pipeline('shop')
    const products = p.table<Product>('products', { name: 'products' })
    p.stream<Order>('orders')
      .join(
        products,
        (o, pr) => {
          if (o.qty < 0) throw new Error('negative quantity')
          return { ...o, title: pr.title }
        },
        { name: 'with-product', onError: () => 'dlq' },
      )
      .to('orders-enriched')
    const driver = new TestDriver(p)
    put(driver, 'products', 'p1', { title: 'Kettle', price: 20 })
    await driver.init()
    driver
      .input<Order, string>('orders')
      .pipe({ id: 'bad', product: 'p1', qty: -1 }, { key: 'p1' })
      .pipe({ id: 'ok', product: 'p1', qty: 1 }, { key: 'p1' })
    await driver.settle()
    assert.deepEqual(
      driver
        .output('orders-enriched')
        .values()
        .map((v) => (v as Order).id),
      ['ok'],
    )
    const dead = driver.deadLetters()
    assert.equal(dead.length, 1)
    assert.equal(dead[0]?.info.stage, 'with-product')
    assert.match(String(dead[0]?.info.message), /negative quantity/)
  })

  it('rejects a table without a name and a join with a non-function joiner', () => {
    const p = pipeline('bad')
    assert.throws(() => p.table('t', {} as { name: string }), /give a stable \{ name \}/)
    const t = p.table('t', { name: 't' })
    assert.throws(() => p.stream('s').join(t, 42 as unknown as () => unknown), /joiner must be a function/)
  })
})

describe('stream–global table join (test driver)', () => {
  interface Trip {
    readonly id: string
    readonly city: string
  }

  function tripsPipeline() {
    const p = pipeline('trips')
    const cities = p.globalTable<{ name: string }>('cities', { name: 'cities' })
    p.stream<Trip>('trips')
      .join(cities, (t, c) => ({ ...t, cityName: c.name }), { key: (t) => t.city })
      .to('trips-enriched')
    return p
  }

  it('every partition of the stream sees the whole table, looked up by a key taken from the value', async () => {
    const driver = new TestDriver(tripsPipeline(), { partitions: 2 })
    driver.broker.createTopic('cities', 3)
    put(driver, 'cities', 'lon', { name: 'London' }, 0)
    put(driver, 'cities', 'par', { name: 'Paris' }, 2)
    await driver.init()
    const trips = driver.input<Trip>('trips')
    trips.pipe({ id: 't1', city: 'par' }, { partition: 0 })
    trips.pipe({ id: 't2', city: 'lon' }, { partition: 1 })
    trips.pipe({ id: 't3', city: 'xxx' }, { partition: 1 })
    await driver.settle()
    assert.deepEqual(driver.output('trips-enriched').values(), [
      { id: 't1', city: 'par', cityName: 'Paris' },
      { id: 't2', city: 'lon', cityName: 'London' },
    ])
  })

  it('is kept up to date while running, and its store can be queried by key and prefix', async () => {
    const driver = new TestDriver(tripsPipeline())
    put(driver, 'cities', 'lon', { name: 'London' })
    await driver.init()
    put(driver, 'cities', 'ber', { name: 'Berlin' })
    put(driver, 'cities', 'bru', { name: 'Brussels' })
    await refreshTables(driver)
    driver.input<Trip>('trips').pipe({ id: 't1', city: 'ber' })
    await driver.settle()
    assert.equal(driver.output('trips-enriched').size, 1)
    const store = queryableStores(driver.task.graph.processors).get('cities')
    assert.ok(store)
    assert.equal(store.kind, 'global-table')
    assert.deepEqual(store.get('lon'), { state: 'found', value: { name: 'London' } })
    assert.deepEqual(store.get('nowhere'), { state: 'missing' })
    const page1 = store.range({ prefix: 'b', limit: 1 })
    assert.deepEqual(page1.entries, [{ key: 'ber', value: { name: 'Berlin' } }])
    assert.equal(page1.next, 'ber')
    const page2 = store.range({ prefix: 'b', limit: 1, after: page1.next })
    assert.deepEqual(page2.entries, [{ key: 'bru', value: { name: 'Brussels' } }])
    assert.equal(page2.next, undefined)
  })
})

describe('TableStore', () => {
  it('answers "restoring" for a key of a partition still loading, then the value', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const record: RawRecord = {
      topic: 't',
      partition: 0,
      offset: 0,
      key: Buffer.from('k'),
      value: Buffer.from('1'),
      headers: {},
      timestamp: 0,
    }
    const read = async function* () {
      await gate
      yield [record]
    }
    const store = new TableStore({ name: 't', topic: 't', key: string(), value: json() }, read, false)
    store.partitionCount = 1
    const loading = store.load(0)
    assert.deepEqual(store.get('k'), { state: 'restoring', retryAfterSeconds: 1 })
    release()
    await loading
    assert.deepEqual(store.get('k'), { state: 'found', value: 1 })
  })

  it('says a key lives elsewhere when its partition is not held here', async () => {
    const store = new TableStore(
      { name: 't', topic: 't', key: string(), value: json() },
      async function* () {},
      false,
    )
    store.partitionCount = 8
    await store.load(0)
    const states = new Set(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => store.get(k).state))
    assert.ok(states.has('elsewhere'), `expected some key on another partition, got ${[...states]}`)
  })
})

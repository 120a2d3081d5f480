import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pipeline } from '../../src/dsl/stream.ts'
import { TestDriver } from '../../src/testing/driver.ts'

const T0 = Date.UTC(2026, 0, 1)

interface Order {
  readonly id: string
}
interface Payment {
  readonly pay: string
}

function ordersPayments(kind: 'left' | 'outer') {
  const p = pipeline('shop')
  const payments = p.stream<Payment>('payments')
  const orders = p.stream<Order>('orders')
  const options = { name: 'order-payment', within: '10s', grace: '2s' } as const
  const joined =
    kind === 'left'
      ? orders.leftJoin(payments, (o, pay) => `${o.id}+${pay?.pay ?? '-'}`, options)
      : orders.outerJoin(payments, (o, pay) => `${o?.id ?? '-'}+${pay?.pay ?? '-'}`, options)
  joined.to('joined')
  return p
}

describe('stream–stream left and outer joins (test driver, virtual clock)', () => {
  it('leftJoin emits matches at once and an unmatched left record once the right side is past its window + grace', async () => {
    const d = new TestDriver(ordersPayments('left'), { startTime: T0 })
    const orders = d.input<Order, string>('orders')
    const payments = d.input<Payment, string>('payments')
    orders.pipe({ id: 'o1' }, { key: 'k1', timestamp: T0 })
    orders.pipe({ id: 'o2' }, { key: 'k2', timestamp: T0 })
    payments.pipe({ pay: 'p1' }, { key: 'k1', timestamp: T0 + 3000 })
    await d.advance(1000)
    assert.deepEqual(d.output('joined').values(), ['o1+p1'], 'o2 may still meet a payment')
    payments.pipe({ pay: 'x' }, { key: 'k9', timestamp: T0 + 11_000 }) // right time: 11 s, not past 10 + 2
    await d.advance(1000)
    assert.deepEqual(d.output('joined').values(), ['o1+p1'])
    payments.pipe({ pay: 'y' }, { key: 'k9', timestamp: T0 + 12_001 })
    await d.advance(1000)
    assert.deepEqual(d.output('joined').values(), ['o1+p1', 'o2+-'], 'o2 unmatched, o1 not repeated')
    const unmatched = d.output('joined').records()[1]!
    assert.equal(unmatched.key, 'k2')
    assert.equal(unmatched.timestamp, T0, 'an unmatched record keeps its own time')
  })

  it('a side read far ahead of the other makes no record look unmatched', async () => {
    const d = new TestDriver(ordersPayments('left'), { startTime: T0 })
    const orders = d.input<Order, string>('orders')
    const payments = d.input<Payment, string>('payments')
    for (let i = 0; i < 10; i++) orders.pipe({ id: `o${i}` }, { key: `k${i}`, timestamp: T0 + i * 60_000 })
    await d.advance(5000)
    assert.equal(d.output('joined').size, 0)
    for (let i = 0; i < 10; i++)
      payments.pipe({ pay: `p${i}` }, { key: `k${i}`, timestamp: T0 + i * 60_000 + 1 })
    await d.advance(5000)
    assert.deepEqual(
      d.output('joined').values(),
      Array.from({ length: 10 }, (_, i) => `o${i}+p${i}`),
    )
  })

  it('outerJoin emits the unmatched records of both sides, each once', async () => {
    const d = new TestDriver(ordersPayments('outer'), { startTime: T0 })
    const orders = d.input<Order, string>('orders')
    const payments = d.input<Payment, string>('payments')
    orders.pipe({ id: 'o1' }, { key: 'a', timestamp: T0 })
    payments.pipe({ pay: 'p1' }, { key: 'b', timestamp: T0 })
    orders.pipe({ id: 'o2' }, { key: 'c', timestamp: T0 + 1000 })
    payments.pipe({ pay: 'p2' }, { key: 'c', timestamp: T0 + 2000 })
    orders.pipe({ id: 'late-mover' }, { key: 'z', timestamp: T0 + 30_000 })
    payments.pipe({ pay: 'late-mover' }, { key: 'y', timestamp: T0 + 30_000 })
    await d.advance(1000)
    await d.advance(1000)
    assert.deepEqual(d.output('joined').keyValues().sort(), [
      ['a', 'o1+-'],
      ['b', '-+p1'],
      ['c', 'o2+p2'],
    ])
  })

  it('a restart restores the buffers: a record matched before the crash is not emitted as unmatched', async () => {
    const d1 = new TestDriver(ordersPayments('left'), { startTime: T0 })
    d1.input<Order, string>('orders').pipe({ id: 'o1' }, { key: 'k1', timestamp: T0 })
    d1.input<Order, string>('orders').pipe({ id: 'o2' }, { key: 'k2', timestamp: T0 })
    d1.input<Payment, string>('payments').pipe({ pay: 'p1' }, { key: 'k1', timestamp: T0 + 1000 })
    await d1.checkpoint()
    const d2 = new TestDriver(ordersPayments('left'), { startTime: T0, broker: d1.broker })
    await d2.init()
    d2.input<Payment, string>('payments').pipe({ pay: 'x' }, { key: 'k9', timestamp: T0 + 60_000, offset: 1 })
    await d2.advance(1000)
    assert.deepEqual(d2.output('joined').values(), ['o1+p1', 'o2+-'])
  })
})

interface Customer {
  readonly name: string
}
interface Balance {
  readonly amount: number
}

function accounts(kind: 'inner' | 'left' | 'outer') {
  const p = pipeline('bank')
  const customers = p.table<Customer>('customers', { name: 'customers' })
  const balances = p.table<Balance>('balances', { name: 'balances' })
  const joiner = (c: Customer | undefined, b: Balance | undefined) => `${c?.name ?? '-'}:${b?.amount ?? '-'}`
  const options = { name: 'accounts' }
  const joined =
    kind === 'inner'
      ? customers.join(balances, joiner, options)
      : kind === 'left'
        ? customers.leftJoin(balances, joiner, options)
        : customers.outerJoin(balances, joiner, options)
  joined.toStream().to('accounts')
  return p
}

function tables(d: TestDriver) {
  return {
    customer: (k: string, v: Customer | null) =>
      d.input<Customer | null, string>('customers').pipe(v, { key: k }),
    balance: (k: string, v: Balance | null) =>
      d.input<Balance | null, string>('balances').pipe(v, { key: k }),
    changes: () =>
      d
        .output<string | null>('accounts', {
          value: {
            name: 'nullable',
            serialize: () => null,
            deserialize: (b) => (b === null ? null : JSON.parse(b.toString())),
          },
        })
        .keyValues(),
  }
}

describe('table–table joins (test driver)', () => {
  it('inner join: a result while both tables hold the key, a tombstone when one side deletes it', async () => {
    const d = new TestDriver(accounts('inner'))
    const t = tables(d)
    t.customer('c1', { name: 'Ada' })
    t.balance('c1', { amount: 10 })
    t.balance('c2', { amount: 5 })
    t.balance('c1', { amount: 12 })
    t.customer('c1', null)
    await d.settle()
    assert.deepEqual(t.changes(), [
      ['c1', 'Ada:10'],
      ['c1', 'Ada:12'],
      ['c1', null],
    ])
  })

  it('left join: a result for each left key, the right value when there is one', async () => {
    const d = new TestDriver(accounts('left'))
    const t = tables(d)
    t.balance('c1', { amount: 10 })
    t.customer('c1', { name: 'Ada' })
    t.customer('c2', { name: 'Bo' })
    t.balance('c2', { amount: 1 })
    t.balance('c2', null)
    await d.settle()
    assert.deepEqual(t.changes(), [
      ['c1', 'Ada:10'],
      ['c2', 'Bo:-'],
      ['c2', 'Bo:1'],
      ['c2', 'Bo:-'],
    ])
  })

  it('outer join: a result while either table holds the key; queryable as store <name>', async () => {
    const d = new TestDriver(accounts('outer'))
    const t = tables(d)
    t.balance('c1', { amount: 10 })
    t.customer('c2', { name: 'Bo' })
    t.customer('c1', { name: 'Ada' })
    t.balance('c1', null)
    t.customer('c1', null)
    await d.settle()
    assert.deepEqual(t.changes(), [
      ['c1', '-:10'],
      ['c2', 'Bo:-'],
      ['c1', 'Ada:10'],
      ['c1', 'Ada:-'],
      ['c1', null],
    ])
    const store = d.task.graph.processors
      .flatMap((p) => p.stores?.() ?? [])
      .find((s) => s.name === 'accounts')!
    assert.deepEqual(store.get('c2'), { state: 'found', value: 'Bo:-' })
    assert.deepEqual(store.get('c1'), { state: 'missing' })
  })

  it('a restart restores both sides from the changelog; a record read again gives the same result', async () => {
    const d1 = new TestDriver(accounts('inner'))
    const t1 = tables(d1)
    t1.customer('c1', { name: 'Ada' })
    await d1.checkpoint()
    t1.balance('c1', { amount: 10 }) // processed, then a crash before its offset is committed
    const d2 = new TestDriver(accounts('inner'), { broker: d1.broker })
    await d2.init()
    d2.input<Balance, string>('balances').pipe({ amount: 10 }, { key: 'c1', offset: 0 }) // read again
    d2.input<Balance, string>('balances').pipe({ amount: 11 }, { key: 'c1', offset: 1 })
    await d2.settle()
    assert.deepEqual(tables(d2).changes(), [
      ['c1', 'Ada:10'],
      ['c1', 'Ada:10'],
      ['c1', 'Ada:11'],
    ])
  })

  it('checks its arguments', () => {
    const p = pipeline('x')
    const a = p.table('a', { name: 'a' })
    const g = p.globalTable('g', { name: 'g' })
    assert.throws(() => a.join(g, () => 1, { name: 'j' }), /"g" is a global table/)
    assert.throws(() => a.join(a, () => 1, {} as { name: string }), /give \{ name \}/)
    const joined = a.join(p.table('b', { name: 'b' }), () => 1, { name: 'ab' })
    assert.throws(
      () => p.stream('s').join(joined as never, () => 1),
      /is a joined table; write it to a compacted topic/,
    )
  })
})

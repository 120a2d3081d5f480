import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/metrics.ts'
import { run } from '../../src/runtime/runner.ts'
import { exited, readAll, totalEnd, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'
import { type Cleanup, testCleanup } from './helpers/services.ts'

const kafka = testKafka()
const APP = fileURLToPath(new URL('./helpers/tables-join-app.ts', import.meta.url))
const REPARTITION_APP = fileURLToPath(new URL('./helpers/tables-repartition-app.ts', import.meta.url))

interface Order {
  readonly id: string
  readonly product: string
  readonly city: string
  readonly qty: number
}

/** Runs the join app as a child; killed when the test ends (or the process exits), whatever failed. */
function spawnJoinApp(env: Record<string, string>, cleanup: Cleanup, script = APP) {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  cleanup(async () => {
    process.off('exit', kill)
    if (child.exitCode === null && child.signalCode === null) {
      const gone = exited(child)
      kill()
      await gone
    }
  })
  const chunks: string[] = []
  child.stdout.on('data', (d: Buffer) => chunks.push(d.toString()))
  child.stderr.on('data', (d: Buffer) => chunks.push(d.toString()))
  return Object.assign(child, { output: () => chunks.join('') })
}

async function produce(
  topic: string,
  records: ReadonlyArray<{ key: string; value: unknown; timestamp?: number; partition?: number }>,
): Promise<void> {
  const sink = kafka.sink({ clientId: 'weir-test-tables' })
  await sink.open()
  try {
    for (const r of records) {
      sink.add({
        topic,
        key: Buffer.from(r.key),
        value: r.value === null ? null : Buffer.from(JSON.stringify(r.value)),
        ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
        ...(r.partition === undefined ? {} : { partition: r.partition }),
      })
    }
    await sink.flush()
  } finally {
    await sink.close()
  }
}

describe('tables and joins against Kafka', { timeout: 180_000 }, () => {
  const topics: string[] = []
  after(() => deleteTopics(topics))

  it('kill -9 mid-stream, then two instances share the input: joined outputs equal a clean run', async (t) => {
    const cleanup = testCleanup(t)
    const base = uniqueName('tables-kill')
    const names = {
      ORDERS: `${base}-orders`,
      PAYMENTS: `${base}-payments`,
      PRODUCTS: `${base}-products`,
      CITIES: `${base}-cities`,
      OUT: `${base}-out`,
      PAID: `${base}-paid`,
    }
    topics.push(...Object.values(names), `${base}-app-dlq`, `${base}-app-order-payment-changelog`)
    await createTopic(undefined, { name: names.ORDERS, partitions: 3 })
    await createTopic(undefined, { name: names.PAYMENTS, partitions: 3 })
    await createTopic(undefined, {
      name: names.PRODUCTS,
      partitions: 3,
      config: { 'cleanup.policy': 'compact' },
    })
    // One partition: a global table needs no co-partitioning with the 3-partition stream.
    await createTopic(undefined, {
      name: names.CITIES,
      partitions: 1,
      config: { 'cleanup.policy': 'compact' },
    })

    // The table as it stands before the app starts: 40 products, 10 repriced, 5 deleted (tombstones).
    const products = new Map<string, { title: string; price: number }>()
    const productWrites: Array<{ key: string; value: unknown }> = []
    for (let i = 0; i < 40; i++)
      productWrites.push({ key: `p${i}`, value: { title: `Product ${i}`, price: i + 1 } })
    for (let i = 0; i < 10; i++)
      productWrites.push({ key: `p${i}`, value: { title: `Product ${i}`, price: 100 + i } })
    for (let i = 35; i < 40; i++) productWrites.push({ key: `p${i}`, value: null })
    for (const w of productWrites) {
      if (w.value === null) products.delete(w.key)
      else products.set(w.key, w.value as { title: string; price: number })
    }
    const cities = new Map([
      ['c0', 'London'],
      ['c1', 'Paris'],
      ['c2', 'Berlin'],
    ])
    await produce(names.PRODUCTS, productWrites)
    await produce(
      names.CITIES,
      [...cities].map(([key, name]) => ({ key, value: { name } })),
    )

    const N = 3000
    const orders: Order[] = Array.from({ length: N }, (_, i) => ({
      id: `o${i}`,
      product: `p${(i * 7) % 40}`,
      city: `c${i % 4}`,
      qty: 1 + (i % 3),
    }))
    // Orders of one product are 40 s apart; each order's payment comes 100 ms after it (a 1 s join window).
    const T0 = Date.UTC(2026, 0, 1)
    await produce(
      names.ORDERS,
      orders.map((o, i) => ({ key: o.product, value: o, timestamp: T0 + i * 1000 })),
    )
    await produce(
      names.PAYMENTS,
      orders.map((o, i) => ({
        key: o.product,
        value: { id: `pay-${o.id}`, amount: i },
        timestamp: T0 + i * 1000 + 100,
      })),
    )
    // What a clean run writes: inner join on products (deleted ones dropped), left join on cities.
    const expected = new Map<string, unknown>()
    for (const o of orders) {
      const pr = products.get(o.product)
      if (pr === undefined) continue
      expected.set(o.id, {
        ...o,
        title: pr.title,
        total: pr.price * o.qty,
        cityName: cities.get(o.city) ?? null,
      })
    }

    const env = { ...names, KAFKA_BROKERS: kafkaBrokers().join(','), APP: `${base}-app` }
    const first = spawnJoinApp(env, cleanup)
    await waitUntil(
      'some joined output before the kill',
      async () => (await totalEnd(kafka, [names.OUT]).catch(() => 0)) >= N / 5,
      60_000,
      20,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${first.output()}`)
    })
    first.kill('SIGKILL')
    await exited(first)
    const before = await totalEnd(kafka, [names.OUT])
    assert.ok(
      before < expected.size,
      `the first instance finished (${before} outputs) before it was killed: nothing was tested`,
    )
    const paidBefore = await totalEnd(kafka, [names.PAID])
    assert.ok(
      paidBefore < N,
      `the stream–stream join finished (${paidBefore}) before the kill: nothing was tested`,
    )

    // Two instances resume from the committed offsets: a rebalance splits the partitions between them.
    const second = spawnJoinApp(env, cleanup)
    const third = spawnJoinApp(env, cleanup)
    const outputs = async (topic = names.OUT) => {
      const out = new Map<string, unknown[]>()
      for (const r of await readAll(kafka, topic)) {
        const v = JSON.parse(r.value!.toString()) as { id: string }
        out.set(v.id, [...(out.get(v.id) ?? []), v])
      }
      return out
    }
    await waitUntil(
      'every order joined',
      async () => (await outputs()).size >= expected.size,
      60_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- second\n${second.output()}\n--- third\n${third.output()}`)
    })
    // Stream–stream: every order met its payment exactly as a clean run pairs them (repeats allowed).
    await waitUntil(
      'every order joined with its payment',
      async () => (await outputs(names.PAID)).size >= N,
      60_000,
      500,
    )
    const paid = await outputs(names.PAID)
    assert.equal(paid.size, N)
    orders.forEach((o, i) => {
      for (const v of paid.get(o.id) ?? [])
        assert.deepEqual(v, { id: o.id, payment: `pay-${o.id}`, amount: i })
    })
    const got = await outputs()
    assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort())
    for (const [id, values] of got)
      for (const v of values) assert.deepEqual(v, expected.get(id), `order ${id}`)
    // Both restarted instances held partitions (and so loaded their table partitions) at some point.
    for (const child of [second, third]) assert.match(child.output(), /"partitions assigned"/)
    const assignedBoth = [second, third].filter((c) => /"partitions":\["[^\]]*orders:\d/.test(c.output()))
    assert.equal(
      assignedBoth.length,
      2,
      `both instances got order partitions:\n${second.output()}\n${third.output()}`,
    )
  })

  it('exactly-once, kill -9 and a rebalance: repartitioned join and count, left join and table–table join equal a clean run', async (t) => {
    const cleanup = testCleanup(t)
    const base = uniqueName('tables-rep')
    const app = `${base}-app`
    const names = {
      ORDERS: `${base}-orders`,
      PAYMENTS: `${base}-payments`,
      PRODUCTS: `${base}-products`,
      STOCK: `${base}-stock`,
      OUT: `${base}-out`,
      COUNTS: `${base}-counts`,
      PAID: `${base}-paid`,
      CATALOGUE: `${base}-catalogue`,
    }
    topics.push(
      ...Object.values(names),
      `${app}-dlq`,
      ...['enrich-repartition', 'by-customer-repartition', 'per-customer-changelog'].map(
        (s) => `${app}-${s}`,
      ),
      ...['order-payment-changelog', 'catalogue-changelog'].map((s) => `${app}-${s}`),
    )
    for (const name of [names.ORDERS, names.PAYMENTS]) await createTopic(undefined, { name, partitions: 3 })
    for (const name of [names.PRODUCTS, names.STOCK])
      await createTopic(undefined, { name, partitions: 3, config: { 'cleanup.policy': 'compact' } })

    // Products p0..p29, p25..p29 then deleted; stock for p10..p39 (p30..p39 have no product).
    const products = new Map<string, { title: string; price: number }>()
    for (let i = 0; i < 30; i++) products.set(`p${i}`, { title: `Product ${i}`, price: i + 1 })
    await produce(
      names.PRODUCTS,
      [...products].map(([key, value]) => ({ key, value })),
    )
    for (let i = 25; i < 30; i++) products.delete(`p${i}`)
    await produce(
      names.PRODUCTS,
      Array.from({ length: 5 }, (_, i) => ({ key: `p${25 + i}`, value: null })),
    )
    const stock = new Map<string, { units: number }>(
      Array.from({ length: 30 }, (_, i) => [`p${10 + i}`, { units: i }] as const),
    )
    await produce(
      names.STOCK,
      [...stock].map(([key, value]) => ({ key, value })),
    )

    const N = 1500
    const T0 = Date.UTC(2026, 0, 1)
    const orders = Array.from({ length: N }, (_, i) => ({
      id: `o${i}`,
      product: `p${(i * 7) % 30}`,
      customer: `c${i % 11}`,
      qty: 1 + (i % 3),
    }))
    // Keyed by order id (not by product or customer): joining and counting need the repartition topics.
    await produce(
      names.ORDERS,
      orders.map((o, i) => ({ key: o.id, value: o, timestamp: T0 + i * 100 })),
    )
    // Every fifth order is never paid; the rest 50 ms after the order. Then one payment per partition
    // far ahead, so every order's window closes (unmatched orders come out).
    const paidOrders = orders.filter((_, i) => i % 5 !== 0)
    await produce(names.PAYMENTS, [
      ...paidOrders.map((o) => ({
        key: o.id,
        value: { id: `pay-${o.id}` },
        timestamp: T0 + Number(o.id.slice(1)) * 100 + 50,
      })),
      ...[0, 1, 2].map((partition) => ({
        key: `tick-${partition}`,
        value: { id: 'tick' },
        timestamp: T0 + 3_600_000,
        partition,
      })),
    ])

    const env = { ...names, KAFKA_BROKERS: kafkaBrokers().join(','), APP: app }
    const committedOrders = async () => {
      const admin = kafka.admin()
      try {
        const c = await admin.committedOffsets(app, [names.ORDERS])
        return [...c.values()].reduce((a, b) => a + Math.max(0, b), 0)
      } finally {
        await admin.close()
      }
    }
    // The first instance kills itself (kill -9) at its 1,000th order: mid-stream, transactions behind it.
    const first = spawnJoinApp({ ...env, INSTANCE: 'a', KILL_AFTER: '1000' }, cleanup, REPARTITION_APP)
    let timer: NodeJS.Timeout | undefined
    const gone = await Promise.race([
      exited(first),
      new Promise<undefined>((r) => {
        timer = setTimeout(r, 60_000, undefined)
      }),
    ]).finally(() => clearTimeout(timer))
    assert.ok(gone, `the first instance did not reach its 1,000th order in 60 s:\n${first.output()}`)
    assert.equal(gone.signal, 'SIGKILL', first.output())
    const before = await committedOrders()
    assert.ok(
      before < N,
      `the first instance committed every order (${before}) before it was killed: nothing was tested`,
    )
    t.diagnostic(
      `killed with ${before} of ${N} orders committed, ${(await readAll(kafka, names.COUNTS)).length} counts visible`,
    )

    // The same instance id fences the killed one's open transaction; a second instance joins: a rebalance.
    const second = spawnJoinApp({ ...env, INSTANCE: 'a' }, cleanup, REPARTITION_APP)
    const third = spawnJoinApp({ ...env, INSTANCE: 'b' }, cleanup, REPARTITION_APP)
    const values = async (topic: string) =>
      (await readAll(kafka, topic)).map((r) => ({
        key: r.key?.toString(),
        v: r.value === null ? null : JSON.parse(r.value.toString()),
      }))
    await waitUntil(
      'every order counted, joined and paid or not',
      async () => (await values(names.COUNTS)).length >= N && (await values(names.PAID)).length >= N,
      60_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- second\n${second.output()}\n--- third\n${third.output()}`)
    })

    // Counts: per customer exactly 1, 2, …, n in order: nothing counted twice, nothing lost.
    const counts = new Map<string, number[]>()
    for (const { v } of await values(names.COUNTS))
      counts.set(v.customer, [...(counts.get(v.customer) ?? []), v.n])
    for (let c = 0; c < 11; c++) {
      const n = orders.filter((o) => o.customer === `c${c}`).length
      assert.deepEqual(
        counts.get(`c${c}`),
        Array.from({ length: n }, (_, i) => i + 1),
        `customer c${c}`,
      )
    }
    // The repartitioned stream–table join: each order with a live product once, with its product.
    const expectedOut = orders
      .filter((o) => products.has(o.product))
      .map((o) => ({
        id: o.id,
        title: products.get(o.product)!.title,
        total: products.get(o.product)!.price * o.qty,
      }))
    await waitUntil(
      'every live-product order joined',
      async () => (await values(names.OUT)).length >= expectedOut.length,
      30_000,
      200,
    )
    const out = (await values(names.OUT)).map((r) => r.v).sort((a, b) => a.id.localeCompare(b.id))
    assert.deepEqual(
      out,
      expectedOut.sort((a, b) => a.id.localeCompare(b.id)),
    )
    // The left join: each order once, with its payment, or null for the unpaid ones.
    const paid = (await values(names.PAID)).map((r) => r.v).sort((a, b) => a.id.localeCompare(b.id))
    assert.deepEqual(
      paid,
      orders
        .map((o, i) => ({ id: o.id, paid: i % 5 === 0 ? null : `pay-${o.id}` }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    )
    // The table–table outer join: the last change per key is the joined value of both tables now.
    const expectedCatalogue = new Map<string, unknown>()
    for (const key of new Set([...products.keys(), ...stock.keys()]))
      expectedCatalogue.set(key, {
        title: products.get(key)?.title ?? null,
        units: stock.get(key)?.units ?? null,
      })
    const lastPerKey = async () => {
      const m = new Map<string, unknown>()
      for (const { key, v } of await values(names.CATALOGUE))
        if (v === null) m.delete(key!)
        else m.set(key!, v)
      return m
    }
    await waitUntil(
      'the catalogue complete',
      async () => (await lastPerKey()).size >= expectedCatalogue.size,
      30_000,
      200,
    )
    assert.deepEqual(
      Object.fromEntries([...(await lastPerKey())].sort()),
      Object.fromEntries([...expectedCatalogue].sort()),
    )
    // What the group committed of the repartition topics is deleted (their retention keeps it otherwise).
    await waitUntil(
      'repartition topics purged',
      async () => {
        const admin = kafka.admin()
        try {
          const starts = await admin.beginningOffsets([`${app}-by-customer-repartition`])
          return [...starts.values()].reduce((a, b) => a + b, 0) > 0
        } finally {
          await admin.close()
        }
      },
      10_000,
      200,
    )
    const assigned = [second, third].filter((c) => /"partitions":\["[^\]]*orders:\d/.test(c.output()))
    assert.equal(
      assigned.length,
      2,
      `both instances got order partitions:\n${second.output()}\n${third.output()}`,
    )
  })

  it('a table not co-partitioned with its stream fails at start, naming both topics and their counts', async (t) => {
    const base = uniqueName('tables-copart')
    const ordersTopic = await createTopic(t, { name: `${base}-orders`, partitions: 3 })
    const productsTopic = await createTopic(t, {
      name: `${base}-products`,
      partitions: 2,
      config: { 'cleanup.policy': 'compact' },
    })
    topics.push(`${base}-out`, `${base}-app-dlq`)
    const p = pipeline(`${base}-app`)
    const table = p.table(productsTopic, { name: 'products' })
    p.stream(ordersTopic)
      .join(table, (o, pr) => ({ o, pr }))
      .to(`${base}-out`)
    await assert.rejects(
      run(p, { transport: kafka, metrics: createMetrics(), logger: silentLogger }),
      (err: unknown) => {
        assert.ok(err instanceof WeirError, String(err))
        assert.equal(err.code, ErrorCode.TOPOLOGY_INVALID)
        assert.match(
          err.message,
          new RegExp(
            `stream topic "${ordersTopic}" has 3 partitions but table topic "${productsTopic}" has 2`,
          ),
        )
        return true
      },
    )
  })

  it('running.store(name) reads the table as loaded for the partitions this instance owns', async (t) => {
    const base = uniqueName('tables-store')
    const ordersTopic = await createTopic(t, { name: `${base}-orders`, partitions: 2 })
    const productsTopic = await createTopic(t, {
      name: `${base}-products`,
      partitions: 2,
      config: { 'cleanup.policy': 'compact' },
    })
    topics.push(`${base}-out`, `${base}-app-dlq`)
    await produce(productsTopic, [
      { key: 'p1', value: { title: 'Kettle' } },
      { key: 'p2', value: { title: 'Toaster' } },
      { key: 'p2', value: null },
    ])
    const p = pipeline(`${base}-app`)
    const table = p.table(productsTopic, { name: 'products' })
    p.stream(ordersTopic)
      .join(table, (o, pr) => ({ o, pr }))
      .to(`${base}-out`)
    const running = await run(p, { transport: kafka, metrics: createMetrics(), logger: silentLogger })
    t.after(() => running.stop())
    // Assigned partitions answer 'restoring' (503 over HTTP) until their table partition is loaded.
    const loaded = () =>
      ['p1', 'p2'].every((k) => ['found', 'missing'].includes(running.store('products')?.get(k).state ?? ''))
    await waitUntil(
      'both table partitions loaded',
      async () => running.assignment().length === 2 && loaded(),
      30_000,
      20,
    )
    assert.deepEqual(running.store('products')?.get('p1'), { state: 'found', value: { title: 'Kettle' } })
    assert.deepEqual(running.store('products')?.get('p2'), { state: 'missing' })
    assert.equal(running.store('nope'), undefined)
    // Appended while running: seen after the next read of the topic.
    await produce(productsTopic, [{ key: 'p3', value: { title: 'Mixer' } }])
    await waitUntil('p3 read', async () => running.store('products')?.get('p3').state === 'found', 10_000, 50)
  })
})

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

interface Order {
  readonly id: string
  readonly product: string
  readonly city: string
  readonly qty: number
}

/** Runs the join app as a child; killed when the test ends (or the process exits), whatever failed. */
function spawnJoinApp(env: Record<string, string>, cleanup: Cleanup) {
  const child = spawn(process.execPath, [APP], {
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
  records: ReadonlyArray<{ key: string; value: unknown; timestamp?: number }>,
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
      120_000,
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

/**
 * A child process for tables-joins tests: orders joined with a products table (co-partitioned) and a
 * cities global table, written to OUT; and orders joined with PAYMENTS within 1 s, written to PAID.
 * Env: KAFKA_BROKERS, APP, ORDERS, PAYMENTS, PRODUCTS, CITIES, OUT, PAID.
 */
import { kafkaTransport } from '../../../src/connectors/kafka/index.ts'
import { pipeline } from '../../../src/dsl/stream.ts'
import { createLogger } from '../../../src/log/logger.ts'
import { createMetrics } from '../../../src/ops/metrics.ts'
import { run } from '../../../src/runtime/runner.ts'

const env = (name: string): string => {
  const v = process.env[name]
  if (v === undefined || v === '') throw new Error(`${name} is required`)
  return v
}

interface Order {
  readonly id: string
  readonly product: string
  readonly city: string
  readonly qty: number
}

const p = pipeline(env('APP'))
const products = p.table<{ title: string; price: number }>(env('PRODUCTS'), { name: 'products' })
const cities = p.globalTable<{ name: string }>(env('CITIES'), { name: 'cities' })
// Slowed a little per record, so a test can kill the app mid-stream.
const orders = p.stream<Order>(env('ORDERS')).mapAsync(
  async (o) => {
    await new Promise((r) => setTimeout(r, 1))
    return o
  },
  { concurrency: 4 },
)
const payments = p.stream<{ id: string; amount: number }>(env('PAYMENTS'))
// Stream–stream: each order meets its payment (same key, 100 ms later); orders of a key are 40 s apart.
orders
  .join(payments, (o, pay) => ({ id: o.id, payment: pay.id, amount: pay.amount }), {
    name: 'order-payment',
    within: '1s',
    grace: '5s',
  })
  .to(env('PAID'))
orders
  .join(products, (o, pr) => ({ ...o, title: pr.title, total: pr.price * o.qty }))
  .leftJoin(cities, (o, c) => ({ ...o, cityName: c?.name ?? null }), { key: (o) => o.city })
  .to(env('OUT'))

const running = await run(p, {
  transport: kafkaTransport({
    brokers: env('KAFKA_BROKERS').split(','),
    logger: createLogger(),
    clientId: `${env('APP')}-${process.pid}`,
    // The broker's minimum: a killed instance's partitions move on sooner.
    consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
  }),
  metrics: createMetrics(),
  logger: createLogger(),
  checkpointIntervalMs: 200,
  maxBatch: 50,
})

process.on('SIGTERM', () => void running.stop('SIGTERM'))
await running.done
process.exit(0)

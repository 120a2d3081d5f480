/**
 * A child process for the tables-joins repartition test, exactly-once. Orders are keyed by order id:
 * - joined with the products table (keyed by product) through a repartition topic → OUT;
 * - counted per customer through a repartition topic → COUNTS;
 * - left-joined with PAYMENTS (keyed by order id) within 1 s: an order with no payment comes out
 *   unmatched when its window closes → PAID;
 * and the products table is outer-joined with the STOCK table → CATALOGUE.
 * Env: KAFKA_BROKERS, APP, INSTANCE, KILL_AFTER, ORDERS, PAYMENTS, PRODUCTS, STOCK, OUT, COUNTS, PAID, CATALOGUE.
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
  readonly customer: string
  readonly qty: number
}

const p = pipeline(env('APP'))
const products = p.table<{ title: string; price: number }>(env('PRODUCTS'), { name: 'products' })
const stock = p.table<{ units: number }>(env('STOCK'), { name: 'stock' })
// Slowed a little per record. KILL_AFTER=n: the process kills itself (SIGKILL) at its n-th order, a
// kill -9 at a point a test can count on (mid-stream, with committed and open transactions behind it).
const killAfter = Number(process.env.KILL_AFTER ?? Number.POSITIVE_INFINITY)
let seen = 0
const orders = p.stream<Order>(env('ORDERS')).mapAsync(
  async (o) => {
    await new Promise((r) => setTimeout(r, 1))
    if (++seen >= killAfter) process.kill(process.pid, 'SIGKILL')
    return o
  },
  { concurrency: 4 },
)
orders
  .selectKey((o) => o.product)
  .join(products, (o, pr) => ({ id: o.id, title: pr.title, total: pr.price * o.qty }), { name: 'enrich' })
  .to(env('OUT'))
orders
  .groupBy((o) => o.customer, { name: 'by-customer' })
  .count({ name: 'per-customer' })
  .map((n, r) => ({ customer: r.key as string, n }))
  .to(env('COUNTS'))
orders
  .leftJoin(p.stream<{ id: string }>(env('PAYMENTS')), (o, pay) => ({ id: o.id, paid: pay?.id ?? null }), {
    name: 'order-payment',
    within: '1s',
    grace: '2s',
  })
  .to(env('PAID'))
products
  .outerJoin(stock, (pr, st) => ({ title: pr?.title ?? null, units: st?.units ?? null }), {
    name: 'catalogue',
  })
  .toStream()
  .to(env('CATALOGUE'))

const running = await run(p, {
  transport: kafkaTransport({
    brokers: env('KAFKA_BROKERS').split(','),
    logger: createLogger(),
    clientId: `${env('APP')}-${env('INSTANCE')}`,
    consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
  }),
  processing: 'exactly-once',
  // Stable per instance: a restarted instance fences its killed predecessor's open transaction.
  groupInstanceId: env('INSTANCE'),
  metrics: createMetrics(),
  logger: createLogger(),
  maxBatch: 50,
  repartitionPurgeIntervalMs: 500,
})

process.on('SIGTERM', () => void running.stop('SIGTERM'))
await running.done
process.exit(0)

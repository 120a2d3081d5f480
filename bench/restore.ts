/**
 * Restore rate: how fast a partition's state comes back from Kafka. `npm run bench:restore`
 * (`-- --keys=100000`). Writes N keys to a one-partition topic twice, as (1) a table topic (JSON values)
 * and (2) a window operator's changelog (the store's envelope, like 100k open windows), then times
 * TableStore.load and StateStores.restore against the running broker, and deletes the topics.
 */
import { kafkaTransport } from '../src/connectors/kafka/index.ts'
import { systemClock } from '../src/core/clock.ts'
import { json, string } from '../src/core/serde.ts'
import { silentLogger } from '../src/log/logger.ts'
import { createMetrics } from '../src/ops/metrics.ts'
import type { ProcessorInit } from '../src/runtime/processor.ts'
import { StateStores } from '../src/state/changelog.ts'
import { windowStateKey } from '../src/state/keys.ts'
import { TableStore } from '../src/state/table-store.ts'

const keys = Number(process.argv.find((a) => a.startsWith('--keys='))?.slice(7) ?? 100_000)
const kafka = kafkaTransport({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  clientId: 'weir-bench-restore',
})
const run = `weir-bench-restore-${Date.now().toString(36)}`
const tableTopic = `${run}-table`
const changelog = `${run}-windows-changelog`

const admin = kafka.admin()
await admin.ensureTopics([
  { name: tableTopic, partitions: 1, replicationFactor: 1, config: { 'cleanup.policy': 'compact' } },
  { name: changelog, partitions: 1, replicationFactor: 1, config: { 'cleanup.policy': 'compact' } },
])
try {
  const sink = kafka.sink({ clientId: 'weir-bench-restore' })
  await sink.open()
  const start = Date.UTC(2026, 0, 1)
  for (let i = 0; i < keys; i++) {
    sink.add({
      topic: tableTopic,
      partition: 0,
      key: Buffer.from(`sensor-${i}`),
      value: Buffer.from(JSON.stringify({ speed: i % 120, lane: i % 4 })),
    })
    // A tumbling-window slot as the window operator keeps it: { k, s, a } in the store's envelope.
    const slot = { k: `sensor-${i}`, s: start, a: { n: i % 50, sum: i } }
    sink.add({
      topic: changelog,
      partition: 0,
      key: Buffer.from(windowStateKey(`sensor-${i}`, start)),
      value: Buffer.from(JSON.stringify({ v: slot, t: 'traffic-events', o: i })),
    })
    if (i % 10_000 === 9_999) await sink.flush()
  }
  await sink.flush()
  await sink.close()

  const read = (tp: { topic: string; partition: number }, o?: { from?: number }) => kafka.readPartition(tp, o)
  const table = new TableStore(
    { name: 'bench', topic: tableTopic, key: string(), value: json() },
    read,
    false,
  )
  let t0 = performance.now()
  const n = await table.load(0)
  const tableMs = performance.now() - t0

  const stores = new StateStores<unknown>({
    operator: 'bench-windows',
    changelog,
    signature: 'tumbling:1000',
  })
  stores.init({
    metrics: createMetrics(),
    logger: silentLogger,
    readPartition: read,
    clock: systemClock,
  } as unknown as ProcessorInit)
  t0 = performance.now()
  const restored = await stores.restore(0)
  const windowMs = performance.now() - t0

  const rate = (records: number, ms: number) => Math.round(records / (ms / 1000))
  console.log(
    JSON.stringify({
      keys,
      table: { records: n, ms: Math.round(tableMs), recordsPerSecond: rate(n, tableMs) },
      windows: { keys: restored?.size, ms: Math.round(windowMs), recordsPerSecond: rate(keys, windowMs) },
    }),
  )
} finally {
  await admin.deleteTopics([tableTopic, changelog]).catch(() => {})
  await admin.close()
}

/**
 * The pause an (eager) rebalance causes on the partitions a member keeps: instance A runs a durable
 * count over a 4-partition topic fed at a steady rate; instance B joins; the longest gap between two
 * records A processes on a partition it owns both before and after is the pause (revoke: flush and
 * commit; rejoin; assign: restore the state from its changelog; fetch again).
 *
 *   node bench/rebalance-pause.ts [--rate 2000] [--keys 20000] [--runs 3]
 *
 * Needs the local Kafka (127.0.0.1:9092 or KAFKA_BROKERS). Prints one JSON line per run and a summary.
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { kafkaTransport } from '../src/connectors/kafka/index.ts'
import { pipeline } from '../src/dsl/stream.ts'
import { silentLogger } from '../src/log/logger.ts'
import { createMetrics } from '../src/ops/metrics.ts'
import { run } from '../src/runtime/runner.ts'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    keys: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
  },
})
const rate = Number(values.rate)
const keys = Number(values.keys)
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const kafka = kafkaTransport({ brokers })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function once(): Promise<{ pauseMs: number; keptPartitions: number[] }> {
  const name = `bench-rebalance-${Date.now().toString(36)}`
  const input = `${name}-in`
  const admin = kafka.admin()
  await admin.ensureTopics([{ name: input, partitions: 4, replicationFactor: 1 }])
  // When A last processed a record of each partition, and the longest gap per partition after B started.
  const last = new Map<number, number>()
  const gap = new Map<number, number>()
  let measuring = false
  const instance = (note: boolean) => {
    const p = pipeline(name)
    p.stream<unknown, string>(input)
      .map((v, r) => {
        if (note) {
          const now = performance.now()
          const prev = last.get(r.partition)
          if (measuring && prev !== undefined)
            gap.set(r.partition, Math.max(gap.get(r.partition) ?? 0, now - prev))
          last.set(r.partition, now)
        }
        return v
      })
      .groupByKey()
      .count({ name: 'counts' })
      .to(`${name}-out`)
    return run(p, {
      transport: kafka,
      metrics: createMetrics({ processMetrics: false }),
      logger: silentLogger,
      topics: { partitions: 4 },
    })
  }
  const sink = kafka.sink({ clientId: `${name}-feed` })
  await sink.open()
  let feeding = true
  let n = 0
  const feed = (async () => {
    while (feeding) {
      const started = performance.now()
      for (let i = 0; i < rate / 20; i++) {
        const k = `k${n++ % keys}`
        sink.add({ topic: input, key: Buffer.from(k), value: Buffer.from('{}') })
      }
      await sink.flush()
      await sleep(Math.max(0, 50 - (performance.now() - started)))
    }
  })()
  const a = await instance(true)
  await sleep(5000)
  const before = new Set(a.assignment().map((tp) => tp.partition))
  measuring = true
  const b = await instance(false)
  // Until the group settled and A has processed its kept partitions again for a while.
  await sleep(8000)
  const kept = a
    .assignment()
    .map((tp) => tp.partition)
    .filter((p) => before.has(p))
  feeding = false
  await feed
  await sink.close()
  await Promise.all([a.stop(), b.stop()])
  await admin.deleteTopics([input, `${name}-out`, `${name}-counts-changelog`, `${name}-dlq`]).catch(() => {})
  await admin.close()
  return { pauseMs: Math.round(Math.max(0, ...kept.map((p) => gap.get(p) ?? 0))), keptPartitions: kept }
}

const results: number[] = []
for (let i = 0; i < Number(values.runs); i++) {
  const r = await once()
  results.push(r.pauseMs)
  console.log(JSON.stringify({ run: i + 1, rate, keys, ...r, load: loadavg()[0]?.toFixed(1) }))
}
results.sort((x, y) => x - y)
console.log(JSON.stringify({ pauseMsMedian: results[Math.floor(results.length / 2)], pauseMs: results }))
process.exit(0)

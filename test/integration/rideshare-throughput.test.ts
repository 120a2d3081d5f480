/**
 * Drain rate of the rideshare bridge with a large fleet: a backlog of generated records (100,000
 * drivers by default, ~92 % GPS pings) is written first, then the bridge (in-process, Kafka → a
 * private redis-server) is timed from its first consumed record until all are read and Redis has
 * acknowledged every message. Reported as a diagnostic; the floor is deliberately low (a loaded CI box
 * must pass):
 *
 *   node --test test/integration/rideshare-throughput.test.ts   # ℹ drained … pings/s, publishes/s, RSS
 *
 * RIDESHARE_THROUGHPUT_RECORDS (default 200,000) and RIDESHARE_THROUGHPUT_DRIVERS (default 100,000).
 * `weir run rideshare` as a process measures the same without the producer's memory in the RSS; see
 * the numbers in the commit that added this test.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { rideshareApp } from '../../src/apps/rideshare/app.ts'
import { RIDESHARE_TOPICS } from '../../src/apps/rideshare/domain/index.ts'
import { encodeValue } from '../../src/cli/feed.ts'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { startService } from '../../src/service/service.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'
import { eventually, startRedisServer, testCleanup } from './helpers/services.ts'

const RECORDS = Number(process.env.RIDESHARE_THROUGHPUT_RECORDS ?? 200_000)
const DRIVERS = Number(process.env.RIDESHARE_THROUGHPUT_DRIVERS ?? 100_000)

it(`drains ${RECORDS} records of ${DRIVERS} drivers, nothing left unpublished; reports the rate`, {
  timeout: 600_000,
}, async (t) => {
  const cleanup = testCleanup(t)
  const kafka = testKafka()
  const server = await startRedisServer(cleanup)
  const prefix = `${uniqueName('rs-throughput')}.`
  const topics = RIDESHARE_TOPICS.map((topic) => prefix + topic)
  cleanup(() => deleteTopics([...topics, `${prefix}stream-processor-dlq`]))
  for (const name of topics) await createTopic(undefined, { name })

  const g = rideshareApp.generator!({ seed: 5, drivers: DRIVERS })
  const producer = kafka.sink({ clientId: 'weir-test-rideshare-throughput' })
  await producer.open()
  let pings = 0
  for (let i = 0; i < RECORDS; i++) {
    const r = g.next()
    if (r.topic === 'gps_pings') pings++
    producer.add({
      topic: prefix + r.topic,
      key: r.key === null ? null : Buffer.from(r.key),
      value: encodeValue(r.value),
      headers: {},
      timestamp: r.timestamp,
    })
    if (i % 5000 === 4999) await producer.flush()
  }
  await producer.flush()
  await producer.close()

  const service = await startService(rideshareApp, {
    env: {
      KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
      KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      KAFKA_GROUP_ID: `${prefix}group`,
      KAFKA_AUTO_OFFSET_RESET: 'earliest',
      TOPIC_PREFIX: prefix,
      PROCESSOR_TOPICS: RIDESHARE_TOPICS.join(','),
      REDIS_HOST: server.host,
      REDIS_PORT: String(server.port),
    },
    logger: silentLogger,
    handleSignals: false,
    http: false,
    transport: (k) => kafkaTransport({ brokers: [...k.brokers], clientId: k.clientId }),
  })
  cleanup(() => service.stop())
  type Seen = {
    messages_consumed_total: number
    messages_published_total: number
    redis_backlog: number
    gps_aggregation_ratio: number
  }
  const metrics = () => service.app.metricsJson!(service.running) as Seen
  let peakRss = 0
  let first: number | undefined
  await eventually(
    () => {
      const m = metrics()
      peakRss = Math.max(peakRss, process.memoryUsage.rss())
      if (first === undefined && m.messages_consumed_total > 0) first = performance.now()
      return m.messages_consumed_total === RECORDS && m.redis_backlog === 0
    },
    300_000,
    20,
  )
  const seconds = (performance.now() - first!) / 1000
  const m = metrics()
  t.diagnostic(
    `drained ${RECORDS} records (${pings} pings, ${DRIVERS} drivers) in ${seconds.toFixed(1)} s: ` +
      `${Math.round(RECORDS / seconds)} records/s, ${Math.round(pings / seconds)} pings/s consumed; ` +
      `${m.messages_published_total} Redis publishes = ${Math.round(m.messages_published_total / seconds)}/s; ` +
      `gps_aggregation_ratio ${m.gps_aggregation_ratio}; peak RSS ${Math.round(peakRss / 2 ** 20)} MB (test process, producer included)`,
  )
  assert.equal(m.messages_consumed_total, RECORDS)
  assert.equal(m.redis_backlog, 0)
  assert.ok(m.messages_published_total >= DRIVERS, `${m.messages_published_total} publishes for ${DRIVERS} drivers`)
})

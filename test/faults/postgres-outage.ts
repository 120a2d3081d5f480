/** The PostgreSQL sink with its database stopped mid-stream (a private cluster, never the shared one). */
import pg from 'pg'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { postgresSink } from '../../src/connectors/postgres/index.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { run } from '../../src/runtime/runner.ts'
import { deleteTopics, uniqueName } from '../integration/helpers/kafka.ts'
import { sleep } from '../integration/helpers/services.ts'
import {
  caughtUp,
  countIds,
  type FaultRow,
  feed,
  type Guarantee,
  readTopic,
  recovery,
  waitFor,
} from './harness.ts'
import { startPrivatePostgres } from './postgres-server.ts'
import type { LoadOptions, ScenarioContext } from './scenarios.ts'

/**
 * Kafka → PostgreSQL sink (plain INSERTs, so a repeat shows as an extra row) with a private PostgreSQL
 * stopped for `downMs` mid-stream. In-process: the sink is a library connector, not a bundled app.
 */
export async function postgresOutage(
  ctx: ScenarioContext,
  guarantee: Guarantee,
  load: LoadOptions,
  downMs: number,
): Promise<FaultRow> {
  const server = await startPrivatePostgres(ctx.cleanup)
  const conn = { host: server.host, port: server.port, user: 'postgres', database: 'postgres' }
  const table = uniqueName('faults_pg').replace(/-/g, '_')
  const q = async (sql: string) => {
    const c = new pg.Client(conn)
    await c.connect()
    try {
      return (await c.query(sql)).rows as Array<Record<string, unknown>>
    } finally {
      await c.end()
    }
  }
  await q(`CREATE TABLE ${table} (id text NOT NULL, v integer NOT NULL)`)
  const base = uniqueName('faults-pg')
  const input = `${base}-in`
  const groupId = `${base}-group`
  const kafka = kafkaTransport({ brokers: [...ctx.brokers] })
  ctx.cleanup(() => deleteTopics([input, `${base}-dlq`], kafka).catch(() => {}))
  const admin = kafka.admin()
  await admin.ensureTopics([{ name: input, partitions: 3, replicationFactor: 1 }])
  await admin.close()
  const p = pipeline(base)
  p.stream<{ id: string; v: number }>(input).toSink(
    postgresSink({
      ...conn,
      table,
      columns: ['id', 'v'],
      connectTimeoutMs: 2000,
      queryTimeoutMs: 5000,
      logger: silentLogger,
    }),
    { map: (r) => ({ id: r.value.id, v: r.value.v }) },
  )
  const running = await run(p, {
    transport: kafka,
    groupId,
    processing: guarantee === 'exactly_once' ? 'exactly-once' : 'at-least-once',
    metrics: createMetrics(),
    logger: silentLogger,
    topics: { partitions: 3 },
    deadLetterTopic: `${base}-dlq`,
  })
  ctx.cleanup(() => running.stop().catch(() => {}))
  const feeder = feed(kafka, input, load.count, load.ratePerSec, (i) => ({
    id: `r${i}`,
    key: null,
    value: Buffer.from(JSON.stringify({ id: `r${i}`, v: i })),
  }))
  await sleep(4000)
  await server.stop()
  await sleep(downMs)
  await server.start()
  const back = Date.now()
  const recoverMs = await recovery(kafka, groupId, [input], back)
  await feeder.done
  await waitFor('the group committed every input', () => caughtUp(kafka, groupId, [input]), 240_000)
  await running.stop()
  await running.done.catch(() => {})
  const inputs = countIds(await readTopic(kafka, input))
  const rows = await q(`SELECT id, count(*)::int AS n FROM ${table} GROUP BY id`)
  const outputs = new Map(rows.map((r) => [String(r.id), Number(r.n)]))
  let out = 0
  let lost = 0
  let duplicated = 0
  for (const n of outputs.values()) out += n
  for (const [id, n] of inputs) {
    const got = outputs.get(id) ?? 0
    if (got === 0) lost++
    else if (got > n) duplicated += got - n
  }
  const row: FaultRow = {
    scenario: `PostgreSQL stopped ${downMs / 1000} s`,
    app: 'postgres sink',
    guarantee,
    recordsIn: inputs.size,
    out,
    deadLettered: (await readTopic(kafka, `${base}-dlq`)).length,
    lost,
    duplicated,
    recoverMs,
    duplicatesAllowed: true,
  }
  ctx.log?.(JSON.stringify(row))
  return row
}

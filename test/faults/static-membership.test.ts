/**
 * Restart after kill -9 with and without static membership (`KAFKA_GROUP_INSTANCE_ID`), traffic under
 * exactly-once with input flowing: time from the kill to the restarted process's first log line (its
 * boot, which no group setting changes), to its partitions being assigned, and to its first commit
 * (its first records visible to read_committed readers). Part of `npm run faults`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { spawnWeir } from '../integration/helpers/child.ts'
import { deleteTopics, kafkaBrokers } from '../integration/helpers/kafka.ts'
import { sleep, testCleanup } from '../integration/helpers/services.ts'
import { trafficUnderTest } from './apps.ts'
import { feed, recovery } from './harness.ts'

const RESTARTS = 3

describe('restart-to-first-record after kill -9', { timeout: 900_000 }, () => {
  const results: string[] = []
  for (const staticId of [undefined, 'traffic-static-0']) {
    it(staticId ? 'with static membership' : 'without static membership', async (t) => {
      const cleanup = testCleanup(t)
      const brokers = kafkaBrokers()
      const kafka = kafkaTransport({ brokers })
      const app = trafficUnderTest({
        brokers,
        guarantee: 'exactly_once',
        extraEnv: { KAFKA_GROUP_INSTANCE_ID: staticId ?? 'off' },
      })
      cleanup(() => deleteTopics(app.topics, kafka).catch(() => {}))
      const admin = kafka.admin()
      await admin.ensureTopics([
        { name: app.inputTopic, partitions: app.inputPartitions, replicationFactor: 1 },
      ])
      await admin.close()
      const feeder = feed(kafka, app.inputTopic, 1000 * 60 * 10, 1000, (i) => app.record(i))
      cleanup(() => feeder.stop())
      let current = spawnWeir(cleanup, 'traffic', app.env(0))
      await current.waitForLog('partitions assigned', {}, 120_000)
      const rows: Array<{ boot: number; assigned: number; committed: number }> = []
      for (let k = 0; k < RESTARTS; k++) {
        await sleep(3000)
        current.kill('SIGKILL')
        await current.exit
        const killedAt = Date.now()
        current = spawnWeir(cleanup, 'traffic', app.env(0))
        const next = current
        const committed = await recovery(kafka, app.groupId, [app.inputTopic], killedAt, () =>
          next.logs().some((l) => l.msg === 'partitions assigned'),
        )
        const first = Date.parse(String(next.logs()[0]?.time))
        const assigned = Date.parse(String((await next.waitForLog('partitions assigned')).time))
        rows.push({ boot: first - killedAt, assigned: assigned - killedAt, committed })
      }
      current.kill('SIGTERM')
      assert.equal((await current.exit).code, 0)
      const avg = (f: (r: (typeof rows)[number]) => number) =>
        (rows.reduce((a, r) => a + f(r), 0) / rows.length / 1000).toFixed(1)
      const line = `| ${staticId ? 'with' : 'without'} | ${avg((r) => r.boot)} s | ${avg((r) => r.assigned - r.boot)} s | ${avg((r) => r.assigned)} s | ${avg((r) => r.committed)} s |`
      results.push(line)
      t.diagnostic(JSON.stringify(rows))
      process.stdout.write(
        `\n| static membership | kill → process up | up → partitions assigned | kill → partitions assigned | kill → first commit |\n|---|---:|---:|---:|---:|\n${results.join('\n')}\n`,
      )
    })
  }
})

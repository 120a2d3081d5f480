import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { trafficApp } from '../../src/apps/traffic/app.ts'
import { exited, produceGenerated, readAll, spawnApp, testId, totalEnd, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'

const kafka = testKafka()

/** True once the group's committed offsets reach the end of every input partition. */
async function caughtUp(groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin()
  try {
    const [ends, committed] = await Promise.all([admin.endOffsets([topic]), admin.committedOffsets(groupId, [topic])])
    return [...ends].every(([tp, end]) => (committed.get(tp) ?? 0) >= end)
  } finally {
    await admin.close()
  }
}

describe('exactly-once processing (PROCESSING_GUARANTEE=exactly_once) against Kafka', { timeout: 300_000 }, () => {
  const topics: string[] = []
  after(() => deleteTopics(topics))

  it('kill -9 mid-stream and restart: every input is in the output or the dead letters exactly once', async (t) => {
    const base = uniqueName('eos-kill')
    const env = {
      KAFKA_BROKERS: kafkaBrokers().join(','),
      GROUP_ID: `${base}-group`,
      CLIENT_ID: `${base}-client`,
      INPUT_TOPIC: `${base}-raw`,
      OUTPUT_TOPIC: `${base}-events`,
      DLQ_TOPIC: `${base}-dlq`,
      INPUT_PARTITIONS: '5',
      HEALTH_PORT: '0',
      HEALTH_HOST: '127.0.0.1',
      PROCESSING_GUARANTEE: 'exactly_once',
    }
    topics.push(env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC)
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    const N = 60_000
    const sent = await produceGenerated(kafka, trafficApp.generator!({ seed: 21, invalidShare: 0.05 }), env.INPUT_TOPIC, N)

    const first = spawnApp('traffic', env)
    // Killed with committed transactions behind it and (very likely) one open: its records must never
    // become visible, and the restart must redo exactly what it held.
    await waitUntil('some output before the kill', async () => (await totalEnd(kafka, [env.OUTPUT_TOPIC]).catch(() => 0)) >= N / 10, 90_000, 10).catch((e: Error) => {
      throw new Error(`${e.message}\n${first.output()}`)
    })
    assert.match(first.output(), /"processing":"exactly-once"/)
    first.kill('SIGKILL')
    await exited(first)
    t.diagnostic(`killed with ${(await readAll(kafka, env.OUTPUT_TOPIC)).length} outputs visible, output end offsets at ${await totalEnd(kafka, [env.OUTPUT_TOPIC])}`)
    const second = spawnApp('traffic', env)
    try {
      await waitUntil('the group committed every input', () => caughtUp(env.GROUP_ID, env.INPUT_TOPIC), 120_000, 200).catch(
        (e: Error) => {
          throw new Error(`${e.message}\n${second.output()}`)
        },
      )
    } finally {
      second.kill('SIGTERM')
      await exited(second)
    }
    const all = [...(await readAll(kafka, env.OUTPUT_TOPIC)), ...(await readAll(kafka, env.DLQ_TOPIC))]
    const counts = new Map<string, number>()
    for (const r of all) counts.set(testId(r), (counts.get(testId(r)) ?? 0) + 1)
    const twice = [...counts].filter(([, n]) => n > 1)
    const missing = [...sent.keys()].filter((id) => !counts.has(id))
    t.diagnostic(`${all.length} records visible to read_committed readers for ${N} inputs`)
    assert.deepEqual(twice.slice(0, 10), [], `${twice.length} inputs visible twice`)
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} inputs lost`)
    assert.equal(all.length, N)
  })
})

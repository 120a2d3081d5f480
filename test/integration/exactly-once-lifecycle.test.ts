/**
 * Start, idle, restart and stop of bundled apps under PROCESSING_GUARANTEE=exactly_once, as `weir run`
 * child processes against the real broker: with an empty input on a new group, after catching up,
 * after a kill -9, and with SIGTERM while the app waits for its partitions. Each case once for a
 * stateless app (traffic) and a stateful one (traffic-windows, with static membership).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { trafficApp } from '../../src/apps/traffic/app.ts'
import { trafficWindowsApp } from '../../src/apps/traffic-windows/app.ts'
import { produceGenerated, readAll, testId, trafficEnv, waitUntil } from './helpers/apps.ts'
import { spawnWeir, type WeirChild } from './helpers/child.ts'
import { createTopic, deleteTopics, testKafka } from './helpers/kafka.ts'
import { type Cleanup, sleep, testCleanup } from './helpers/services.ts'

const kafka = testKafka()

/** How long an idle app must stay up: 20 exactly-once checkpoints at the default 100 ms. */
const IDLE_MS = 2000

async function committedAll(groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin()
  try {
    const [ends, committed] = await Promise.all([
      admin.endOffsets([topic]),
      admin.committedOffsets(groupId, [topic]),
    ])
    return [...ends].every(([tp, end]) => (committed.get(tp) ?? 0) >= end)
  } finally {
    await admin.close()
  }
}

/** Starts the app and waits until it owns its partitions; the ops server must be up before that. */
async function startAssigned(cleanup: Cleanup, app: string, env: Record<string, string>): Promise<WeirChild> {
  const child = spawnWeir(cleanup, app, env)
  await child.waitForLog('partitions assigned', {}, 60_000)
  const msgs = child.logs().map((l) => l.msg)
  const listening = msgs.indexOf('ops server listening')
  assert.ok(
    listening >= 0 && listening < msgs.indexOf('partitions assigned'),
    `ops server bound before any partition is read:\n${child.output()}`,
  )
  assert.equal(msgs.filter((m) => m === 'ops server listening').length, 1, 'logged once')
  assert.match(child.output(), /"processing":"exactly-once"/)
  return child
}

/** Idles, must still be running, then stops on SIGTERM with exit 0. */
async function idleThenStop(child: WeirChild): Promise<void> {
  await sleep(IDLE_MS)
  assert.ok(child.running(), `still running after ${IDLE_MS} ms idle:\n${child.output()}`)
  assert.doesNotMatch(child.output(), /TRANSACTION_ABORTED|checkpoint failed/)
  child.kill('SIGTERM')
  // A second SIGTERM while stopping (an impatient supervisor) must not cut the final commit short.
  await sleep(20)
  child.kill('SIGTERM')
  const { code, signal } = await child.exit
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, child.output())
  assert.match(child.output(), /"msg":"stopped","app":"[^"]+","state":"stopped"/)
}

describe('exactly-once apps start, idle, restart and stop cleanly', { timeout: 240_000 }, () => {
  it('traffic (stateless): empty input, caught up, after kill -9, SIGTERM while waiting for partitions', async (t) => {
    const cleanup = testCleanup(t)
    // Dynamic membership on purpose: after the kill -9 the restart must wait for the dead member's
    // session, which is the moment this test sends SIGTERM in.
    const env = trafficEnv('eos-life', {
      PROCESSING_GUARANTEE: 'exactly_once',
      LOG_LEVEL: 'info',
      KAFKA_GROUP_INSTANCE_ID: 'off',
    })
    cleanup(() => deleteTopics([env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC]))
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })

    // A brand-new group on an empty topic: this crash-looped (EndTxn on an empty transaction).
    await idleThenStop(await startAssigned(cleanup, 'traffic', env))

    // Input, caught up, idle; then kill -9 once caught up.
    const N = 3000
    const sent = await produceGenerated(
      kafka,
      trafficApp.generator!({ seed: 5, invalidShare: 0.05 }),
      env.INPUT_TOPIC,
      N,
    )
    const second = await startAssigned(cleanup, 'traffic', env)
    await waitUntil('caught up', () => committedAll(env.GROUP_ID, env.INPUT_TOPIC), 60_000, 100)
    await sleep(IDLE_MS)
    assert.ok(second.running(), second.output())
    second.kill('SIGKILL')
    await second.exit

    // Restarted after the kill -9: the dead member holds the group until its session expires, so this
    // start waits for partitions; SIGTERM then must still be a graceful stop.
    const waiting = spawnWeir(cleanup, 'traffic', env)
    await waiting.waitForLog('processing guarantee')
    await sleep(300)
    assert.equal(
      waiting.logs().some((l) => l.msg === 'partitions assigned'),
      false,
      'still waiting for partitions',
    )
    const termAt = Date.now()
    waiting.kill('SIGTERM')
    assert.deepEqual(await waiting.exit, { code: 0, signal: null }, waiting.output())
    const stopMs = Date.now() - termAt
    t.diagnostic(`SIGTERM while waiting for partitions: exit 0 after ${stopMs} ms`)
    // Not the dead member's session (10 s) nor the stop timeout (30 s): the join is abandoned.
    assert.ok(stopMs < 8000, `stopped in ${stopMs} ms`)

    // And a restart of a caught-up app idles without failing.
    await idleThenStop(await startAssigned(cleanup, 'traffic', env))

    const all = [...(await readAll(kafka, env.OUTPUT_TOPIC)), ...(await readAll(kafka, env.DLQ_TOPIC))]
    const seen = new Map<string, number>()
    for (const r of all) seen.set(testId(r), (seen.get(testId(r)) ?? 0) + 1)
    assert.deepEqual([...seen].filter(([, n]) => n > 1).slice(0, 5), [], 'no input visible twice')
    assert.equal(seen.size, sent.size, 'none lost')
  })

  it('traffic-windows (stateful, static membership): empty input, caught up, after kill -9', async (t) => {
    const cleanup = testCleanup(t)
    const env = trafficEnv('eos-life-win', {
      PROCESSING_GUARANTEE: 'exactly_once',
      KAFKA_GROUP_INSTANCE_ID: 'windows-0',
      WINDOW_SIZE: '10s',
      WINDOW_GRACE: '5s',
    })
    const changelog = `${env.GROUP_ID}-traffic-5m-changelog`
    cleanup(() => deleteTopics([env.INPUT_TOPIC, env.OUTPUT_TOPIC, env.DLQ_TOPIC, changelog]))
    await createTopic(undefined, { name: env.INPUT_TOPIC, partitions: 5 })

    await idleThenStop(await startAssigned(cleanup, 'traffic-windows', env))

    // Event time from a day ago: every window is past its grace and closes on the wall clock.
    await produceGenerated(
      kafka,
      trafficWindowsApp.generator!({ seed: 9, eventStepMs: 100 }),
      env.INPUT_TOPIC,
      3000,
    )
    const second = await startAssigned(cleanup, 'traffic-windows', env)
    await waitUntil('caught up', () => committedAll(env.GROUP_ID, env.INPUT_TOPIC), 60_000, 100)
    await sleep(IDLE_MS)
    assert.ok(second.running(), second.output())
    second.kill('SIGKILL')
    await second.exit
    const killedAt = Date.now()

    // Static membership: the restarted instance gets its partitions back without waiting for the
    // dead member's session to expire.
    const third = await startAssigned(cleanup, 'traffic-windows', env)
    const assignedAfter = Date.now() - killedAt
    t.diagnostic(`restart after kill -9 to partitions assigned: ${assignedAfter} ms (static membership)`)
    await idleThenStop(third)

    const windows = new Map<string, number>()
    for (const r of await readAll(kafka, env.OUTPUT_TOPIC)) {
      const w = JSON.parse(r.value!.toString()) as { sensor_id: string; window_start: string }
      const key = `${w.sensor_id}@${w.window_start}`
      windows.set(key, (windows.get(key) ?? 0) + 1)
    }
    assert.ok(windows.size > 0, 'windows were emitted')
    assert.deepEqual([...windows].filter(([, n]) => n > 1).slice(0, 5), [], 'no window emitted twice')
  })
})

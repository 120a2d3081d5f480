/**
 * The Kafka source's "reachable since" signal: a broker frozen with its connections open (SIGSTOP)
 * answers no fetch and raises no error; once it is back, the source reports the partitions reachable
 * only as of the first answer after the freeze, so windows do not count the freeze as quiet input (the
 * producers were frozen out too). The same after the broker is stopped and started again (fetches fail,
 * or wait for the connection, meanwhile). Ordinary fetches, answered within their wait, never start a new
 * span.
 * A private broker (test/faults/kafka-broker.ts): the shared one is never frozen. The window logic
 * that uses the signal is in test/unit/window-caught-up.test.ts, the whole scenario in
 * test/faults/broker-outage-windows.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { startPrivateBroker } from '../faults/kafka-broker.ts'
import { createTopic, uniqueName } from './helpers/kafka.ts'
import { eventually, sleep, testCleanup } from './helpers/services.ts'

describe('kafka source: reachable since', { timeout: 120_000 }, () => {
  test('a frozen or restarted broker starts a new span at its first answer after; ordinary fetches do not', async (t) => {
    const cleanup = testCleanup(t)
    const broker = await startPrivateBroker(cleanup)
    const kafka = kafkaTransport({ brokers: broker.brokers, clientId: 'weir-test' })
    // The private broker goes with its data: no deletion to register.
    const topic = await createTopic(undefined, { kafka, partitions: 2 })
    const sink = kafka.sink({ clientId: uniqueName('producer') })
    await sink.open()
    cleanup(() => sink.close())
    for (let i = 0; i < 100; i++)
      sink.add({ topic, partition: i % 2, key: null, value: Buffer.from(String(i)), headers: {} })
    await sink.flush()

    const source = kafka.source({
      groupId: uniqueName('reachable'),
      clientId: 'c',
      topics: [topic],
      fromBeginning: true,
    })
    cleanup(() => source.close())
    await source.open({ assigned: async () => {}, revoked: async () => {} })
    let received = 0
    const reading = (async () => {
      for await (const batch of source.batches()) received += batch.length
    })()
    cleanup(async () => {
      await source.stop()
      await reading
    })
    const tps = [`${topic}:0`, `${topic}:1`]
    await eventually(
      () => received === 100 && tps.every((tp) => source.caughtUpAt?.(tp) !== undefined),
      30_000,
    )

    // Quiet, caught up, fetches answered after their wait (500 ms): no break.
    await sleep(2500)
    for (const tp of tps)
      assert.equal(source.reachableSince?.(tp), undefined, `${tp}: no break while the broker answers`)

    const frozenAt = Date.now()
    broker.freeze()
    cleanup(() => broker.resume())
    await sleep(3000)
    const caughtUpDuring = tps.map((tp) => source.caughtUpAt?.(tp) ?? 0)
    broker.resume()
    const backAt = Date.now()
    for (const [i, tp] of tps.entries())
      assert.ok(caughtUpDuring[i]! <= frozenAt, `${tp}: caught up no later than the freeze while frozen`)

    await eventually(() => tps.every((tp) => (source.caughtUpAt?.(tp) ?? 0) > backAt), 30_000)
    for (const tp of tps) {
      const since = source.reachableSince?.(tp)
      assert.ok(since !== undefined && since >= backAt, `${tp}: reachable since ${since}, back at ${backAt}`)
    }
    // Steady again: the span is not restarted by ordinary fetches.
    const spans = tps.map((tp) => source.reachableSince?.(tp))
    await sleep(2000)
    assert.deepEqual(
      tps.map((tp) => source.reachableSince?.(tp)),
      spans,
    )

    // Stopped and started again: fetches fail meanwhile; the span starts at the first good answer after.
    await broker.stop()
    await sleep(1000)
    await broker.start()
    const restartedAt = Date.now()
    await eventually(() => tps.every((tp) => (source.caughtUpAt?.(tp) ?? 0) > restartedAt), 60_000)
    for (const tp of tps) {
      const since = source.reachableSince?.(tp)
      assert.ok(
        since !== undefined && since >= restartedAt,
        `${tp}: reachable since ${since}, restarted at ${restartedAt}`,
      )
    }
  })
})

/**
 * A rebalance while the runner holds a batch it has not processed yet (it yields to timers between
 * batches, and under exactly-once waits for a checkpoint): the group takes the partitions away and gives
 * them back, and the new stream reads from the last commit. The held records must not be processed:
 * they would reach stateful operators whose state for the partition was just dropped, and count twice
 * once the new stream delivers them again (or, Kafka's case, make the restore of the partition be
 * skipped: windows lost after kill -9).
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { RebalanceListener, Source, Transport } from '../../src/connectors/contract.ts'
import { MemoryBroker, memoryTransport } from '../../src/connectors/memory/index.ts'
import type { RawRecord } from '../../src/core/record.ts'
import { type Pipeline, pipeline } from '../../src/dsl/stream.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { type RunningPipeline, run } from '../../src/runtime/runner.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs `p` on `transport` from the input's start in batches of five, stopped when the test ends. */
async function start(
  t: TestContext,
  p: Pipeline,
  transport: Transport,
  extra: { checkpointIntervalMs?: number } = {},
): Promise<RunningPipeline> {
  const running = await run(p, {
    transport,
    metrics: createMetrics(),
    logger: silentLogger,
    fromBeginning: true,
    maxBatch: 5,
    ...extra,
  })
  t.after(() => running.stop())
  return running
}

/**
 * The in-process source with one eager rebalance, as Kafka's: right as it hands out batch `at`, every
 * partition is revoked, and a new stream is assigned them again from the group's committed offsets.
 */
class RebalancingSource implements Source {
  readonly id = 'rebalancing-source'
  readonly #make: () => Source
  readonly #at: number
  #inner: Source
  #listener: RebalanceListener | undefined
  #stopped = false

  constructor(make: () => Source, at: number) {
    this.#make = make
    this.#at = at
    this.#inner = make()
  }

  open(listener: RebalanceListener): Promise<void> {
    this.#listener = listener
    return this.#inner.open(listener)
  }

  async *batches(): AsyncIterable<readonly RawRecord[]> {
    let n = 0
    while (!this.#stopped) {
      const stream = this.#inner
      let rebalance: Promise<void> | undefined
      for await (const batch of stream.batches()) {
        if (++n !== this.#at) {
          yield batch
          continue
        }
        // Long enough that the runner yields to timers before it processes this batch; the rebalance
        // starts in that turn, as a heartbeat's answer would.
        await sleep(30)
        rebalance = new Promise<void>((resolve, reject) =>
          setImmediate(() => this.#rebalance(stream).then(resolve, reject)),
        )
        yield batch
        break
      }
      await rebalance
    }
  }

  async #rebalance(old: Source): Promise<void> {
    const listener = this.#listener!
    await listener.revoked([{ topic: 'in', partition: 0 }])
    await old.close()
    this.#inner = this.#make()
    // A fresh source finds the partition new and assigns it from the committed offset.
    await this.#inner.open(listener)
  }

  commit: Source['commit'] = (offsets) => this.#inner.commit(offsets)
  status: Source['status'] = () => this.#inner.status()

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#inner.stop()
  }

  async close(): Promise<void> {
    this.#stopped = true
    await this.#inner.close()
  }
}

describe('a rebalance while the runner holds a batch', () => {
  it('drops the held records of revoked partitions: counts go on from the restored state, none twice', async (t) => {
    const broker = new MemoryBroker()
    const memory = memoryTransport(broker)
    const transport: Transport = {
      ...memory,
      source: (o) => new RebalancingSource(() => memory.source(o), 2),
    }
    const p = pipeline('held-batch')
    p.stream<{ k: string }>('in', { partitions: 1 })
      .groupBy((v) => v.k, { repartition: false })
      .count({ name: 'per-key' })
      .to('counts')
    const append = (k: string) =>
      broker.append(
        { topic: 'in', key: Buffer.from(k), value: Buffer.from(JSON.stringify({ k })) },
        Date.now(),
      )
    // Batch 1: five of "a"; batch 2 (held while the partition is revoked and assigned again): five of "b".
    for (let i = 0; i < 5; i++) append('a')
    for (let i = 0; i < 5; i++) append('b')
    const running = await start(t, p, transport)

    const counts = () =>
      broker.all('counts').map((r) => [r.key!.toString(), JSON.parse(r.value!.toString()) as number] as const)
    const last = (k: string) => counts().findLast(([key]) => key === k)?.[1]
    for (let waited = 0; last('b') === undefined && waited < 5000; waited += 10) await sleep(10)
    append('a')
    for (let waited = 0; last('a') !== 6 && waited < 5000; waited += 10) await sleep(10)
    await running.stop('test')

    assert.deepEqual(
      counts()
        .filter(([k]) => k === 'b')
        .map(([, n]) => n),
      [1, 2, 3, 4, 5],
      'each "b" counted once',
    )
    assert.equal(last('a'), 6, 'the restored count of "a" goes on')
  })

  it('runs the revocation checkpoint and the interval checkpoints one at a time', async (t) => {
    const broker = new MemoryBroker()
    const memory = memoryTransport(broker)
    // The producer's flush (step 3 of every checkpoint) is slow, and counts how many run at once.
    let flushing = 0
    let mostAtOnce = 0
    const transport: Transport = {
      ...memory,
      source: (o) => new RebalancingSource(() => memory.source(o), 2),
      sink: (o) => {
        const sink = memory.sink(o)
        const flush = async () => {
          mostAtOnce = Math.max(mostAtOnce, ++flushing)
          try {
            await sleep(15)
            await sink.flush()
          } finally {
            flushing--
          }
        }
        return new Proxy(sink, {
          get: (target, key) => {
            if (key === 'flush') return flush
            const v = Reflect.get(target, key, target) as unknown
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
          },
        })
      },
    }
    const p = pipeline('one-checkpoint-at-a-time')
    // A slow step: the revocation waits for records in flight while the interval goes on.
    p.stream<{ k: string }>('in', { partitions: 1 })
      .mapAsync(async (v) => {
        await sleep(40)
        return v
      })
      .to('out')
    for (let i = 0; i < 20; i++)
      broker.append(
        { topic: 'in', key: Buffer.from('k'), value: Buffer.from(JSON.stringify({ k: `${i}` })) },
        Date.now(),
      )
    const running = await start(t, p, transport, { checkpointIntervalMs: 5 })
    for (let waited = 0; broker.all('out').length < 20 && waited < 10_000; waited += 10) await sleep(10)
    await running.stop('test')
    assert.ok(broker.all('out').length >= 20, 'every record went through')
    assert.equal(mostAtOnce, 1, 'checkpoints overlapped')
  })
})

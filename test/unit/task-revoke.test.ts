/**
 * A task giving partitions up (at-least-once): records of those partitions still in an async step must
 * reach the stateful operators before those drop the partitions' state. Otherwise a late record finds no
 * state, starts from empty and writes that to the changelog over the counts the new owner restores.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pipeline } from '../../src/dsl/stream.ts'
import { TestDriver } from '../../src/testing/driver.ts'

interface Click {
  readonly user: string
  readonly slow?: boolean
}

/** Clicks → an async lookup (held open for `slow` ones until `gate` resolves) → a durable count per user. */
function counting(gate: Promise<void>) {
  const p = pipeline('clicks-app')
  p.stream<Click>('clicks', { partitions: 2 })
    .mapAsync(async (c) => {
      if (c.slow) await gate
      return c
    })
    .groupByKey({ repartition: false })
    .count({ name: 'clicks-per-user' })
    .to('counts')
  return p
}

describe('task revocation with records in an async step', () => {
  it('waits for them before the state is dropped: the new owner restores every count', async (t) => {
    let open!: () => void
    const gate = new Promise<void>((r) => {
      open = r
    })
    const first = new TestDriver(counting(gate), { partitions: 2 })
    t.after(() => first.close())
    await first.init()
    const clicks = first.input<Click>('clicks')
    clicks.pipe({ user: 'u1' }, { key: 'u1', partition: 1 })
    clicks.pipe({ user: 'u1', slow: true }, { key: 'u1', partition: 1 })
    // The slow lookup outlasts the task's first, short wait for in-flight records (1 s).
    const lookup = setTimeout(open, 1500)
    t.after(() => clearTimeout(lookup))
    await first.task.revoked([{ topic: 'clicks', partition: 1 }], async () => {})
    assert.deepEqual(first.output<number>('counts').values(), [1, 2])

    const next = new TestDriver(counting(Promise.resolve()), { partitions: 2, broker: first.broker })
    t.after(() => next.close())
    await next.init()
    next.input<Click>('clicks').pipe({ user: 'u1' }, { key: 'u1', partition: 1, offset: 2 })
    await next.settle()
    assert.deepEqual(
      next.output<number>('counts').values().slice(-1),
      [3],
      'the restored count goes on from 2',
    )
  })
})

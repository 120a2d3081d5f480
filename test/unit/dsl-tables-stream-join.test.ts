import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pipeline } from '../../src/dsl/stream.ts'
import { TestDriver } from '../../src/testing/driver.ts'

const T0 = Date.UTC(2026, 0, 1)

function clicksViews() {
  const p = pipeline('ads')
  const views = p.stream<{ ad: string }>('views')
  p.stream<{ ad: string }>('clicks')
    .join(views, (click, view) => `${view.ad}->${click.ad}`, {
      name: 'click-view',
      within: '5s',
      grace: '1s',
    })
    .to('click-views')
  return p
}

describe('stream–stream windowed join (test driver)', () => {
  it('joins records of the same key within the window, whichever side comes first', async () => {
    const driver = new TestDriver(clicksViews(), { startTime: T0 })
    const views = driver.input<{ ad: string }, string>('views')
    const clicks = driver.input<{ ad: string }, string>('clicks')
    views.pipe({ ad: 'v1' }, { key: 'u1', timestamp: T0 })
    clicks.pipe({ ad: 'c1' }, { key: 'u1', timestamp: T0 + 2000 }) // joins v1
    clicks.pipe({ ad: 'c2' }, { key: 'u2', timestamp: T0 + 2000 }) // other key: nothing yet
    views.pipe({ ad: 'v2' }, { key: 'u2', timestamp: T0 + 3000 }) // joins c2 (right after left)
    clicks.pipe({ ad: 'c3' }, { key: 'u1', timestamp: T0 + 5500 }) // 5.5 s after v1: outside the window
    await driver.settle()
    assert.deepEqual(driver.output('click-views').keyValues(), [
      ['u1', 'v1->c1'],
      ['u2', 'v2->c2'],
    ])
    const [first] = driver.output('click-views').records()
    assert.equal(first?.timestamp, T0 + 2000, 'a joined record carries the later of the two times')
  })

  it('one input read far ahead of the other loses no join (time is kept per side)', async () => {
    const driver = new TestDriver(clicksViews(), { startTime: T0 })
    const views = driver.input<{ ad: string }, string>('views')
    const clicks = driver.input<{ ad: string }, string>('clicks')
    for (let i = 0; i < 20; i++) views.pipe({ ad: `v${i}` }, { key: `u${i}`, timestamp: T0 + i * 10_000 })
    await driver.advance(1000) // the expiry timer runs: nothing of views may go, clicks have not started
    for (let i = 0; i < 20; i++)
      clicks.pipe({ ad: `c${i}` }, { key: `u${i}`, timestamp: T0 + i * 10_000 + 500 })
    await driver.settle()
    assert.equal(driver.output('click-views').size, 20)
  })

  it('a record more than grace behind its own side joins nothing', async () => {
    const driver = new TestDriver(clicksViews(), { startTime: T0 })
    const views = driver.input<{ ad: string }, string>('views')
    const clicks = driver.input<{ ad: string }, string>('clicks')
    views.pipe({ ad: 'v1' }, { key: 'u1', timestamp: T0 })
    clicks.pipe({ ad: 'x' }, { key: 'u9', timestamp: T0 + 20_000 }) // moves the partition's newest time
    clicks.pipe({ ad: 'late' }, { key: 'u1', timestamp: T0 + 1000 }) // within 5 s of v1, but 19 s late
    await driver.settle()
    assert.equal(driver.output('click-views').size, 0)
  })

  it('buffers are restored from the changelog: a restarted app joins with records seen before', async () => {
    const first = new TestDriver(clicksViews(), { startTime: T0 })
    first.input<{ ad: string }, string>('views').pipe({ ad: 'v1' }, { key: 'u1', timestamp: T0 })
    await first.close()
    const again = new TestDriver(clicksViews(), { startTime: T0, broker: first.broker })
    await again.init()
    again.input<{ ad: string }, string>('clicks').pipe({ ad: 'c1' }, { key: 'u1', timestamp: T0 + 1000 })
    await again.settle()
    assert.deepEqual(again.output('click-views').values(), ['v1->c1'])
    await again.close()
  })

  it('expired buffers are deleted (tombstones in the changelog), so memory stays bounded', async () => {
    const driver = new TestDriver(clicksViews(), { startTime: T0 })
    const views = driver.input<{ ad: string }, string>('views')
    for (let i = 0; i < 50; i++) views.pipe({ ad: `v${i}` }, { key: `u${i}`, timestamp: T0 + i })
    driver.input<{ ad: string }, string>('clicks').pipe({ ad: 'far' }, { key: 'z', timestamp: T0 + 60_000 })
    await driver.advance(1000) // the expiry timer
    await driver.checkpoint()
    const changelog = driver.broker.all('ads-click-view-changelog')
    const tombstones = changelog.filter((r) => r.value === null).length
    assert.equal(tombstones, 50)
  })

  it('input topics of different partition counts fail at start, naming them', async () => {
    const driver = new TestDriver(clicksViews(), { partitions: 2 })
    driver.broker.createTopic('views', 3)
    await assert.rejects(driver.init(), /input topics must have the same partition count, got .*"views" 3/)
  })

  it('needs a name and a window', () => {
    const p = pipeline('bad')
    const a = p.stream('a')
    const b = p.stream('b')
    assert.throws(
      () => a.join(b, () => 1, { within: '5s' } as unknown as { name: string; within: '5s' }),
      /give \{ name, within \}/,
    )
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { bytes, json, string } from '../../src/core/serde.ts'
import { pipeline } from '../../src/dsl/stream.ts'
import { TestDriver } from '../../src/testing/driver.ts'
import { countRuntimeRuns } from './helpers/zod-runtime.ts'

describe('stateless operators through the test driver', () => {
  it('map, filter, flatMap and peek transform values in order and keep keys', () => {
    const p = pipeline('ops')
    const seen: number[] = []
    p.stream<{ n: number }>('in')
      .map((v) => v.n * 2)
      .filter((n) => n % 3 !== 0)
      .flatMap((n) => [n, n + 1])
      .peek((n) => seen.push(n))
      .to('out')
    const d = new TestDriver(p)
    d.input<{ n: number }>('in').pipe({ n: 1 }, { key: 'a' }).pipe({ n: 3 }, { key: 'b' }).pipe({ n: 4 }, { key: 'c' })
    assert.deepEqual(d.output('out').keyValues(), [
      ['a', 2],
      ['a', 3],
      ['c', 8],
      ['c', 9],
    ])
    assert.deepEqual(seen, [2, 3, 8, 9])
  })

  it('a DSL call never changes the stream it is called on: two branches stay independent', () => {
    const p = pipeline('immutable')
    const s = p.stream<number>('in')
    s.map((n) => n + 1).to('plus')
    s.map((n) => n * 10).to('times')
    const d = new TestDriver(p)
    d.input<number>('in').pipe(1).pipe(2)
    assert.deepEqual(d.output('plus').values(), [2, 3])
    assert.deepEqual(d.output('times').values(), [10, 20])
  })

  it('split routes each record to the first matching branch, or default', () => {
    const p = pipeline('split')
    const { small, big, default: rest } = p.stream<number>('in').split({ small: (n) => n < 10, big: (n) => n < 100 })
    small.to('small')
    big.to('big')
    rest.to('rest')
    const d = new TestDriver(p)
    d.input<number>('in').pipeAll([5, 50, 500, 1])
    assert.deepEqual(d.output('small').values(), [5, 1])
    assert.deepEqual(d.output('big').values(), [50])
    assert.deepEqual(d.output('rest').values(), [500])
  })

  it('merge joins streams into one', () => {
    const p = pipeline('merge')
    const a = p.stream<number>('a')
    const b = p.stream<number>('b').map((n) => -n)
    a.merge(b).to('out')
    const d = new TestDriver(p)
    d.input<number>('a').pipe(1)
    d.input<number>('b').pipe(2)
    assert.deepEqual(d.output('out').values(), [1, -2])
  })

  it('mapAsync runs calls concurrently but emits in input order', async () => {
    const p = pipeline('async')
    let running = 0
    let maxRunning = 0
    p.stream<number>('in')
      .mapAsync(
        async (n) => {
          running++
          maxRunning = Math.max(maxRunning, running)
          await new Promise((r) => setTimeout(r, (5 - n) * 3))
          running--
          return n * 100
        },
        { concurrency: 3 },
      )
      .to('out')
    const d = new TestDriver(p)
    d.input<number>('in').pipeAll([1, 2, 3, 4, 5])
    await waitFor(() => d.output('out').size === 5)
    assert.deepEqual(d.output('out').values(), [100, 200, 300, 400, 500])
    assert.equal(maxRunning, 3)
  })

  it('mapAsync: answers given at once go on at once, and still after the slow ones before them', async () => {
    const p = pipeline('async-mixed')
    const slow = new Set([2, 5, 6])
    let calls = 0
    p.stream<number>('in')
      .mapAsync(
        (n) => {
          calls++
          if (n === 9) throw new Error('nine')
          return slow.has(n) ? new Promise<number>((r) => setTimeout(() => r(n * 10), 20 - n)) : n * 10
        },
        { concurrency: 2, onError: () => 'dlq' },
      )
      .to('out')
    const d = new TestDriver(p)
    d.input<number>('in').pipe(1)
    // Nothing before it waits: emitted within pipe(), like map.
    assert.deepEqual(d.output('out').values(), [10])
    d.input<number>('in').pipeAll([2, 3, 4, 5, 6, 7, 8, 9, 10])
    await waitFor(() => d.output('out').size === 9)
    assert.deepEqual(d.output('out').values(), [10, 20, 30, 40, 50, 60, 70, 80, 100])
    assert.equal(d.deadLetters().length, 1)
    assert.equal(calls, 10)
    d.input<number>('in').pipe(11)
    assert.deepEqual(d.output('out').values().at(-1), 110)
  })

  it('keeps headers and timestamps through operators', () => {
    const p = pipeline('headers')
    p.stream<number>('in').map((n) => n + 1).to('out')
    const d = new TestDriver(p)
    d.input<number>('in').pipe(1, { headers: { trace: Buffer.from('abc') }, timestamp: 1234 })
    const [r] = d.output('out').records()
    assert.equal(r?.headers.trace?.toString(), 'abc')
    assert.equal(r?.timestamp, 1234)
  })

  it('topic serdes: string keys, JSON values by default; custom serdes on to()', () => {
    const p = pipeline('serdes')
    p.stream('in', { value: string() }).map((s): Buffer | null => Buffer.from(`<${s}>`)).to('out', { value: bytes() })
    const d = new TestDriver(p)
    d.input<string | null>('in').pipe('x')
    assert.equal(d.output('out', { value: bytes() }).values()[0]?.toString(), '<x>')
  })

  it('rejects bad DSL arguments with clear errors', () => {
    const p = pipeline('bad')
    const s = p.stream('in')
    assert.throws(() => s.map(42 as never), /map: expected a function/)
    assert.throws(() => s.mapAsync(async (v) => v, { concurrency: 0 }), /concurrency must be a positive integer/)
    s.map((v) => v, { name: 'same' })
    assert.throws(() => s.map((v) => v, { name: 'same' }), /two operators are named "same"/)
    assert.throws(() => pipeline('bad name!'), /pipeline name/)
  })
})

describe('errors follow the policy', () => {
  it('malformed input goes to the dead-letter topic with the original bytes and reasons; the pipeline goes on', () => {
    const p = pipeline('dlq')
    p.stream<{ a: number }>('in').map((v) => v.a).to('out')
    const d = new TestDriver(p)
    d.pipeRaw('in', Buffer.from('{not json'), { key: Buffer.from('k1') })
    d.pipeRaw('in', null)
    d.pipeRaw('in', Buffer.alloc(0))
    d.pipeRaw('in', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))
    d.input<{ a: number }>('in').pipe({ a: 7 })
    assert.deepEqual(d.output('out').values(), [7])
    const dead = d.deadLetters()
    assert.equal(dead.length, 4)
    assert.equal(dead[0]?.value?.toString(), '{not json')
    assert.equal(dead[0]?.key?.toString(), 'k1')
    assert.deepEqual(
      dead.map((x) => x.info.code),
      Array(4).fill(ErrorCode.DESERIALIZE_FAILED),
    )
    assert.match(dead[0]!.info.message!, /malformed JSON/)
    assert.match(dead[1]!.info.message!, /null value/)
    assert.match(dead[2]!.info.message!, /empty value/)
    assert.match(dead[3]!.info.message!, /UTF-8/)
    assert.deepEqual(dead[0]?.info.source, { topic: 'in', partition: 0, offset: 0 })
    assert.equal(dead[0]?.info.stage, 'deserialize:in')
    assert.equal(dead[0]?.info.attempts, 1)
    assert.ok(dead[0]?.info.time)
  })

  it('an operator that throws dead-letters that record only, naming the stage', () => {
    const p = pipeline('throws')
    p.stream<number>('in')
      .map(
        (n) => {
          if (n === 2) throw new Error('two is not allowed')
          return n
        },
        { name: 'picky' },
      )
      .to('out')
    const d = new TestDriver(p)
    d.input<number>('in').pipeAll([1, 2, 3])
    assert.deepEqual(d.output('out').values(), [1, 3])
    const [dead] = d.deadLetters()
    assert.equal(dead?.info.stage, 'picky')
    assert.equal(dead?.info.code, ErrorCode.OPERATOR_FAILED)
    assert.equal(dead?.info.message, 'two is not allowed')
    assert.equal(dead?.value?.toString(), '2')
  })

  it('retriable errors retry with backoff on the clock, then succeed without a dead letter', async () => {
    const p = pipeline('retry')
    let calls = 0
    p.stream<number>('in')
      .map((n) => {
        calls++
        if (calls < 3) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, 'down')
        return n
      })
      .to('out')
    const d = new TestDriver(p, { retry: { initialDelayMs: 100, maxAttempts: 5 } })
    d.input<number>('in').pipe(9)
    assert.equal(d.output('out').size, 0)
    assert.equal(d.task.tracker.inFlight(), 1, 'the record is held while retrying')
    await d.advance(100)
    await d.advance(200)
    assert.deepEqual(d.output('out').values(), [9])
    assert.equal(calls, 3)
    assert.equal(d.deadLetters().length, 0)
  })

  it('retries exhausted → dead letter with the attempt count', async () => {
    const p = pipeline('exhaust')
    p.stream<number>('in')
      .map(() => {
        throw new WeirError(ErrorCode.SINK_UNAVAILABLE, 'still down')
      })
      .to('out')
    const d = new TestDriver(p, { retry: { initialDelayMs: 10, maxAttempts: 3 } })
    d.input<number>('in').pipe(1)
    for (let i = 0; i < 5; i++) await d.advance(1000)
    const [dead] = d.deadLetters()
    assert.equal(dead?.info.attempts, 3)
    assert.equal(d.task.tracker.inFlight(), 0)
  })

  it('per-operator skip policy drops the record and counts it', () => {
    const p = pipeline('skip')
    p.stream<number>('in')
      .map(
        (n) => {
          if (n < 0) throw new Error('negative')
          return n
        },
        { onError: () => 'skip' },
      )
      .to('out')
    const d = new TestDriver(p)
    d.input<number>('in').pipeAll([-1, 1])
    assert.deepEqual(d.output('out').values(), [1])
    assert.equal(d.deadLetters().length, 0)
    assert.equal(d.task.metrics.skipped.get({ stage: 'map-1' }), 1)
  })

  it('fail policy stops: the failing record is never committed', async () => {
    const p = pipeline('fail')
    p.stream<number>('in')
      .map(
        (n) => {
          if (n === 3) throw new Error('boom')
          return n
        },
        { onError: () => 'fail' },
      )
      .to('out')
    const d = new TestDriver(p)
    let fatal: unknown
    d.task.onFatal((e) => {
      fatal = e
    })
    d.input<number>('in').pipeAll([1, 2, 3, 4])
    const committed = await d.checkpoint()
    assert.ok(fatal instanceof WeirError)
    assert.deepEqual(committed, [{ topic: 'in', partition: 0, offset: 2 }], 'commits up to, not past, the failed record')
  })
})

describe('validate', () => {
  const schema = {
    safeParse(v: unknown) {
      const o = v as { speed?: unknown }
      if (typeof o?.speed === 'number' && o.speed >= 0 && o.speed <= 120) return { success: true as const, data: { speed: o.speed } }
      return { success: false as const, error: { issues: [{ path: ['speed'], message: 'speed must be 0–120', code: 'range' }] } }
    },
  }

  it('sends invalid records to the dead-letter topic with every violation when nothing reads `invalid`', () => {
    const p = pipeline('validate-dlq')
    p.stream('in').validate(schema).valid.map((v) => v.speed).to('out')
    const d = new TestDriver(p)
    d.input('in').pipeAll([{ speed: 50 }, { speed: 500 }])
    assert.deepEqual(d.output('out').values(), [50])
    const [dead] = d.deadLetters()
    assert.equal(dead?.info.code, ErrorCode.VALIDATION_FAILED)
    assert.deepEqual(dead?.info.details, [{ rule: 'range', field: 'speed', message: 'speed must be 0–120' }])
  })

  it('takes a zod schema: the parsed value goes on, zod decides and explains the rest', () => {
    const Reading = z
      .object({ sensor: z.string().min(1), speed: z.number().min(0).max(120) })
      .refine((r) => r.sensor !== 'retired', { message: 'sensor retired', path: ['sensor'] })
    const runtimeRuns = countRuntimeRuns(Reading)
    const p = pipeline('validate-zod')
    p.stream('in').validate(Reading).valid.to('out')
    const d = new TestDriver(p)
    d.input('in').pipeAll([{ sensor: 's1', speed: 50, extra: 1 }, { sensor: 'retired', speed: 1 }, { speed: 500 }])
    assert.deepEqual(d.output('out').values(), [{ sensor: 's1', speed: 50 }])
    assert.deepEqual(
      d.deadLetters().map((x) => x.info.details),
      [
        [{ rule: 'custom', field: 'sensor', message: 'sensor retired' }],
        [
          { rule: 'invalid_type', field: 'sensor', message: 'Invalid input: expected string, received undefined' },
          { rule: 'too_big', field: 'speed', message: 'Too big: expected number to be <=120' },
        ],
      ],
    )
    assert.equal(runtimeRuns(), 2, 'only the two invalid records reach the runtime parser')
  })

  it('routes invalid records to the invalid branch when it is used', () => {
    const p = pipeline('validate-branch')
    const { valid, invalid } = p.stream('in').validate(schema)
    valid.to('good')
    invalid.map((x) => x.violations.length).to('bad')
    const d = new TestDriver(p)
    d.input('in').pipeAll([{ speed: 1 }, { speed: -1 }])
    assert.deepEqual(d.output('good').values(), [{ speed: 1 }])
    assert.deepEqual(d.output('bad').values(), [1])
    assert.equal(d.deadLetters().length, 0)
  })
})

describe('offsets', () => {
  it('checkpoint commits the next offset after the last fully processed record per partition', async () => {
    const p = pipeline('commit')
    p.stream<number>('in', { value: json<number>() }).to('out')
    const d = new TestDriver(p)
    d.input<number>('in').pipe(1, { partition: 0 }).pipe(2, { partition: 0 }).pipe(3, { partition: 1 })
    const committed = await d.checkpoint()
    assert.deepEqual(
      [...committed].sort((a, b) => a.partition - b.partition),
      [
        { topic: 'in', partition: 0, offset: 2 },
        { topic: 'in', partition: 1, offset: 1 },
      ],
    )
    assert.deepEqual(await d.checkpoint(), [], 'nothing new to commit')
  })
})

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('dead-letter headers', () => {
  it('keeps weir.error.details valid JSON when there are too many violations to fit', () => {
    const p = pipeline('many-violations')
    const violations = Array.from({ length: 500 }, (_, i) => ({ rule: `r${i}`, field: `f${i}`, message: `field f${i} is wrong in a long way` }))
    p.stream('in').validate(() => ({ ok: false as const, violations })).valid.to('out')
    const d = new TestDriver(p)
    d.input('in').pipe({})
    const details = d.deadLetters()[0]?.info.details as unknown[]
    assert.ok(Array.isArray(details), 'details parse as a JSON array')
    assert.ok(details.length > 10 && details.length < 500)
    assert.deepEqual(details.at(-1), { omitted: 500 - (details.length - 1) })
  })
})

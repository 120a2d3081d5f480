/**
 * Pieces of the fault suite: a feeder that writes input at a steady rate (and survives a broker
 * restart), an independent reader that counts what reached Kafka (read_committed), Redis (a
 * subscriber) or PostgreSQL (rows), a supervisor's view of progress (the group's committed offsets),
 * and the table the suite prints.
 */
import type { KafkaTransport } from '../../src/connectors/kafka/index.ts'
import type { RawRecord } from '../../src/core/record.ts'
import { readAll } from '../integration/helpers/apps.ts'
import { sleep } from '../integration/helpers/services.ts'

export type Guarantee = 'at_least_once' | 'exactly_once'

/** One line of the table. */
export interface FaultRow {
  readonly scenario: string
  readonly app: string
  readonly guarantee: Guarantee
  /** Distinct inputs written. */
  readonly recordsIn: number
  /** Output records (windows for traffic-windows, messages for rideshare, rows for PostgreSQL). */
  readonly out: number
  readonly deadLettered: number
  readonly lost: number
  readonly duplicated: number
  /** Longest time from the end of a fault until the group committed again, ms (none: no fault). */
  readonly recoverMs: number | undefined
  /**
   * After a kill -9: longest time from the restarted process's start-up line to its partitions being
   * assigned (the group join alone, without the process's own boot time), ms.
   */
  readonly joinMs?: number
  /** Instances that exited 1 by themselves and were started again (as a supervisor would). */
  readonly restartsAfterExit1?: number
  /** Every recovery time seen (one per kill, say), ms. */
  readonly recoveriesMs?: readonly number[]
  /** Whether duplicates break this row's rule (Kafka outputs under exactly-once). */
  readonly duplicatesAllowed: boolean
  readonly note?: string
}

/** A small deterministic RNG, so "random moments" repeat from run to run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface FeedRecord {
  readonly key: Buffer | null
  readonly value: Buffer
  readonly timestamp?: number
  readonly id: string
}

export interface Feeder {
  /** Resolves when every record is acknowledged. */
  readonly done: Promise<void>
  /** Records acknowledged so far. */
  sent(): number
  /** Stops feeding early; resolves once what was added is acknowledged. */
  stop(): Promise<void>
}

/**
 * Writes `count` records from `make(i)` at about `ratePerSec`, each with a `test-id` header. A flush
 * that fails (the broker is down) is retried until it succeeds: the sink keeps what it could not send,
 * so the input itself is complete (the reader counts it anyway).
 */
export function feed(
  kafka: KafkaTransport,
  topic: string,
  count: number,
  ratePerSec: number,
  make: (i: number) => FeedRecord,
): Feeder {
  let acked = 0
  let stopped = false
  const done = (async () => {
    const sink = kafka.sink({ clientId: `faults-feeder-${topic}` })
    for (;;) {
      try {
        await sink.open()
        break
      } catch {
        await sleep(500)
      }
    }
    try {
      const step = Math.max(1, Math.round(ratePerSec / 10))
      const started = performance.now()
      for (let i = 0; i < count && !stopped; ) {
        const end = Math.min(count, i + step)
        for (; i < end; i++) {
          const r = make(i)
          sink.add({
            topic,
            key: r.key,
            value: r.value,
            headers: { 'test-id': Buffer.from(r.id) },
            ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
          })
        }
        for (;;) {
          try {
            await sink.flush()
            break
          } catch {
            await sleep(250)
          }
        }
        acked = i
        const due = started + (i / ratePerSec) * 1000
        const wait = due - performance.now()
        if (wait > 0) await sleep(wait)
      }
    } finally {
      await sink.close()
    }
  })()
  return {
    done,
    sent: () => acked,
    stop: () => {
      stopped = true
      return done
    },
  }
}

/** Occurrences per id. */
export function countIds(
  records: Iterable<RawRecord>,
  idOf: (r: RawRecord) => string = testIdOf,
): Map<string, number> {
  const m = new Map<string, number>()
  for (const r of records) {
    const id = idOf(r)
    m.set(id, (m.get(id) ?? 0) + 1)
  }
  return m
}

export function testIdOf(r: RawRecord): string {
  return r.headers['test-id']?.toString() ?? `${r.topic}:${r.partition}@${r.offset}`
}

/**
 * Lost: inputs with no output at all. Duplicated: outputs beyond the number of times an input was
 * written (a producer retry may write an input twice; that is not the processor's doing).
 */
export function lostAndDuplicated(
  inputs: ReadonlyMap<string, number>,
  outputs: ReadonlyMap<string, number>,
): { lost: number; duplicated: number } {
  let lost = 0
  let duplicated = 0
  for (const [id, n] of inputs) {
    const got = outputs.get(id) ?? 0
    if (got === 0) lost++
    else if (got > n) duplicated += got - n
  }
  return { lost, duplicated }
}

export async function readTopic(kafka: KafkaTransport, topic: string): Promise<RawRecord[]> {
  return readAll(kafka, topic)
}

/** Sum of the group's committed offsets over the topics (−1 while the broker does not answer). */
export async function committedTotal(
  kafka: KafkaTransport,
  groupId: string,
  topics: readonly string[],
): Promise<number> {
  const admin = kafka.admin()
  try {
    const committed = await admin.committedOffsets(groupId, topics)
    let n = 0
    for (const v of committed.values()) n += Math.max(0, v)
    return n
  } catch {
    return -1
  } finally {
    await admin.close().catch(() => {})
  }
}

/** True once the committed offsets reach the end of every partition of the topics. */
export async function caughtUp(
  kafka: KafkaTransport,
  groupId: string,
  topics: readonly string[],
): Promise<boolean> {
  const admin = kafka.admin()
  try {
    const [ends, committed] = await Promise.all([
      admin.endOffsets(topics),
      admin.committedOffsets(groupId, topics),
    ])
    return [...ends].every(([tp, end]) => (committed.get(tp) ?? 0) >= end)
  } catch {
    return false
  } finally {
    await admin.close().catch(() => {})
  }
}

/**
 * Milliseconds from `since` (the end of a fault: the process restarted, the service back) until
 * processing is back: the group commits past what it had committed, or, when there was nothing left to
 * read, `ready()` (the instance owns its partitions) with every input committed.
 */
export async function recovery(
  kafka: KafkaTransport,
  groupId: string,
  topics: readonly string[],
  since: number,
  ready: () => boolean = () => true,
  timeoutMs = 120_000,
): Promise<number> {
  const base = await waitCommitted(kafka, groupId, topics)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const now = await committedTotal(kafka, groupId, topics)
    if (now > base || (ready() && (await caughtUp(kafka, groupId, topics)))) return Date.now() - since
    await sleep(100)
  }
  throw new Error(`group ${groupId} committed nothing within ${timeoutMs} ms after the fault`)
}

async function waitCommitted(
  kafka: KafkaTransport,
  groupId: string,
  topics: readonly string[],
): Promise<number> {
  for (;;) {
    const n = await committedTotal(kafka, groupId, topics)
    if (n >= 0) return n
    await sleep(200)
  }
}

export async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 180_000,
  everyMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/** The table, as Markdown (it goes into the README as it is). */
export function table(rows: readonly FaultRow[]): string {
  const head = [
    'scenario',
    'app',
    'guarantee',
    'records in',
    'out',
    'dead-lettered',
    'lost',
    'duplicated',
    'time to recover',
  ]
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`]
  for (const r of rows) {
    const dup =
      r.duplicated === 0 ? '0' : `${r.duplicated.toLocaleString('en-US')}${r.duplicatesAllowed ? '' : ' ✗'}`
    lines.push(
      `| ${r.scenario}${r.note ? ` (${r.note})` : ''}${r.restartsAfterExit1 ? ` (${r.restartsAfterExit1} restart(s) after exit 1)` : ''} | ${r.app} | ${r.guarantee} | ${r.recordsIn.toLocaleString('en-US')} | ${r.out.toLocaleString('en-US')} | ${r.deadLettered.toLocaleString('en-US')} | ${r.lost === 0 ? '0' : `${r.lost} ✗`} | ${dup} | ${r.recoverMs === undefined ? '–' : `${(r.recoverMs / 1000).toFixed(1)} s`}${r.joinMs === undefined ? '' : ` (join ${(r.joinMs / 1000).toFixed(1)} s)`} |`,
    )
  }
  return lines.join('\n')
}

/**
 * Partitions of `topics` with a transaction still open: their last stable offset (where read_committed
 * readers stop) is below their end. Once every instance has stopped none may be left: an open one hides
 * every record after its start from read_committed readers (a "hanging" transaction), which counts as lost.
 */
export async function openTransactions(kafka: KafkaTransport, topics: readonly string[]): Promise<string[]> {
  const admin = kafka.admin()
  try {
    const existing = new Set(await admin.listTopics())
    const present = topics.filter((t) => existing.has(t))
    const stable = await admin.endOffsets(present)
    const open: string[] = []
    for (const [tp, end] of await admin.highWatermarks(present)) {
      const s = stable.get(tp)
      if (s !== undefined && s < end) open.push(`${tp} (last stable offset ${s}, end ${end})`)
    }
    return open
  } finally {
    await admin.close()
  }
}

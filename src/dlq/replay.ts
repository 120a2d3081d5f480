/**
 * `replayDeadLetters`: re-injects the original records of a dead-letter topic after a fix.
 *
 * Each dead letter's key, value bytes, timestamp and original headers (Weir's `weir.*` headers removed,
 * `weir.replay.from` and an incremented `weir.replay.count` added) go to `to`, or by default back to the
 * topic the record came from (`weir.source.topic`). `codes` keeps only dead letters with those error codes;
 * the others are skipped (and passed over: the group moves on).
 *
 * Delivery is at least once and progress survives a crash: the dead-letter topic is read by a consumer
 * group, and after every batch the producer is flushed and only THEN the group's offsets are committed.
 * A rerun continues where the last one committed. A run stops at the end offsets captured when it
 * started, so dead letters written meanwhile wait for the next run; a run after a complete one replays
 * nothing. A dry run reads outside the group and writes and commits nothing. A `to` topic that does not
 * exist is created; a missing source topic fails the run (nothing of the failed batch is committed).
 *
 * @example
 * const result = await replayDeadLetters({ transport: kafkaTransport({ brokers }), topic: 'orders-dlq', codes: ['OPERATOR_FAILED'] })
 * console.log(`${result.replayed} replayed, ${result.skipped} skipped`)
 */
import type { CommitOffset, RecordSink, Source, Transport } from '../connectors/contract.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'
import { headerText, type RawRecord } from '../core/record.ts'
import { type Logger, silentLogger } from '../log/logger.ts'
import { DeadLetterHeader, originalValue } from '../runtime/dead-letter.ts'
import { replayHeaders } from './headers.ts'
import { offsetReader } from './offsets.ts'

export interface ReplayOptions {
  readonly transport: Transport
  /** The dead-letter topic. */
  readonly topic: string
  /** Where to write; default: each record's source topic (`weir.source.topic`). */
  readonly to?: string
  /** Only dead letters with one of these error codes (e.g. `OPERATOR_FAILED`); default all. */
  readonly codes?: readonly string[]
  /** Default `defaultReplayGroup(topic, codes)`. */
  readonly groupId?: string
  readonly clientId?: string
  /** Count what would be replayed; write and commit nothing. */
  readonly dryRun?: boolean
  /** Stops after the batch in hand is written and committed. */
  readonly signal?: AbortSignal
  /** After every batch and once at the end. */
  readonly onProgress?: (progress: ReplayProgress) => void
  /**
   * With no record for this long, partitions not yet at their end are checked for readable records at
   * all (a partition may end in transaction markers only). Default 2000 ms.
   */
  readonly idleMs?: number
  readonly logger?: Logger
}

export interface ReplayProgress {
  /** Offsets between the group's start positions and the end offsets captured at start. */
  readonly total: number
  /** Offsets passed so far (replayed, skipped or unroutable records, and gaps). */
  readonly position: number
  readonly replayed: number
  /** Dead letters the code filter passed over. */
  readonly skipped: number
  /** Dead letters with no source topic header while no `to` was given (passed over, logged). */
  readonly unroutable: number
  /** Replayed records per target topic. */
  readonly byTarget: Readonly<Record<string, number>>
  readonly elapsedMs: number
}

export interface ReplayResult extends ReplayProgress {
  readonly topic: string
  readonly groupId: string
  readonly dryRun: boolean
  /** `nothing-to-do`: the group was already at the end offsets when the run started. */
  readonly outcome: 'completed' | 'aborted' | 'nothing-to-do'
  /** The group's committed position per partition when the run ended (dry run: where it would be). */
  readonly positions: Readonly<Record<number, number>>
}

/**
 * `weir-dlq-replay-<topic>`, with the codes appended when filtering: a filtered replay must not move
 * the position of a later replay of the other codes.
 */
export function defaultReplayGroup(topic: string, codes: readonly string[] = []): string {
  const list = normalizeCodes(codes)
  return list.length === 0 ? `weir-dlq-replay-${topic}` : `weir-dlq-replay-${topic}-${list.sort().join('+')}`
}

function normalizeCodes(codes: readonly string[]): string[] {
  return [...new Set(codes.map((c) => c.trim().toUpperCase()).filter((c) => c !== ''))]
}

interface PartitionState {
  readonly start: number
  readonly end: number
  next: number
}

export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayResult> {
  const { transport, topic } = options
  const started = performance.now()
  const logger = (options.logger ?? silentLogger).child({ component: 'dlq-replay', topic })
  const codes = normalizeCodes(options.codes ?? [])
  const filter = codes.length > 0 ? new Set(codes) : undefined
  const groupId = options.groupId ?? defaultReplayGroup(topic, codes)
  const dryRun = options.dryRun ?? false
  const idleMs = options.idleMs ?? 2000

  const reader = offsetReader(transport)
  let ends: Map<number, number>
  let begins: Map<number, number>
  let committed: Map<number, number>
  try {
    ;[ends, begins, committed] = await Promise.all([
      reader.endOffsets(topic),
      reader.beginningOffsets(topic),
      reader.committedOffsets(groupId, topic),
    ])
  } finally {
    await reader.close()
  }
  if (ends.size === 0)
    throw new WeirError(ErrorCode.CONFIG_INVALID, `dead-letter topic "${topic}" does not exist`)

  const parts = new Map<number, PartitionState>()
  for (const [p, end] of ends) {
    const begin = begins.get(p) ?? 0
    const start = Math.min(end, Math.max(committed.get(p) ?? begin, begin))
    parts.set(p, { start, end, next: start })
  }
  let total = 0
  for (const s of parts.values()) total += s.end - s.start

  let replayed = 0
  let skipped = 0
  let unroutable = 0
  const byTarget: Record<string, number> = {}
  const progress = (): ReplayProgress => {
    let position = 0
    for (const s of parts.values()) position += s.next - s.start
    return {
      total,
      position,
      replayed,
      skipped,
      unroutable,
      byTarget: { ...byTarget },
      elapsedMs: performance.now() - started,
    }
  }
  const result = (outcome: ReplayResult['outcome']): ReplayResult => ({
    ...progress(),
    topic,
    groupId,
    dryRun,
    outcome,
    positions: Object.fromEntries([...parts].map(([p, s]) => [p, s.next])),
  })
  const remaining = () => [...parts].filter(([, s]) => s.next < s.end).map(([p]) => p)
  if (remaining().length === 0) {
    options.onProgress?.(progress())
    return result('nothing-to-do')
  }

  let sink: RecordSink | undefined
  /** Partitions whose position moved since the last commit. */
  let moved = new Set<number>()
  const handle = (raw: RawRecord): void => {
    const s = parts.get(raw.partition)
    // Beyond the end captured at start (left for the next run), or seen already.
    if (s === undefined || raw.offset >= s.end || raw.offset < s.next) return
    s.next = raw.offset + 1
    moved.add(raw.partition)
    const code = headerText(raw.headers, DeadLetterHeader.code)
    if (filter !== undefined && (code === undefined || !filter.has(code.toUpperCase()))) {
      skipped++
      return
    }
    const target = options.to ?? headerText(raw.headers, DeadLetterHeader.topic)
    if (target === undefined || target === '') {
      if (unroutable++ < 10)
        logger.warn('dead letter has no source topic and no --to was given; passed over', {
          partition: raw.partition,
          offset: raw.offset,
        })
      return
    }
    sink?.add({
      topic: target,
      key: raw.key,
      value: originalValue(raw),
      headers: replayHeaders(raw),
      timestamp: raw.timestamp,
    })
    replayed++
    byTarget[target] = (byTarget[target] ?? 0) + 1
  }

  if (dryRun) {
    for (const p of remaining()) {
      const s = parts.get(p)!
      read: for await (const batch of transport.readPartition({ topic, partition: p }, { from: s.next })) {
        for (const r of batch) {
          if (r.offset >= s.end) break read
          handle(r)
        }
        options.onProgress?.(progress())
        if (options.signal?.aborted) return result('aborted')
      }
      // Whatever is left before the end is not readable (transaction markers, aborted records).
      s.next = s.end
    }
    options.onProgress?.(progress())
    return result('completed')
  }

  if (options.to !== undefined) {
    // A new target is created like the dead-letter topic (its partition count, the broker's replication).
    const admin = transport.admin()
    try {
      await admin.ensureTopics([{ name: options.to, partitions: ends.size, replicationFactor: -1 }])
    } finally {
      await admin.close()
    }
  }
  const clientId = options.clientId ?? 'weir-dlq-replay'
  sink = transport.sink({ clientId })
  await sink.open()
  const source: Source = transport.source({
    groupId,
    clientId,
    topics: [topic],
    fromBeginning: true,
    maxBatch: 1000,
  })
  const owned = new Set<number>()
  let assigned = false
  let rebalancing = false

  // The checkpoint order: flush the producer, THEN commit the group's offsets. Serialised.
  let chain: Promise<void> = Promise.resolve()
  const checkpoint = (): Promise<void> => {
    chain = chain.then(async () => {
      if (moved.size === 0) return
      const offsets: CommitOffset[] = [...moved].map((partition) => ({
        topic,
        partition,
        offset: parts.get(partition)!.next,
      }))
      moved = new Set()
      await sink!.flush()
      await source.commit(offsets)
    })
    return chain
  }

  let outcome: ReplayResult['outcome'] = 'completed'
  try {
    await source.open({
      assigned: async (tps) => {
        for (const tp of tps) if (tp.topic === topic) owned.add(tp.partition)
        assigned = true
        rebalancing = false
      },
      revoked: async () => {
        rebalancing = true
        await checkpoint()
        owned.clear()
      },
    })
    const done = () =>
      assigned &&
      !rebalancing &&
      [...owned].every((p) => (parts.get(p)?.next ?? 0) >= (parts.get(p)?.end ?? 0))
    const it = source.batches()[Symbol.asyncIterator]()
    let next: Promise<IteratorResult<readonly RawRecord[]>> | undefined
    let lastData = performance.now()
    for (;;) {
      if (options.signal?.aborted) {
        outcome = 'aborted'
        break
      }
      if (done()) break
      next ??= it.next()
      const r = await Promise.race([next, sleep(Math.min(250, idleMs))])
      if (r === undefined) {
        if (performance.now() - lastData >= idleMs) {
          await settleUnreadable(transport, topic, parts, owned, moved)
          lastData = performance.now()
        }
        continue
      }
      next = undefined
      if (r.done) {
        outcome = 'aborted'
        break
      }
      lastData = performance.now()
      for (const raw of r.value) handle(raw)
      await checkpoint()
      options.onProgress?.(progress())
    }
    await checkpoint()
  } finally {
    await source.close().catch((err: unknown) => logger.warn('closing the consumer failed', { error: err }))
    await sink.close().catch((err: unknown) => logger.warn('closing the producer failed', { error: err }))
  }
  options.onProgress?.(progress())
  return result(outcome)
}

/**
 * For each owned partition short of its end: if nothing readable lies before the end (the rest is
 * transaction markers or aborted records), moves its position to the end so the run can finish.
 */
async function settleUnreadable(
  transport: Transport,
  topic: string,
  parts: Map<number, PartitionState>,
  owned: ReadonlySet<number>,
  moved: Set<number>,
): Promise<void> {
  for (const p of owned) {
    const s = parts.get(p)
    if (s === undefined || s.next >= s.end) continue
    let readable = false
    for await (const batch of transport.readPartition({ topic, partition: p }, { from: s.next })) {
      readable = batch.some((r) => r.offset < s.end)
      break
    }
    if (!readable) {
      s.next = s.end
      moved.add(p)
    }
  }
}

function sleep(ms: number): Promise<undefined> {
  return new Promise((r) => setTimeout(() => r(undefined), ms))
}

/**
 * `inspectDeadLetters`: reads a whole dead-letter topic outside any consumer group (up to the end
 * offsets of the moment it starts) and summarises it: counts by error code and stage, by source topic,
 * the time range of the failures, and a uniform random sample of records with their reasons.
 *
 * @example
 * const report = await inspectDeadLetters(kafkaTransport({ brokers }), 'schema-validation-errors', { sample: 5 })
 * process.stdout.write(formatInspectReport(report))
 */
import type { Transport } from '../connectors/contract.ts'
import type { RawRecord } from '../core/record.ts'
import { readDeadLetter } from '../runtime/dead-letter.ts'
import { offsetReader } from './offsets.ts'
import { preview } from './preview.ts'
import { replayCount } from './headers.ts'

export interface InspectOptions {
  /** Records to sample (uniformly, reservoir sampling). Default 10. */
  readonly sample?: number
  /** Characters of the key and value previews. Default 120. */
  readonly previewChars?: number
  /** For a reproducible sample. Default Math.random. */
  readonly random?: () => number
}

export interface DeadLetterSample {
  readonly partition: number
  readonly offset: number
  readonly code: string | null
  readonly message: string | null
  readonly stage: string | null
  readonly details: unknown
  readonly source: {
    readonly topic: string | null
    readonly partition: number | null
    readonly offset: number | null
  }
  readonly time: string | null
  readonly attempts: number | null
  readonly replayed: number
  readonly key: string
  readonly value: string
  readonly valueBytes: number | null
}

export interface CountRow {
  readonly count: number
}

export interface InspectReport {
  readonly topic: string
  /** Dead letters read (every record of the topic up to the end offsets at the start). */
  readonly total: number
  readonly partitions: ReadonlyArray<{
    readonly partition: number
    readonly from: number
    readonly end: number
    readonly records: number
  }>
  readonly byCode: ReadonlyArray<{ readonly code: string } & CountRow>
  readonly byCodeAndStage: ReadonlyArray<{ readonly code: string; readonly stage: string } & CountRow>
  readonly bySourceTopic: ReadonlyArray<{ readonly topic: string } & CountRow>
  /** First and last failure time (the `weir.error.time` header, else the record timestamp). */
  readonly timeRange: { readonly first: string; readonly last: string } | null
  /** Records without Weir's error headers (not written by a Weir dead-letter route). */
  readonly withoutReason: number
  /** Records that were replayed before and failed again. */
  readonly replayedBefore: number
  readonly sample: readonly DeadLetterSample[]
}

const UNKNOWN = '(none)'

export async function inspectDeadLetters(
  transport: Transport,
  topic: string,
  options: InspectOptions = {},
): Promise<InspectReport> {
  const sampleSize = Math.max(0, Math.floor(options.sample ?? 10))
  const random = options.random ?? Math.random
  const previewChars = options.previewChars ?? 120
  const offsets = offsetReader(transport)
  let ends: Map<number, number>
  let begins: Map<number, number>
  try {
    ;[ends, begins] = await Promise.all([offsets.endOffsets(topic), offsets.beginningOffsets(topic)])
  } finally {
    await offsets.close()
  }

  const byCode = new Map<string, number>()
  const byCodeStage = new Map<string, { code: string; stage: string; count: number }>()
  const bySource = new Map<string, number>()
  const partitions: Array<{ partition: number; from: number; end: number; records: number }> = []
  const reservoir: RawRecord[] = []
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  let total = 0
  let withoutReason = 0
  let replayedBefore = 0

  for (const [partition, end] of [...ends].sort((a, b) => a[0] - b[0])) {
    const from = begins.get(partition) ?? 0
    let records = 0
    if (from < end) {
      outer: for await (const batch of transport.readPartition({ topic, partition }, { from })) {
        for (const r of batch) {
          if (r.offset >= end) break outer
          records++
          total++
          const info = readDeadLetter(r.headers)
          if (info.code === undefined) withoutReason++
          if (replayCount(r.headers) > 0) replayedBefore++
          const code = info.code ?? UNKNOWN
          const stage = info.stage ?? UNKNOWN
          byCode.set(code, (byCode.get(code) ?? 0) + 1)
          const cs = `${code}\u0000${stage}`
          const row = byCodeStage.get(cs)
          if (row) row.count++
          else byCodeStage.set(cs, { code, stage, count: 1 })
          const source = info.source.topic ?? UNKNOWN
          bySource.set(source, (bySource.get(source) ?? 0) + 1)
          const t = info.time === undefined ? r.timestamp : Date.parse(info.time)
          if (Number.isFinite(t)) {
            if (t < first) first = t
            if (t > last) last = t
          }
          // Algorithm R: every record ends up in the sample with probability sampleSize / total.
          if (reservoir.length < sampleSize) reservoir.push(r)
          else if (sampleSize > 0) {
            const j = Math.floor(random() * total)
            if (j < sampleSize) reservoir[j] = r
          }
        }
      }
    }
    partitions.push({ partition, from, end, records })
  }

  const desc = <T extends CountRow>(rows: T[]) => rows.sort((a, b) => b.count - a.count)
  return {
    topic,
    total,
    partitions,
    byCode: desc([...byCode].map(([code, count]) => ({ code, count }))),
    byCodeAndStage: desc([...byCodeStage.values()]),
    bySourceTopic: desc([...bySource].map(([topic, count]) => ({ topic, count }))),
    timeRange: Number.isFinite(first)
      ? { first: new Date(first).toISOString(), last: new Date(last).toISOString() }
      : null,
    withoutReason,
    replayedBefore,
    sample: reservoir
      .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
      .map((r) => toSample(r, previewChars)),
  }
}

function toSample(r: RawRecord, previewChars: number): DeadLetterSample {
  const info = readDeadLetter(r.headers)
  return {
    partition: r.partition,
    offset: r.offset,
    code: info.code ?? null,
    message: info.message ?? null,
    stage: info.stage ?? null,
    details: info.details ?? null,
    source: {
      topic: info.source.topic ?? null,
      partition: info.source.partition ?? null,
      offset: info.source.offset ?? null,
    },
    time: info.time ?? null,
    attempts: info.attempts ?? null,
    replayed: replayCount(r.headers),
    key: preview(r.key, 60),
    value: preview(r.value, previewChars),
    valueBytes: r.value === null ? null : r.value.length,
  }
}

/** The report as text for a terminal. */
export function formatInspectReport(report: InspectReport): string {
  const n = (x: number) => x.toLocaleString('en-US')
  const pct = (x: number) => (report.total === 0 ? '' : ` (${((100 * x) / report.total).toFixed(1)}%)`)
  const lines: string[] = []
  lines.push(
    `dead-letter topic ${report.topic}: ${n(report.total)} record${report.total === 1 ? '' : 's'} in ${report.partitions.length} partition${report.partitions.length === 1 ? '' : 's'}`,
  )
  if (report.total === 0) return `${lines.join('\n')}\n`
  if (report.timeRange) lines.push(`failed between ${report.timeRange.first} and ${report.timeRange.last}`)
  if (report.withoutReason > 0)
    lines.push(`${n(report.withoutReason)} record(s) carry no weir.error.* headers`)
  if (report.replayedBefore > 0)
    lines.push(`${n(report.replayedBefore)} record(s) failed again after a replay`)
  const table = (title: string, head: string[], rows: string[][]) => {
    lines.push('', title)
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    const fmt = (cells: string[]) =>
      `  ${cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')}`
    lines.push(fmt(head))
    for (const r of rows) lines.push(fmt(r))
  }
  table(
    'by error code:',
    ['CODE', 'COUNT'],
    report.byCode.map((r) => [r.code, `${n(r.count)}${pct(r.count)}`]),
  )
  table(
    'by error code and stage:',
    ['CODE', 'STAGE', 'COUNT'],
    report.byCodeAndStage.map((r) => [r.code, r.stage, n(r.count)]),
  )
  table(
    'by source topic:',
    ['SOURCE TOPIC', 'COUNT'],
    report.bySourceTopic.map((r) => [r.topic, `${n(r.count)}${pct(r.count)}`]),
  )
  if (report.sample.length > 0) {
    lines.push('', `sample of ${report.sample.length}:`)
    for (const s of report.sample) {
      const from =
        s.source.topic === null
          ? 'unknown source'
          : `${s.source.topic}:${s.source.partition ?? '?'}@${s.source.offset ?? '?'}`
      lines.push(
        `  [${s.partition}@${s.offset}] ${s.code ?? UNKNOWN} at ${s.stage ?? UNKNOWN} ← ${from}${s.time ? `  ${s.time}` : ''}${s.attempts && s.attempts > 1 ? `  (${s.attempts} attempts)` : ''}${s.replayed ? `  (replayed ${s.replayed}×)` : ''}`,
      )
      if (s.message)
        lines.push(`      reason: ${s.message.length > 300 ? `${s.message.slice(0, 299)}…` : s.message}`)
      lines.push(`      key:    ${s.key}`)
      lines.push(
        `      value:  ${s.value}${s.valueBytes !== null && s.valueBytes > 0 ? `  (${n(s.valueBytes)} bytes)` : ''}`,
      )
    }
  }
  return `${lines.join('\n')}\n`
}

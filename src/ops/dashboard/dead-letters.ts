/**
 * The last dead letters, read from the tail of the dead-letter topic itself (what is durably there, on
 * Kafka or the in-process broker), with their reason, source and a preview of key and value. Read at
 * most once per `cacheMs` however many pages poll; previews are left out when values must not show.
 */
import type { Transport } from '../../connectors/contract.ts'
import { offsetReader } from '../../dlq/offsets.ts'
import { preview } from '../../dlq/preview.ts'
import { readDeadLetter } from '../../runtime/dead-letter.ts'

export interface DeadLetterRow {
  readonly partition: number
  readonly offset: number
  readonly code: string | null
  readonly message: string | null
  readonly stage: string | null
  readonly time: string | null
  readonly source: {
    readonly topic: string | null
    readonly partition: number | null
    readonly offset: number | null
  }
  /** Absent when values are hidden (OPS_SHOW_VALUES=false, or an app with personal data). */
  readonly key?: string
  readonly value?: string
}

export interface DeadLetterTail {
  readonly topic: string
  readonly total: number
  readonly rows: readonly DeadLetterRow[]
  readonly values_shown: boolean
  /** The command that re-injects these records after a fix. */
  readonly replay_command: string
  readonly error?: string
}

export interface DeadLetterSource {
  readonly topic: string
  recent(limit: number): Promise<DeadLetterTail>
}

export interface DeadLetterSourceOptions {
  /** The transport, or how to get it when the first page asks (the service makes it after binding its port). */
  readonly transport: Transport | (() => Transport)
  readonly topic: string
  readonly showValues: boolean
  /** Default 2000. */
  readonly cacheMs?: number
  readonly previewChars?: number
}

const MAX_ROWS = 200

export function deadLetterSource(options: DeadLetterSourceOptions): DeadLetterSource {
  const { topic, showValues, cacheMs = 2000, previewChars = 160 } = options
  const replay = `weir dlq replay ${topic} --dry-run`
  let cached: { at: number; limit: number; tail: Promise<DeadLetterTail> } | undefined

  const read = async (limit: number): Promise<DeadLetterTail> => {
    const transport = typeof options.transport === 'function' ? options.transport() : options.transport
    const offsets = offsetReader(transport)
    try {
      const ends = await offsets.endOffsets(topic)
      const begins = await offsets.beginningOffsets(topic)
      let total = 0
      const rows: DeadLetterRow[] = []
      for (const [partition, end] of ends) {
        const begin = begins.get(partition) ?? 0
        total += end - begin
        const from = Math.max(begin, end - limit)
        if (from >= end) continue
        for await (const batch of transport.readPartition({ topic, partition }, { from })) {
          for (const r of batch) {
            const info = readDeadLetter(r.headers)
            rows.push({
              partition,
              offset: r.offset,
              code: info.code ?? null,
              message: info.message ?? null,
              stage: info.stage ?? null,
              time: info.time ?? null,
              source: {
                topic: info.source.topic ?? null,
                partition: info.source.partition ?? null,
                offset: info.source.offset ?? null,
              },
              ...(showValues && { key: preview(r.key, previewChars), value: preview(r.value, previewChars) }),
            })
          }
        }
      }
      rows.sort((a, b) => (b.time ?? '').localeCompare(a.time ?? '') || b.offset - a.offset)
      return { topic, total, rows: rows.slice(0, limit), values_shown: showValues, replay_command: replay }
    } finally {
      await offsets.close()
    }
  }

  return {
    topic,
    recent(limit) {
      const n = Math.max(1, Math.min(MAX_ROWS, Math.floor(limit)))
      const now = Date.now()
      if (cached === undefined || now - cached.at > cacheMs || cached.limit !== n) {
        const tail = read(n).catch(
          (err: unknown): DeadLetterTail => ({
            topic,
            total: 0,
            rows: [],
            values_shown: showValues,
            replay_command: replay,
            error: err instanceof Error ? err.message : String(err),
          }),
        )
        cached = { at: now, limit: n, tail }
      }
      return cached.tail
    },
  }
}

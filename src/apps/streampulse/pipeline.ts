/**
 * StreamPulse's pipeline: Avro download events → validate → three 1-minute tumbling windows on event
 * time (per content, per region, per device type and OS version) → partial rows in PostgreSQL, from
 * which the seed's tables and alerts are recomputed (./sql.ts).
 *
 * Windows emit 'end' (Flink's event-time trigger with allowed lateness): a window's rows are written
 * when the watermark passes its end and rewritten for each late event within ALLOWED_LATENESS; later
 * events are dead letters (LATE_RECORD, once: the region and device windows drop what the content
 * windows dead-letter, as all three see the same times). Window state is durable (changelog topics
 * `<group>-<kind>-windows-changelog`), so a restart resumes where the last checkpoint left off.
 */
import type { Sink } from '../../connectors/contract.ts'
import type { Serde } from '../../core/serde.ts'
import { pipeline } from '../../dsl/stream.ts'
import { tumbling } from '../../time/windows.ts'
import {
  type DownloadEvent,
  deviceKey,
  downloadTotals,
  type Grouping,
  type PartRow,
  partRow,
  splitDeviceKey,
  validateEvent,
} from './domain.ts'

export interface StreamPulsePipelineSettings {
  readonly KAFKA_GROUP_ID: string
  readonly KAFKA_TOPIC: string
  readonly PARALLELISM: number
  readonly WINDOW_SIZE: number
  readonly ALLOWED_LATENESS: number
}

const GROUPINGS: ReadonlyArray<{ kind: Grouping; key: (e: DownloadEvent) => string; late: 'dlq' | 'drop' }> =
  [
    { kind: 'content', key: (e) => e.content_id, late: 'dlq' },
    { kind: 'region', key: (e) => e.region, late: 'drop' },
    { kind: 'device', key: deviceKey, late: 'drop' },
  ]

export function streamPulsePipeline(
  settings: StreamPulsePipelineSettings,
  io: {
    readonly value: Serde<DownloadEvent>
    readonly sink: Sink<Readonly<Record<string, unknown>>>
    /** Called once per valid event (the progress line). */
    readonly counted: () => void
    /** Sees each row as its window fires (latency metric). */
    readonly emitted: (row: PartRow) => PartRow
  },
) {
  // The pipeline name is the application id: the group and the prefix of the changelog topics.
  const p = pipeline(settings.KAFKA_GROUP_ID)
  const { valid } = p
    .stream<DownloadEvent>(settings.KAFKA_TOPIC, { value: io.value, partitions: settings.PARALLELISM })
    .validate(validateEvent, { name: 'validate' })
  const events = valid.peek(() => io.counted(), { name: 'count' })
  const windows = tumbling({ size: settings.WINDOW_SIZE, grace: settings.ALLOWED_LATENESS })
  for (const g of GROUPINGS) {
    // Keyed by the group in place (no repartition): each partition's windows are partial results,
    // merged across partitions in PostgreSQL.
    events
      .selectKey(g.key, { name: `key-by-${g.kind}` })
      .groupByKey({ name: `by-${g.kind}`, repartition: false })
      .window(windows, { timestamp: (e) => e.timestamp })
      .aggregate(downloadTotals, { name: `${g.kind}-windows`, emit: 'end', late: g.late })
      .toSink(io.sink, {
        name: `${g.kind}-rows`,
        map: (r) => {
          const w = r.value
          const group: [string, string] = g.kind === 'device' ? splitDeviceKey(w.key) : [w.key, '']
          return io.emitted(partRow(g.kind, group, w, r.partition, w.value))
        },
      })
  }
  return p
}

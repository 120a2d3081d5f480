/**
 * StreamPulse's pipeline: Avro download events → validate → one 1-minute tumbling window on event
 * time whose slots hold the content, region and device totals together (./window-groups.ts) → partial
 * rows in PostgreSQL, from which the seed's tables and alerts are recomputed (./sql.ts).
 *
 * The window emits 'end' (Flink's event-time trigger with allowed lateness): a window's rows are
 * written when the watermark passes its end and rewritten for each late event within ALLOWED_LATENESS
 * (the three rows it changed); later events are dead letters (LATE_RECORD). Window state is durable
 * (changelog topic `<group>-windows-changelog`), so a restart resumes where the last checkpoint left off.
 */
import type { Sink } from '../../connectors/contract.ts'
import type { Serde } from '../../core/serde.ts'
import { pipeline } from '../../dsl/stream.ts'
import { tumbling } from '../../time/windows.ts'
import { type DownloadEvent, type PartRow, validateEvent } from './domain.ts'
import { contentBucket, PartRowsOf, windowGroups } from './window-groups.ts'

export interface StreamPulsePipelineSettings {
  readonly KAFKA_GROUP_ID: string
  readonly KAFKA_TOPIC: string
  readonly PARALLELISM: number
  readonly WINDOW_SIZE: number
  readonly ALLOWED_LATENESS: number
}

/** The window operator's name; its changelog topic is `<group>-windows-changelog`. */
const WINDOWS = 'windows'

/** The internal topics the app creates (tests and benches delete them). */
export function streamPulseChangelogTopics(groupId: string): string[] {
  return [`${groupId}-${WINDOWS}-changelog`]
}

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
  const parts = new PartRowsOf()
  valid
    .peek(() => io.counted(), { name: 'count' })
    // Keyed by content bucket in place (no repartition): each partition's windows are partial results,
    // merged across partitions in PostgreSQL.
    .selectKey((e) => contentBucket(e.content_id), { name: 'key-by-bucket' })
    .groupByKey({ name: 'by-bucket', repartition: false })
    .window(tumbling({ size: settings.WINDOW_SIZE, grace: settings.ALLOWED_LATENESS }), {
      timestamp: (e) => e.timestamp,
    })
    .aggregate(windowGroups, { name: WINDOWS, emit: 'end', late: 'dlq' })
    .flatMap((w, r) => parts.rows(w, r.partition), { name: 'part-rows' })
    .toSink(io.sink, { name: 'rows', map: (r) => io.emitted(r.value) })
  return p
}

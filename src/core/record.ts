import { setOwnKey } from './own-key.ts'

/** Headers of a Kafka record. Values stay bytes so binary headers survive a round trip. */
export type Headers = Readonly<Record<string, Buffer>>

/** Where a record was read from. Offsets are numbers: Kafka's int64 never exceeds 2^53 in practice. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

export interface RecordOrigin extends TopicPartition {
  readonly offset: number
}

/** A record flowing through a pipeline: typed key and value plus where it came from. */
export interface WeirRecord<K, V> extends RecordOrigin {
  readonly key: K
  readonly value: V
  readonly headers: Headers
  /** Record timestamp in epoch milliseconds (producer or log-append time). */
  readonly timestamp: number
}

/** A record as a source delivers it, before deserialization. */
export type RawRecord = WeirRecord<Buffer | null, Buffer | null>

/** A record on its way to a topic, already serialized. */
export interface OutgoingRecord {
  readonly topic: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers?: Headers
  readonly timestamp?: number
  readonly partition?: number
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}:${tp.partition}`
}

/** Reads a header as UTF-8 text. */
export function headerText(headers: Headers, name: string): string | undefined {
  const v = headers[name]
  return v === undefined ? undefined : v.toString('utf8')
}

/** Builds headers from text values (the common case for Weir's own headers). */
export function textHeaders(values: Record<string, string | number | undefined>): Headers {
  const out: Record<string, Buffer> = {}
  for (const [k, v] of Object.entries(values))
    if (v !== undefined) setOwnKey(out, k, Buffer.from(String(v), 'utf8'))
  return out
}

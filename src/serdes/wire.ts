/**
 * The Confluent wire format shared by every registry-backed serde:
 * `[0x00 magic][4-byte big-endian schema id][payload]`.
 */

import { ErrorCode, WeirError } from '../core/errors.ts'

export const MAGIC_BYTE = 0
export const WIRE_HEADER_SIZE = 5

/** Writes the 5-byte header at the start of `buf` (which must have room for it). */
export function writeWireHeader(buf: Buffer, schemaId: number): void {
  buf[0] = MAGIC_BYTE
  buf.writeInt32BE(schemaId, 1)
}

/**
 * Reads the schema id of a wire-format payload, or throws DESERIALIZE_FAILED when the payload
 * cannot be one (too short, wrong magic byte).
 * @example readWireHeader(Buffer.from([0, 0, 0, 0, 7, 2])) // 7
 */
export function readWireHeader(data: Buffer): number {
  if (data.length < WIRE_HEADER_SIZE) {
    throw new WeirError(
      ErrorCode.DESERIALIZE_FAILED,
      `payload of ${data.length} byte(s) is too short for the Confluent wire format (5-byte header: magic byte + schema id)`,
    )
  }
  const magic = data[0]
  if (magic !== MAGIC_BYTE) {
    throw new WeirError(
      ErrorCode.DESERIALIZE_FAILED,
      `unknown magic byte 0x${(magic ?? 0).toString(16).padStart(2, '0')}: expected 0x00 (Confluent wire format); was this record written without a schema registry?`,
      { details: { magicByte: magic } },
    )
  }
  return data.readInt32BE(1)
}

/** `${topic}-key` / `${topic}-value`: Confluent's default TopicNameStrategy. */
export function topicNameStrategy(ctx: { readonly topic: string; readonly isKey: boolean }): string {
  return `${ctx.topic}-${ctx.isKey ? 'key' : 'value'}`
}

/** Confluent's subject name strategies (`value.subject.name.strategy`), by their class names. */
export const SUBJECT_NAME_STRATEGIES = [
  'TopicNameStrategy',
  'RecordNameStrategy',
  'TopicRecordNameStrategy',
] as const
export type SubjectNameStrategy = (typeof SUBJECT_NAME_STRATEGIES)[number]

/**
 * The subject a schema is registered under: `<topic>-value` (TopicNameStrategy), the record's full
 * name (RecordNameStrategy: one subject per record type, whatever the topic) or `<topic>-<full name>`
 * (TopicRecordNameStrategy).
 * @example subjectName('TopicRecordNameStrategy', { topic: 'traffic-raw', isKey: false }, 'weir.traffic.MetrLaReading')
 * // 'traffic-raw-weir.traffic.MetrLaReading'
 */
export function subjectName(
  strategy: SubjectNameStrategy,
  ctx: { readonly topic: string; readonly isKey: boolean },
  recordFullName: string,
): string {
  switch (strategy) {
    case 'TopicNameStrategy':
      return topicNameStrategy(ctx)
    case 'RecordNameStrategy':
      return recordFullName
    case 'TopicRecordNameStrategy':
      return `${ctx.topic}-${recordFullName}`
  }
}

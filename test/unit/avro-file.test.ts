import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { avroFile, loadAvsc } from '../../src/serdes/avro/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'weir-avsc-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const eventSchema = {
  type: 'record',
  name: 'DownloadEvent',
  namespace: 'streampulse',
  doc: 'One content download',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'content_id', type: 'string' },
    { name: 'region', type: { type: 'enum', name: 'Region', symbols: ['EU', 'US', 'APAC'] } },
    { name: 'bytes', type: 'long' },
    { name: 'speed_mbps', type: ['null', 'double'], default: null },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
}

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const ctx = { topic: 'events', isKey: false }
const configInvalid = (pattern: RegExp) => (err: unknown) =>
  err instanceof WeirError && err.code === ErrorCode.CONFIG_INVALID && pattern.test(err.message)

describe('.avsc files', () => {
  const eventPath = file('event.avsc', JSON.stringify(eventSchema, null, 2))

  it('loadAvsc parses a schema file into an avsc Type', () => {
    const type = loadAvsc(eventPath)
    assert.equal(type.name, 'streampulse.DownloadEvent')
    assert.ok(
      type.isValid({
        event_id: 'e',
        content_id: 'c',
        region: 'EU',
        bytes: 10,
        speed_mbps: 2.5,
        ts: 1_700_000_000_000,
      }),
    )
  })

  it('loadAvsc names the file when it is missing, not JSON, or not a schema', () => {
    assert.throws(
      () => loadAvsc(join(dir, 'nope.avsc')),
      configInvalid(/cannot read Avro schema file .*nope\.avsc/),
    )
    assert.throws(
      () => loadAvsc(file('bad.avsc', '{ "type": ')),
      configInvalid(/bad\.avsc is not valid JSON/),
    )
    assert.throws(
      () =>
        loadAvsc(file('wrong.avsc', '{"type":"record","name":"X","fields":[{"name":"a","type":"strnig"}]}')),
      configInvalid(/invalid Avro schema \(.*wrong\.avsc\)/),
    )
  })

  it('avroFile round-trips plain Avro binary (no wire header); timestamp-millis stays epoch ms', () => {
    // avsc implements no logical type by default: pass typeOptions.logicalTypes to get Dates.
    const serde = avroFile<Record<string, unknown>>({ schemaPath: eventPath })
    const value = {
      event_id: 'e-1',
      content_id: 'movie-9',
      region: 'APAC',
      bytes: 1_000_000,
      speed_mbps: null,
      ts: 1_700_000_000_000,
    }
    const bytes = serde.serialize(value, ctx) as Buffer
    assert.equal(bytes.equals(loadAvsc(eventPath).toBuffer(value)), true)
    assert.deepEqual({ ...(serde.deserialize(bytes, ctx) as object) }, value)
  })

  it('avroFile keeps tombstones as null and rejects values that do not match', () => {
    const serde = avroFile<Record<string, unknown>>({ schemaPath: eventPath })
    assert.equal(serde.serialize(null, ctx), null)
    assert.equal(serde.deserialize(null, ctx), null)
    assert.throws(
      () => serde.serialize({ event_id: 'e', content_id: 'c', region: 'MARS', bytes: 1, ts: 0 }, ctx),
      (err: unknown) =>
        err instanceof WeirError && err.code === ErrorCode.SERIALIZE_FAILED && /region/.test(err.message),
    )
    assert.throws(
      () => serde.deserialize(Buffer.from([2, 0x61]), ctx),
      (err: unknown) =>
        err instanceof WeirError &&
        err.code === ErrorCode.DESERIALIZE_FAILED &&
        /event\.avsc/.test(err.message),
    )
  })
})

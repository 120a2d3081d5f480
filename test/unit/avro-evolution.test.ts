import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import avsc from 'avsc'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { decodeBody, encodeWire, readerFor } from '../../src/serdes/avro/codec.ts'
import { WIRE_HEADER_SIZE } from '../../src/serdes/wire.ts'

// v1 → v2: `region` added with a default, `legacy` removed, `count` promoted int → long.
const v1 = avsc.Type.forSchema({
  type: 'record',
  name: 'Download',
  namespace: 'weir.test',
  fields: [
    { name: 'contentId', type: 'string' },
    { name: 'count', type: 'int' },
    { name: 'legacy', type: 'string' },
  ],
})
const v2 = avsc.Type.forSchema({
  type: 'record',
  name: 'Download',
  namespace: 'weir.test',
  fields: [
    { name: 'contentId', type: 'string' },
    { name: 'count', type: 'long' },
    { name: 'region', type: 'string', default: 'unknown' },
  ],
})

const plain = (v: unknown) => ({ ...(v as object) })

describe('Avro schema evolution through avsc resolvers', () => {
  it('a v2 reader reads v1 records: added field takes its default, removed field is dropped', () => {
    const bytes = encodeWire(v1, 1, { contentId: 'c-1', count: 3, legacy: 'old' })
    const reader = readerFor(v1, v2, 'schema id 1')
    assert.ok(reader.resolver, 'different schemas need a resolver')
    assert.deepEqual(plain(decodeBody(reader, bytes, WIRE_HEADER_SIZE, 't')), {
      contentId: 'c-1',
      count: 3,
      region: 'unknown',
    })
  })

  it('a v1 reader reads v2 records when v1 gives defaults for what v2 lacks', () => {
    const v1WithDefault = avsc.Type.forSchema({
      type: 'record',
      name: 'Download',
      namespace: 'weir.test',
      fields: [
        { name: 'contentId', type: 'string' },
        { name: 'legacy', type: 'string', default: '-' },
      ],
    })
    const bytes = encodeWire(v2, 2, { contentId: 'c-2', count: 7, region: 'eu' })
    const decoded = decodeBody(readerFor(v2, v1WithDefault, 'schema id 2'), bytes, WIRE_HEADER_SIZE, 't')
    assert.deepEqual(plain(decoded), { contentId: 'c-2', legacy: '-' })
  })

  it('the same schema needs no resolver', () => {
    const again = avsc.Type.forSchema(JSON.parse(JSON.stringify(v2.schema())))
    assert.equal(readerFor(v2, again, 'x').resolver, undefined)
    assert.equal(readerFor(v2, undefined, 'x').type, v2)
  })

  it('a reader that needs a field the writer lacks, with no default, fails with DESERIALIZE_FAILED', () => {
    const strict = avsc.Type.forSchema({
      type: 'record',
      name: 'Download',
      namespace: 'weir.test',
      fields: [
        { name: 'contentId', type: 'string' },
        { name: 'region', type: 'string' },
      ],
    })
    assert.throws(
      () => readerFor(v1, strict, 'schema id 1'),
      (err: unknown) =>
        err instanceof WeirError &&
        err.code === ErrorCode.DESERIALIZE_FAILED &&
        /schema id 1: cannot be read with the reader schema/.test(err.message),
    )
  })
})

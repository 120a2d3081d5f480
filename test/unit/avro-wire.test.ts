import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import avsc from 'avsc'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { decodeBody, encodeWire, readerFor } from '../../src/serdes/avro/codec.ts'
import {
  readWireHeader,
  topicNameStrategy,
  WIRE_HEADER_SIZE,
  writeWireHeader,
} from '../../src/serdes/wire.ts'

const order = avsc.Type.forSchema({
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
})

function failsWith(code: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof WeirError, `expected a WeirError, got ${String(err)}`)
    assert.equal(err.code, code)
    assert.match(err.message, pattern)
    return true
  }
}

describe('Confluent wire format', () => {
  it('writes magic byte 0 then the schema id big-endian', () => {
    const buf = Buffer.alloc(WIRE_HEADER_SIZE)
    writeWireHeader(buf, 0x01020304)
    assert.deepEqual([...buf], [0, 1, 2, 3, 4])
    assert.equal(readWireHeader(buf), 0x01020304)
  })

  it('encodes a value as header + Avro binary and decodes it back', () => {
    const value = { id: 'o-1', amount: 12.5, note: 'gift' }
    const bytes = encodeWire(order, 42, value)
    assert.equal(readWireHeader(bytes), 42)
    assert.deepEqual(bytes.subarray(WIRE_HEADER_SIZE), order.toBuffer(value))
    const decoded = decodeBody(readerFor(order, undefined, 't'), bytes, WIRE_HEADER_SIZE, 't')
    assert.deepEqual({ ...(decoded as object) }, value)
  })

  it('encodes values larger than the scratch buffer', () => {
    const value = { id: 'x'.repeat(100_000), amount: 1, note: null }
    const bytes = encodeWire(order, 7, value)
    const decoded = decodeBody({ type: order, resolver: undefined }, bytes, WIRE_HEADER_SIZE, 't') as {
      id: string
    }
    assert.equal(decoded.id.length, 100_000)
    // and the next small value is still right after the scratch buffer grew
    const small = encodeWire(order, 7, { id: 'a', amount: 2, note: null })
    assert.deepEqual(small.subarray(WIRE_HEADER_SIZE), order.toBuffer({ id: 'a', amount: 2, note: null }))
  })

  it('rejects a bad magic byte with DESERIALIZE_FAILED', () => {
    assert.throws(
      () => readWireHeader(Buffer.from([1, 0, 0, 0, 1, 2])),
      failsWith(ErrorCode.DESERIALIZE_FAILED, /magic byte 0x01/),
    )
    assert.throws(
      () => readWireHeader(Buffer.from('{"json":true}')),
      failsWith(ErrorCode.DESERIALIZE_FAILED, /magic byte 0x7b/),
    )
  })

  it('rejects a payload shorter than the 5-byte header', () => {
    assert.throws(
      () => readWireHeader(Buffer.from([0, 0, 1])),
      failsWith(ErrorCode.DESERIALIZE_FAILED, /3 byte\(s\) is too short/),
    )
    assert.throws(() => readWireHeader(Buffer.alloc(0)), failsWith(ErrorCode.DESERIALIZE_FAILED, /too short/))
  })

  it('rejects a truncated Avro body', () => {
    const bytes = encodeWire(order, 1, { id: 'order-123', amount: 3, note: 'abc' })
    const cut = bytes.subarray(0, bytes.length - 4)
    assert.throws(
      () => decodeBody({ type: order, resolver: undefined }, cut, WIRE_HEADER_SIZE, 'record from t'),
      failsWith(ErrorCode.DESERIALIZE_FAILED, /record from t: Avro payload is truncated/),
    )
  })

  it('rejects bytes left over after the value', () => {
    const bytes = Buffer.concat([
      encodeWire(order, 1, { id: 'a', amount: 3, note: null }),
      Buffer.from([9, 9]),
    ])
    assert.throws(
      () => decodeBody({ type: order, resolver: undefined }, bytes, WIRE_HEADER_SIZE, 't'),
      failsWith(ErrorCode.DESERIALIZE_FAILED, /2 byte\(s\) left over/),
    )
  })

  it('rejects a body that does not decode (bad union branch)', () => {
    const body = Buffer.concat([
      order.toBuffer({ id: 'a', amount: 1, note: null }).subarray(0, 10),
      Buffer.from([0x10]),
    ])
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), body])
    assert.throws(
      () => decodeBody({ type: order, resolver: undefined }, bytes, WIRE_HEADER_SIZE, 't'),
      failsWith(ErrorCode.DESERIALIZE_FAILED, /t: /),
    )
  })

  it('reports which fields do not match the schema when serializing', () => {
    assert.throws(
      () => encodeWire(order, 1, { id: 5, amount: 'lots' }),
      (err: unknown) => {
        assert.ok(err instanceof WeirError)
        assert.equal(err.code, ErrorCode.SERIALIZE_FAILED)
        assert.match(err.message, /Order: invalid field\(s\): id, amount/)
        assert.deepEqual((err.details as { invalidPaths: string[] }).invalidPaths, ['id', 'amount'])
        return true
      },
    )
  })

  it('names subjects topic-value and topic-key (TopicNameStrategy)', () => {
    assert.equal(topicNameStrategy({ topic: 'orders', isKey: false }), 'orders-value')
    assert.equal(topicNameStrategy({ topic: 'orders', isKey: true }), 'orders-key')
  })
})

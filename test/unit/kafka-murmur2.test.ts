import assert from 'node:assert/strict'
import { test } from 'node:test'
import { murmur2 as clientMurmur2 } from '@platformatic/kafka'
import { keyPartition, murmur2 } from '../../src/connectors/kafka/murmur2.ts'

test('murmur2 gives the client’s (and Java’s) hash for keys of every length mod 4', () => {
  let seed = 42
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed >>> 16
  }
  for (let n = 0; n < 2000; n++) {
    const key = Buffer.alloc(n % 67)
    for (let i = 0; i < key.length; i++) key[i] = rnd() & 0xff
    assert.equal(murmur2(key), clientMurmur2(key), `key ${key.toString('hex')}`)
  }
})

test('murmur2 matches values computed by Kafka’s Java Utils.murmur2', () => {
  // From Kafka's UtilsTest.testMurmur2.
  const cases: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ]
  for (const [text, expected] of cases) assert.equal(murmur2(Buffer.from(text)), expected, text)
})

test('keyPartition is the client’s default partitioner: the unsigned hash', () => {
  const key = Buffer.from('foobar')
  assert.equal(keyPartition(key), -790332482 >>> 0)
  assert.equal(keyPartition(key) % 5, (-790332482 >>> 0) % 5)
})

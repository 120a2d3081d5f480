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

test('keyPartition is Java’s default partitioner: toPositive(murmur2(key)) % partitions', () => {
  // Java: Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions, toPositive = n & 0x7fffffff.
  const cases: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
  ]
  for (const [text, hash] of cases) {
    assert.equal(keyPartition(Buffer.from(text)), hash & 0x7fffffff, text)
    assert.ok(keyPartition(Buffer.from(text)) >= 0)
  }
  // 'foobar' on 5 partitions: Java puts it on 1 (1357151166 % 5); the unsigned hash would give 4.
  assert.equal(keyPartition(Buffer.from('foobar')) % 5, 1)
})

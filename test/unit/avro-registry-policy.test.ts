// Subject naming and the "wait for the registry" error policy. The policy in a running pipeline, with
// the registry really cut away: test/integration/traffic-avro-app.test.ts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { defaultRetry } from '../../src/runtime/error-policy.ts'
import { SUBJECT_NAME_STRATEGIES, subjectName, waitForRegistry } from '../../src/serdes/index.ts'

const raw = { topic: 'in', partition: 0, offset: 7, key: null, value: null, headers: {}, timestamp: 0 }
const at = (attempt: number) => ({ stage: 'deserialize:in', attempt, raw })

describe('subjectName: Confluent subject name strategies', () => {
  it('TopicNameStrategy, RecordNameStrategy and TopicRecordNameStrategy', () => {
    const value = { topic: 'traffic-raw', isKey: false }
    const key = { topic: 'traffic-raw', isKey: true }
    const name = 'weir.traffic.MetrLaReading'
    assert.deepEqual(SUBJECT_NAME_STRATEGIES, [
      'TopicNameStrategy',
      'RecordNameStrategy',
      'TopicRecordNameStrategy',
    ])
    assert.equal(subjectName('TopicNameStrategy', value, name), 'traffic-raw-value')
    assert.equal(subjectName('TopicNameStrategy', key, name), 'traffic-raw-key')
    assert.equal(subjectName('RecordNameStrategy', value, name), 'weir.traffic.MetrLaReading')
    assert.equal(
      subjectName('TopicRecordNameStrategy', value, name),
      'traffic-raw-weir.traffic.MetrLaReading',
    )
  })
})

describe('waitForRegistry', () => {
  const { errorPolicy, retry } = waitForRegistry()

  it('a registry that does not answer: retry, however long it takes; the runtime limit is lifted', () => {
    const down = new WeirError(ErrorCode.REGISTRY_UNAVAILABLE, 'ECONNREFUSED', { retriable: true })
    for (const attempt of [1, defaultRetry.maxAttempts, 10_000])
      assert.equal(errorPolicy(down, at(attempt)), 'retry')
    assert.equal(retry.maxAttempts, Number.POSITIVE_INFINITY)
    assert.equal(retry.maxDelayMs, 5000)
  })

  it('a registry that answers but refuses (access denied): fail, not dead letters for every record', () => {
    const denied = new WeirError(ErrorCode.REGISTRY_UNAVAILABLE, 'access denied (HTTP 401)', {
      retriable: false,
    })
    assert.equal(errorPolicy(denied, at(1)), 'fail')
  })

  it('unreadable records are dead letters at once; other retriable errors run out after maxAttempts', () => {
    for (const code of [
      ErrorCode.DESERIALIZE_FAILED,
      ErrorCode.SCHEMA_NOT_FOUND,
      ErrorCode.SERIALIZE_FAILED,
    ]) {
      assert.equal(errorPolicy(new WeirError(code, 'bad'), at(1)), 'dlq', code)
    }
    const sink = new WeirError(ErrorCode.SINK_UNAVAILABLE, 'down')
    assert.equal(errorPolicy(sink, at(4)), 'retry')
    assert.equal(errorPolicy(sink, at(5)), 'dlq')
    assert.equal(waitForRegistry({ maxAttempts: 2 }).errorPolicy(sink, at(2)), 'dlq')
  })
})

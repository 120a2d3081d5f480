import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { serviceConfig } from '../../src/service/service-config.ts'

describe('service-wide variables', () => {
  it('PROCESSING_GUARANTEE and COMMIT_INTERVAL_MS become run options; unset, the app and runtime defaults stand', () => {
    assert.deepEqual(serviceConfig({}), {})
    assert.deepEqual(serviceConfig({ PROCESSING_GUARANTEE: 'exactly_once_v2', COMMIT_INTERVAL_MS: '250' }), {
      processing: 'exactly-once',
      checkpointIntervalMs: 250,
    })
  })

  it('a bad COMMIT_INTERVAL_MS is refused naming the variable and what was expected', () => {
    assert.throws(
      () => serviceConfig({ COMMIT_INTERVAL_MS: '5' }),
      /COMMIT_INTERVAL_MS: expected an integer between 10 and 600000, got "5"/,
    )
    assert.throws(() => serviceConfig({ COMMIT_INTERVAL_MS: 'soon' }), /COMMIT_INTERVAL_MS/)
  })

  it('static membership: KAFKA_GROUP_INSTANCE_ID, else GROUP_INSTANCE_ID, else the pod name in Kubernetes; "off" turns it off', () => {
    const pod = { HOSTNAME: 'traffic-7d9f-x2', KUBERNETES_SERVICE_HOST: '10.0.0.1' }
    assert.deepEqual(serviceConfig({ KAFKA_GROUP_INSTANCE_ID: 'a', GROUP_INSTANCE_ID: 'b', ...pod }), {
      groupInstanceId: 'a',
    })
    assert.deepEqual(serviceConfig({ GROUP_INSTANCE_ID: 'b', ...pod }), { groupInstanceId: 'b' })
    assert.deepEqual(serviceConfig(pod), { groupInstanceId: 'traffic-7d9f-x2' })
    // A HOSTNAME outside Kubernetes (a container, a CI job running several instances) is not taken.
    assert.deepEqual(serviceConfig({ HOSTNAME: 'c' }), {})
    assert.deepEqual(serviceConfig({ KAFKA_GROUP_INSTANCE_ID: 'off', ...pod }), {})
    assert.throws(() => serviceConfig({ KAFKA_GROUP_INSTANCE_ID: 'has space' }), /KAFKA_GROUP_INSTANCE_ID/)
  })
})

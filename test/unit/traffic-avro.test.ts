// The traffic app's data contract without a registry: its env vars, its Avro schemas against the
// generator's readings, and the run options Avro brings. Through a real registry and Kafka:
// test/integration/traffic-avro-app.test.ts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import avsc from 'avsc'
import type { AppInstance } from '../../src/apps/app.ts'
import { AVRO_DEFECTS, trafficApp } from '../../src/apps/traffic/app.ts'
import { flattenMetrLa, type MetrLaRecord, validateTraffic } from '../../src/apps/traffic/domain/index.ts'
import type { ProcessedTrafficEvent } from '../../src/apps/traffic/formats.ts'
import { metrLaReadingSchema, trafficEventSchema } from '../../src/apps/traffic/schemas.ts'
import { encodeValue } from '../../src/cli/feed.ts'
import { systemClock } from '../../src/core/clock.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { TRAFFIC_DEFECTS, trafficGenerator } from '../../src/generators/index.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'

const reading = avsc.Type.forSchema(metrLaReadingSchema as unknown as avsc.Schema)
const event = avsc.Type.forSchema(trafficEventSchema as unknown as avsc.Schema)
// Port 9 (discard) is one fetch refuses outright: the registry is unreachable and nothing is contacted.
const NOWHERE = 'http://127.0.0.1:9/apis/ccompat/v7'

function create(env: Record<string, string>): Promise<AppInstance> {
  return Promise.resolve(
    trafficApp.create({
      env,
      logger: silentLogger,
      metrics: createMetrics({ processMetrics: false }),
      clock: systemClock,
    }),
  )
}

async function configError(env: Record<string, string>): Promise<string> {
  try {
    const instance = await create(env)
    await instance.close?.()
  } catch (err) {
    assert.ok(err instanceof WeirError, String(err))
    assert.equal(err.code, ErrorCode.CONFIG_INVALID)
    return err.message
  }
  assert.fail(`no config error for ${JSON.stringify(env)}`)
}

function processed(e: ReturnType<typeof flattenMetrLa>): ProcessedTrafficEvent {
  return {
    ...e,
    processed_at: '2026-01-01T00:00:00.000Z',
    processor_id: 'test',
    validation_status: 'valid',
  }
}

describe('traffic app: VALUE_FORMAT and the schema registry settings', () => {
  it('VALUE_FORMAT=avro without SCHEMA_REGISTRY_URL is a config error naming the variable', async () => {
    assert.match(
      await configError({ VALUE_FORMAT: 'avro' }),
      /SCHEMA_REGISTRY_URL: required when VALUE_FORMAT=avro/,
    )
    assert.match(
      await configError({ OUTPUT_VALUE_FORMAT: 'avro' }),
      /SCHEMA_REGISTRY_URL: required when OUTPUT_VALUE_FORMAT=avro/,
    )
  })

  it('a bad value names its variable and what was expected; a secret is not echoed', async () => {
    assert.match(
      await configError({ VALUE_FORMAT: 'protobuf' }),
      /VALUE_FORMAT: expected one of json, avro, got "protobuf"/,
    )
    assert.match(
      await configError({ VALUE_FORMAT: 'avro', SCHEMA_REGISTRY_URL: 'schema-registry:8081' }),
      /SCHEMA_REGISTRY_URL: expected a URL using http: or https: with a host/,
    )
    assert.match(
      await configError({ VALUE_SUBJECT_NAME_STRATEGY: 'TopicName' }),
      /VALUE_SUBJECT_NAME_STRATEGY: expected one of TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy/,
    )
    const message = await configError({
      VALUE_FORMAT: 'avro',
      SCHEMA_REGISTRY_URL: NOWHERE,
      SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: 'hunter2',
    })
    assert.match(message, /SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: expected user:password/)
    assert.doesNotMatch(message, /hunter2/)
  })

  it('JSON by default (seed 001): no registry in /health, the default error policy, JSON test data to INPUT_TOPIC', async () => {
    const instance = await create({ INPUT_TOPIC: 'my-raw' })
    assert.equal(instance.components, undefined)
    assert.equal(instance.run.errorPolicy, undefined)
    assert.equal(instance.run.retry, undefined)
    const g = instance.generator!({ seed: 3, invalidShare: 0 })
    const r = g.next()
    assert.equal(r.topic, 'my-raw')
    assert.deepEqual(g.encode!(r), encodeValue(r.value))
  })

  it('VALUE_FORMAT=avro: /health reports the registry, and records wait for it instead of running out of retries', async () => {
    const instance = await create({ VALUE_FORMAT: 'avro', SCHEMA_REGISTRY_URL: NOWHERE })
    try {
      const status = instance.components!({} as never).registry!
      assert.equal(status.connected, false)
      const policy = instance.run.errorPolicy!
      const raw = { topic: 't', partition: 0, offset: 0, key: null, value: null, headers: {}, timestamp: 0 }
      const down = new WeirError(ErrorCode.REGISTRY_UNAVAILABLE, 'down')
      assert.equal(policy(down, { stage: 'deserialize:t', attempt: 1000, raw }), 'retry')
      assert.equal(instance.run.retry?.maxAttempts, Number.POSITIVE_INFINITY)
      const unreadable = new WeirError(ErrorCode.DESERIALIZE_FAILED, 'unknown magic byte')
      assert.equal(policy(unreadable, { stage: 'deserialize:t', attempt: 1, raw }), 'dlq')
    } finally {
      await instance.close?.()
    }
  })

  it('OUTPUT_VALUE_FORMAT: Avro in, JSON out (for a JSON reader downstream), and the other way round', async () => {
    const formats = async (env: Record<string, string>) => {
      const instance = await create({ SCHEMA_REGISTRY_URL: NOWHERE, ...env })
      await instance.close?.()
      const nodes = instance.pipeline.topology.nodes()
      const source = nodes.find((n) => n.kind === 'source')!
      const sink = nodes.find((n) => n.kind === 'topic-sink')!
      return [source.kind === 'source' && source.value.name, sink.kind === 'topic-sink' && sink.value.name]
    }
    assert.deepEqual(await formats({ VALUE_FORMAT: 'avro', OUTPUT_VALUE_FORMAT: 'json' }), ['avro', 'json'])
    assert.deepEqual(await formats({ OUTPUT_VALUE_FORMAT: 'avro' }), ['json', 'avro'])
    assert.deepEqual(await formats({ VALUE_FORMAT: 'avro' }), ['avro', 'avro'])
    assert.deepEqual(await formats({}), ['json', 'json'])
  })
})

describe('traffic Avro schemas', () => {
  const now = Date.UTC(2026, 0, 1, 15)
  const generated = trafficGenerator({
    seed: 8,
    invalidShare: 0.2,
    defects: AVRO_DEFECTS,
    now: () => now,
  }).take(3000)

  it('hold every generated reading with an Avro-expressible defect, and read back to the same flat record', () => {
    assert.ok(generated.some((r) => r.defect !== undefined))
    for (const r of generated) {
      const value = r.value as MetrLaRecord
      assert.ok(reading.isValid(value), JSON.stringify(value))
      const back = reading.fromBuffer(reading.toBuffer(value)) as MetrLaRecord
      assert.deepEqual(flattenMetrLa(back), flattenMetrLa(value))
      assert.deepEqual(validateTraffic(flattenMetrLa(back), now), validateTraffic(flattenMetrLa(value), now))
    }
  })

  it('cannot hold a reading with a missing field or a value of the wrong type: the contract itself refuses them', () => {
    assert.deepEqual(
      TRAFFIC_DEFECTS.filter((d) => !(AVRO_DEFECTS as readonly string[]).includes(d)),
      ['missing_field', 'wrong_type'],
    )
    const bad = trafficGenerator({ seed: 8, invalidShare: 1, defects: ['missing_field', 'wrong_type'] }).take(
      200,
    )
    for (const r of bad) assert.equal(reading.isValid(r.value), false, JSON.stringify(r.value))
  })

  it('the event schema holds every processed valid reading, and JSON input without lanes with a null lane_count', () => {
    for (const r of generated.filter((x) => x.defect === undefined)) {
      const e = processed(flattenMetrLa(r.value as MetrLaRecord))
      assert.ok(event.isValid(e))
      assert.deepEqual({ ...(event.fromBuffer(event.toBuffer(e)) as object) }, e)
    }
    const noLanes = { ...(generated[0]!.value as MetrLaRecord), location: { highway: 'I-5', direction: 'N' } }
    const e = processed(flattenMetrLa(noLanes as MetrLaRecord))
    assert.equal(e.lane_count, undefined)
    assert.equal((event.fromBuffer(event.toBuffer(e)) as { lane_count: unknown }).lane_count, null)
  })
})

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { kafkaSettingsOf, rideshareApp } from '../../src/apps/rideshare/app.ts'
import { loadRideshareConfig } from '../../src/apps/rideshare/config.ts'
import { systemClock } from '../../src/core/clock.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'

function configError(env: Record<string, string>): WeirError {
  try {
    loadRideshareConfig(env)
  } catch (err) {
    assert.ok(err instanceof WeirError)
    assert.equal(err.code, ErrorCode.CONFIG_INVALID)
    return err
  }
  assert.fail('expected a configuration error')
}

const dir = mkdtempSync(join(tmpdir(), 'weir-rideshare-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('rideshare config (seed 000 table)', () => {
  it('every variable of the seed has its default', () => {
    const c = loadRideshareConfig({})
    assert.deepEqual(c.KAFKA_BOOTSTRAP_SERVERS, ['localhost:9092'])
    assert.equal(c.KAFKA_GROUP_ID, 'stream-processor')
    assert.equal(c.KAFKA_AUTO_OFFSET_RESET, 'latest')
    assert.equal(c.KAFKA_SECURITY_PROTOCOL, 'SASL_PLAINTEXT')
    assert.equal(c.sasl?.mechanism, 'PLAIN')
    assert.equal(c.sasl?.username.reveal(), 'admin')
    assert.equal(c.sasl?.password.reveal(), 'admin')
    assert.equal(c.REDIS_HOST, 'localhost')
    assert.equal(c.REDIS_PORT, 6379)
    assert.equal(c.REDIS_PASSWORD.reveal(), 'admin')
    assert.equal(c.PROCESSOR_WINDOW_SIZE_MS, 100)
    assert.equal(c.PROCESSOR_AGGREGATION_STRATEGY, 'latest')
    assert.equal(c.PROCESSOR_SAMPLE_RATE, 10)
    assert.deepEqual(c.PROCESSOR_TOPICS, ['gps_pings', 'trips', 'driver_status', 'surge_updates'])
    assert.equal(c.API_HOST, '0.0.0.0')
    assert.equal(c.API_PORT, 8080)
    assert.equal(c.LOG_LEVEL, 'INFO')
    assert.equal(c.KAFKA_TOPIC_PARTITIONS, 1, 'topics are created with 1 partition, like the seed')
    assert.equal(c.tls, false)
  })

  it('PROCESSOR_WINDOW_SIZE_MS must be an integer from 50 to 5000, and the error names it', () => {
    for (const bad of ['49', '5001', '0', '100.5', 'fast']) {
      const err = configError({ PROCESSOR_WINDOW_SIZE_MS: bad })
      assert.match(err.message, /PROCESSOR_WINDOW_SIZE_MS: expected an integer between 50 and 5000/)
      assert.match(err.message, new RegExp(`got "${bad.replace('.', '\\.')}"`))
    }
    assert.equal(loadRideshareConfig({ PROCESSOR_WINDOW_SIZE_MS: '50' }).PROCESSOR_WINDOW_SIZE_MS, 50)
    assert.equal(loadRideshareConfig({ PROCESSOR_WINDOW_SIZE_MS: '5000' }).PROCESSOR_WINDOW_SIZE_MS, 5000)
  })

  it('PROCESSOR_TOPICS takes the six topics (profiles too) and names one it does not know', () => {
    const c = loadRideshareConfig({ PROCESSOR_TOPICS: 'trips, rider_profiles,driver_profiles,trips' })
    assert.deepEqual(c.PROCESSOR_TOPICS, ['trips', 'rider_profiles', 'driver_profiles'])
    const err = configError({ PROCESSOR_TOPICS: 'trips,gps' })
    assert.match(err.message, /PROCESSOR_TOPICS: "gps" is not a rideshare topic/)
  })

  it('checks the strategy, the sample rate, the offset reset, the protocol and LOG_LEVEL', () => {
    const err = configError({
      PROCESSOR_AGGREGATION_STRATEGY: 'median',
      PROCESSOR_SAMPLE_RATE: '0',
      KAFKA_AUTO_OFFSET_RESET: 'none',
      KAFKA_SECURITY_PROTOCOL: 'KERBEROS',
      LOG_LEVEL: 'chatty',
    })
    for (const v of [
      'PROCESSOR_AGGREGATION_STRATEGY',
      'PROCESSOR_SAMPLE_RATE',
      'KAFKA_AUTO_OFFSET_RESET',
      'KAFKA_SECURITY_PROTOCOL',
      'LOG_LEVEL',
    ]) {
      assert.match(err.message, new RegExp(`${v}: expected`))
    }
    assert.equal(
      loadRideshareConfig({ PROCESSOR_AGGREGATION_STRATEGY: 'SAMPLE' }).PROCESSOR_AGGREGATION_STRATEGY,
      'sample',
    )
    assert.equal(loadRideshareConfig({ LOG_LEVEL: 'WARNING' }).LOG_LEVEL, 'WARNING')
  })

  it('PLAINTEXT needs no SASL credentials; SASL_SSL and SSL turn TLS on', () => {
    const plain = loadRideshareConfig({ KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', KAFKA_SASL_PASSWORD: '' })
    assert.equal(plain.sasl, undefined)
    assert.deepEqual(kafkaSettingsOf(plain), {
      brokers: ['localhost:9092'],
      clientId: 'stream-processor',
      tls: false,
    })
    assert.equal(loadRideshareConfig({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }).tls, true)
    assert.equal(loadRideshareConfig({ KAFKA_SECURITY_PROTOCOL: 'ssl' }).sasl, undefined)
  })

  it('SASL credentials and the Redis password come from the variable or from <VAR>_FILE', () => {
    const user = join(dir, 'user')
    const pass = join(dir, 'pass')
    const redis = join(dir, 'redis')
    writeFileSync(user, 'bridge\n')
    writeFileSync(pass, 's3cret\n')
    writeFileSync(redis, 'r3dis')
    const c = loadRideshareConfig({
      KAFKA_SASL_USERNAME_FILE: user,
      KAFKA_SASL_PASSWORD_FILE: pass,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      REDIS_PASSWORD_FILE: redis,
    })
    assert.deepEqual(kafkaSettingsOf(c).sasl, {
      mechanism: 'SCRAM-SHA-512',
      username: 'bridge',
      password: 's3cret',
    })
    assert.equal(c.REDIS_PASSWORD.reveal(), 'r3dis')
    assert.equal(JSON.stringify(c).includes('s3cret'), false, 'secrets never print')
  })

  it('production refuses the seed’s admin/admin defaults, and accepts real secrets', () => {
    const err = configError({ NODE_ENV: 'production' })
    for (const v of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']) {
      assert.match(err.message, new RegExp(`${v}: refusing a known insecure default secret in production`))
    }
    const redis = configError({
      NODE_ENV: 'production',
      KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      REDIS_PASSWORD: 'admin',
    })
    assert.match(redis.message, /REDIS_PASSWORD: refusing a known insecure default secret/)
    const ok = loadRideshareConfig({
      NODE_ENV: 'production',
      KAFKA_SASL_USERNAME: 'bridge',
      KAFKA_SASL_PASSWORD: 'long-random',
      REDIS_PASSWORD: 'another-long-random',
    })
    assert.equal(ok.sasl?.username.reveal(), 'bridge')
  })

  it('the app reads its settings from the env: ports, group, offsets reset, prefix, partitions, checkpoint interval', async () => {
    const app = await rideshareApp.create({
      env: {
        KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
        KAFKA_BOOTSTRAP_SERVERS: 'k1:9092,k2:9092',
        KAFKA_AUTO_OFFSET_RESET: 'earliest',
        KAFKA_GROUP_ID: 'g',
        TOPIC_PREFIX: 'dev.',
        KAFKA_TOPIC_PARTITIONS: '6',
        API_HOST: '127.0.0.1',
        API_PORT: '9999',
        PROCESSOR_CHECKPOINT_INTERVAL_MS: '250',
      },
      logger: silentLogger,
      metrics: createMetrics({ processMetrics: false }),
      clock: systemClock,
    })
    try {
      assert.deepEqual(app.http, { host: '127.0.0.1', port: 9999, portVariable: 'API_PORT' })
      assert.deepEqual(app.kafka.brokers, ['k1:9092', 'k2:9092'])
      assert.equal(app.run.groupId, 'g')
      assert.equal(app.run.fromBeginning, true)
      assert.equal(app.run.deadLetterTopic, 'dev.stream-processor-dlq')
      assert.equal(app.run.checkpointIntervalMs, 250)
      assert.deepEqual(app.run.topics, { partitions: 6, replicationFactor: 1 })
      assert.deepEqual(
        app.pipeline.topology
          .topics()
          .filter((t) => t.role === 'input')
          .map((t) => [t.name, t.partitions]),
        [
          ['dev.gps_pings', 6],
          ['dev.trips', 6],
          ['dev.driver_status', 6],
          ['dev.surge_updates', 6],
        ],
      )
      // Windows are memory-only: no internal topic unless the driver-position store is asked for.
      const internal = async (env: Record<string, string>) => {
        const other = await rideshareApp.create({
          env: { KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', ...env },
          logger: silentLogger,
          metrics: createMetrics({ processMetrics: false }),
          clock: systemClock,
        })
        await other.close?.()
        return other.pipeline.topology
          .topics()
          .filter((t) => t.role === 'internal')
          .map((t) => t.name)
      }
      assert.deepEqual(await internal({ TOPIC_PREFIX: 'dev.' }), [])
      // With it, its changelog is prefixed like the inputs.
      assert.deepEqual(await internal({ TOPIC_PREFIX: 'dev.', PROCESSOR_DRIVER_POSITION: 'true' }), [
        'dev.rideshare-driver-position-changelog',
      ])
    } finally {
      await app.close?.()
    }
  })
})

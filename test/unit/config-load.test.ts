import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { inspect } from 'node:util'
import { z } from 'zod'
import {
  describeConfig,
  envDuration,
  envEnum,
  envInt,
  envList,
  envSecret,
  envString,
  isProduction,
  loadConfig,
  Secret,
} from '../../src/config/index.ts'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'

/** The rideshare bridge's settings, as an app would declare them. */
const bridgeSchema = z.object({
  KAFKA_BOOTSTRAP_SERVERS: envList({ default: ['localhost:9092'] }),
  KAFKA_GROUP_ID: envString({ default: 'stream-processor' }),
  KAFKA_AUTO_OFFSET_RESET: envEnum(['earliest', 'latest'], { default: 'latest' }),
  KAFKA_SASL_USERNAME: envString({ default: 'admin' }),
  KAFKA_SASL_PASSWORD: envSecret({ default: 'admin' }),
  REDIS_PORT: envInt({ default: 6379, min: 1, max: 65535 }),
  REDIS_PASSWORD: envSecret({ default: 'admin' }),
  PROCESSOR_WINDOW_SIZE_MS: envInt({ default: 100, min: 50, max: 5000 }),
  PROCESSOR_TOPICS: envList({ default: ['gps_pings', 'trips', 'driver_status', 'surge_updates'] }),
  API_PORT: envInt({ default: 8080, min: 1, max: 65535 }),
})

function configError(fn: () => unknown): WeirError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof WeirError)
    assert.equal(err.code, ErrorCode.CONFIG_INVALID)
    return err
  }
  assert.fail('expected a CONFIG_INVALID error')
}

const dir = mkdtempSync(join(tmpdir(), 'weir-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('loadConfig', () => {
  it('returns typed defaults for an empty environment', () => {
    const config = loadConfig(bridgeSchema, {})
    assert.deepEqual(config.PROCESSOR_TOPICS, ['gps_pings', 'trips', 'driver_status', 'surge_updates'])
    assert.equal(config.PROCESSOR_WINDOW_SIZE_MS, 100)
    assert.equal(config.KAFKA_AUTO_OFFSET_RESET, 'latest')
    assert.equal(config.KAFKA_SASL_PASSWORD.reveal(), 'admin')
  })

  it('reads only the variables in the schema', () => {
    const config = loadConfig(z.object({ A: envInt() }), { A: '1', UNRELATED: 'x' })
    assert.deepEqual(config, { A: 1 })
  })

  it('names every bad variable with what was expected and what was given', () => {
    const err = configError(() =>
      loadConfig(bridgeSchema, {
        PROCESSOR_WINDOW_SIZE_MS: '10',
        REDIS_PORT: 'sixty',
        KAFKA_AUTO_OFFSET_RESET: 'newest',
        PROCESSOR_TOPICS: ' , ',
      }),
    )
    assert.equal(
      err.message,
      [
        'Invalid configuration (4 problems):',
        '  KAFKA_AUTO_OFFSET_RESET: expected one of earliest, latest, got "newest"',
        '  REDIS_PORT: expected an integer between 1 and 65535, got "sixty"',
        '  PROCESSOR_WINDOW_SIZE_MS: expected an integer between 50 and 5000, got "10"',
        '  PROCESSOR_TOPICS: expected a comma-separated list of at least 1 item, got " , "',
      ].join('\n'),
    )
    const { problems } = err.details as { problems: { variable: string }[] }
    assert.deepEqual(
      problems.map((p) => p.variable),
      ['KAFKA_AUTO_OFFSET_RESET', 'REDIS_PORT', 'PROCESSOR_WINDOW_SIZE_MS', 'PROCESSOR_TOPICS'],
    )
  })

  it('says "not set" for a missing required variable', () => {
    const err = configError(() =>
      loadConfig(z.object({ KAFKA_BROKERS: envList(), GRACE: envDuration() }), {}),
    )
    assert.match(err.message, /KAFKA_BROKERS: expected a comma-separated list of at least 1 item, not set/)
    assert.match(err.message, /GRACE: expected a duration like 500ms, 5s, 5m or 1h, not set/)
  })

  it('never echoes a secret or a password in a URL', () => {
    const err = configError(() =>
      loadConfig(
        z.object({
          DB_PASSWORD: z.string().min(20),
          API_TOKEN: envSecret(),
          DATABASE_URL: z.url().startsWith('https:'),
          TOKEN_ALIAS: envInt(),
        }),
        { DB_PASSWORD: 'hunter2', DATABASE_URL: 'postgres://app:hunter3@db/app', TOKEN_ALIAS: 'x-hunter4' },
      ),
    )
    assert.doesNotMatch(err.message, /hunter/)
    assert.match(err.message, /DB_PASSWORD: .*got \[redacted\]/)
    assert.match(err.message, /API_TOKEN: .*not set/)
    assert.match(err.message, /DATABASE_URL: .*got "postgres:\/\/app:\[redacted\]@db\/app"/)
  })

  it('reports cross-field rules once every field parses', () => {
    const schema = z
      .object({ MIN_MS: envInt({ default: 10 }), MAX_MS: envInt({ default: 100 }) })
      .refine((c) => c.MIN_MS <= c.MAX_MS, { message: 'MIN_MS must not exceed MAX_MS', path: ['MIN_MS'] })
    assert.equal(loadConfig(schema, {}).MAX_MS, 100)
    const err = configError(() => loadConfig(schema, { MIN_MS: '500' }))
    assert.match(err.message, /MIN_MS: MIN_MS must not exceed MAX_MS/)
  })
})

describe('secrets from <VAR>_FILE', () => {
  const schema = z.object({ REDIS_PASSWORD: envSecret() })

  it('reads the file and trims its trailing newline only', () => {
    const file = join(dir, 'redis_password')
    writeFileSync(file, ' from file \n')
    assert.equal(loadConfig(schema, { REDIS_PASSWORD_FILE: file }).REDIS_PASSWORD.reveal(), ' from file ')
  })

  it('refuses both the variable and the file at once', () => {
    const err = configError(() =>
      loadConfig(schema, { REDIS_PASSWORD: 'a', REDIS_PASSWORD_FILE: join(dir, 'x') }),
    )
    assert.match(err.message, /REDIS_PASSWORD: set either REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both/)
  })

  it('names the _FILE variable when the file is missing or empty', () => {
    const missing = configError(() => loadConfig(schema, { REDIS_PASSWORD_FILE: join(dir, 'nope') }))
    assert.match(missing.message, /REDIS_PASSWORD_FILE: cannot read the secret file ".*nope" \(ENOENT\)/)
    const empty = join(dir, 'empty')
    writeFileSync(empty, '\n')
    const blank = configError(() => loadConfig(schema, { REDIS_PASSWORD_FILE: empty }))
    assert.match(blank.message, /REDIS_PASSWORD_FILE: the secret file ".*empty" is empty/)
  })

  it('ignores _FILE for fields that are not secrets', () => {
    const config = loadConfig(z.object({ LOG: envString({ default: 'x' }) }), { LOG_FILE: '/nonexistent' })
    assert.equal(config.LOG, 'x')
  })
})

describe('production mode', () => {
  const schema = z.object({
    PRIVACY_SALT: envSecret({ default: 'CHANGE_THIS_IN_PRODUCTION' }),
    KAFKA_SASL_PASSWORD: envSecret({ insecureDefaults: ['admin'] }),
  })

  it('is detected from NODE_ENV or WEIR_ENV', () => {
    assert.equal(isProduction({ NODE_ENV: 'production' }), true)
    assert.equal(isProduction({ WEIR_ENV: ' Production ' }), true)
    assert.equal(isProduction({ NODE_ENV: 'development' }), false)
  })

  it('allows insecure defaults outside production', () => {
    const config = loadConfig(schema, { KAFKA_SASL_PASSWORD: 'admin' })
    assert.equal(config.PRIVACY_SALT.reveal(), 'CHANGE_THIS_IN_PRODUCTION')
  })

  it('refuses a secret left at its default or set to a known insecure value, naming each', () => {
    const err = configError(() =>
      loadConfig(schema, { NODE_ENV: 'production', KAFKA_SASL_PASSWORD: 'admin' }),
    )
    assert.match(
      err.message,
      /PRIVACY_SALT: refusing a known insecure default secret in production \(NODE_ENV=production\)/,
    )
    assert.match(err.message, /KAFKA_SASL_PASSWORD: refusing a known insecure default secret in production/)
    assert.doesNotMatch(err.message, /CHANGE_THIS|admin/)
  })

  it('refuses the default value even when it is set explicitly, and accepts a real secret', () => {
    const env = {
      WEIR_ENV: 'production',
      PRIVACY_SALT: 'CHANGE_THIS_IN_PRODUCTION',
      KAFKA_SASL_PASSWORD: 'x9',
    }
    assert.match(configError(() => loadConfig(schema, env)).message, /PRIVACY_SALT: refusing/)
    const config = loadConfig(schema, { ...env, PRIVACY_SALT: 'a-real-salt' })
    assert.equal(config.PRIVACY_SALT.reveal(), 'a-real-salt')
  })
})

describe('redaction', () => {
  const config = loadConfig(
    z.object({
      REDIS_PASSWORD: envSecret(),
      API_TOKEN_PLAIN: envString(),
      DATABASE_URL: envString(),
      KAFKA_BOOTSTRAP_SERVERS: envList(),
    }),
    {
      REDIS_PASSWORD: 'p@ss',
      API_TOKEN_PLAIN: 'tok',
      DATABASE_URL: 'postgres://app:pw@db:5432/app',
      KAFKA_BOOTSTRAP_SERVERS: 'a:9092,b:9092',
    },
  )

  it('keeps a Secret out of String(), templates, JSON.stringify and util.inspect', () => {
    const secret = config.REDIS_PASSWORD
    assert.ok(secret instanceof Secret)
    assert.equal(String(secret), '[redacted]')
    assert.equal(`${secret}`, '[redacted]')
    assert.equal(JSON.stringify({ secret }), '{"secret":"[redacted]"}')
    assert.equal(inspect(secret), '[redacted]')
    assert.doesNotMatch(inspect(config, { showHidden: true, depth: 10 }), /p@ss/)
    assert.deepEqual(Object.keys(secret), [])
    assert.equal(secret.reveal(), 'p@ss')
  })

  it('describeConfig redacts secrets, secret-looking names and URL passwords', () => {
    assert.deepEqual(describeConfig(config), {
      REDIS_PASSWORD: '[redacted]',
      API_TOKEN_PLAIN: '[redacted]',
      DATABASE_URL: 'postgres://app:[redacted]@db:5432/app',
      KAFKA_BOOTSTRAP_SERVERS: ['a:9092', 'b:9092'],
    })
  })
})

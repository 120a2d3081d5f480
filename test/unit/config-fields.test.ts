import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import {
  envBool,
  envDuration,
  envEnum,
  envInt,
  envList,
  envNumber,
  envSecret,
  envString,
  envUrl,
  parseDuration,
} from '../../src/config/fields.ts'
import { Secret } from '../../src/config/secret.ts'
import { WeirError } from '../../src/core/errors.ts'

/** Parses one field the way loadConfig does and returns the value or the first issue message. */
function run(field: z.ZodType, raw: string | undefined): unknown {
  const r = field.safeParse(raw)
  return r.success ? r.data : { error: r.error.issues[0]!.message }
}

describe('envInt', () => {
  const window = envInt({ default: 100, min: 50, max: 5000 })
  it('parses integers in range, falls back to the default when unset or empty', () => {
    assert.equal(run(window, '200'), 200)
    assert.equal(run(window, ' 5000 '), 5000)
    assert.equal(run(window, undefined), 100)
    assert.equal(run(window, ''), 100)
  })
  it('says what it expected for values out of range or not integers', () => {
    const expected = { error: 'expected an integer between 50 and 5000' }
    for (const bad of ['10', '5001', '1.5', 'abc', '1e3', '0x10'])
      assert.deepEqual(run(window, bad), expected, bad)
    assert.deepEqual(run(envInt({ min: 1 }), '0'), { error: 'expected an integer of at least 1' })
    assert.deepEqual(run(envInt(), undefined), { error: 'expected an integer' })
  })
  it('is optional when asked', () => {
    assert.equal(run(envInt({ optional: true }), undefined), undefined)
  })
  it('refuses a default that breaks its own range when the schema is built', () => {
    assert.throws(() => envInt({ default: 10, min: 50 }), WeirError)
  })
})

describe('envNumber', () => {
  it('parses decimals within range', () => {
    const ratio = envNumber({ default: 0.1, min: 0, max: 1 })
    assert.equal(run(ratio, '0.25'), 0.25)
    assert.equal(run(ratio, '.5'), 0.5)
    assert.equal(run(ratio, undefined), 0.1)
    assert.deepEqual(run(ratio, '1.5'), { error: 'expected a number between 0 and 1' })
    assert.deepEqual(run(ratio, 'NaN'), { error: 'expected a number between 0 and 1' })
    assert.deepEqual(run(ratio, 'Infinity'), { error: 'expected a number between 0 and 1' })
  })
})

describe('envBool', () => {
  it('accepts the usual spellings in any case', () => {
    const flag = envBool({ default: false })
    for (const t of ['true', 'TRUE', '1', 'yes', 'on']) assert.equal(run(flag, t), true, t)
    for (const f of ['false', 'False', '0', 'no', 'off']) assert.equal(run(flag, f), false, f)
    assert.equal(run(flag, undefined), false)
    assert.deepEqual(run(flag, 'maybe'), { error: 'expected a boolean (true/false, 1/0, yes/no, on/off)' })
  })
})

describe('envEnum', () => {
  it('returns the listed spelling and ignores case by default', () => {
    const strategy = envEnum(['latest', 'sample'], { default: 'latest' })
    assert.equal(run(strategy, 'SAMPLE'), 'sample')
    assert.equal(run(strategy, undefined), 'latest')
    assert.deepEqual(run(strategy, 'newest'), { error: 'expected one of latest, sample' })
  })
  it('can be case-sensitive', () => {
    assert.deepEqual(run(envEnum(['a', 'b'], { ignoreCase: false }), 'A'), { error: 'expected one of a, b' })
  })
  it('types the output as the union of the values', () => {
    const schema = z.object({ S: envEnum(['earliest', 'latest'], { default: 'latest' }) })
    const value: { S: 'earliest' | 'latest' } = schema.parse({})
    assert.equal(value.S, 'latest')
  })
})

describe('envList', () => {
  it('splits on commas, trims and drops empty items', () => {
    const topics = envList({ default: ['gps_pings', 'trips'] })
    assert.deepEqual(run(topics, ' gps_pings , trips,,driver_status, '), [
      'gps_pings',
      'trips',
      'driver_status',
    ])
    assert.deepEqual(run(topics, undefined), ['gps_pings', 'trips'])
  })
  it('gives each parse its own copy of the default', () => {
    const topics = envList({ default: ['a'] })
    ;(run(topics, undefined) as string[]).push('mutated')
    assert.deepEqual(run(topics, undefined), ['a'])
  })
  it('refuses a list with nothing in it', () => {
    assert.deepEqual(run(envList(), ' , ,'), { error: 'expected a comma-separated list of at least 1 item' })
    assert.deepEqual(run(envList({ separator: ';', minItems: 2 }), 'a'), {
      error: 'expected a list separated by ";" of at least 2 items',
    })
  })
})

describe('envString', () => {
  it('trims, defaults and checks a pattern', () => {
    assert.equal(run(envString({ default: 'stream-processor' }), undefined), 'stream-processor')
    assert.equal(run(envString(), '  host  '), 'host')
    assert.deepEqual(run(envString(), '   '), { error: 'expected a non-empty string' })
    const id = envString({ pattern: /^[a-z-]+$/, patternDescription: 'lower-case letters and dashes' })
    assert.deepEqual(run(id, 'Bad_Id'), { error: 'expected lower-case letters and dashes' })
  })
})

describe('envUrl', () => {
  it('accepts absolute URLs and can restrict the protocol', () => {
    const registry = envUrl({ protocols: ['http:', 'https:'] })
    assert.equal(run(registry, 'http://schema-registry:8082'), 'http://schema-registry:8082')
    assert.deepEqual(run(registry, 'ftp://x'), { error: 'expected a URL using http: or https: with a host' })
    const noScheme = { error: 'expected an absolute URL with a host (scheme://host[:port])' }
    assert.deepEqual(run(envUrl(), 'schema-registry:8082'), noScheme, 'a missing scheme is caught')
    assert.deepEqual(run(envUrl(), 'not a url'), noScheme)
    assert.equal(run(envUrl(), 'postgres://db:5432/app'), 'postgres://db:5432/app')
  })
})

describe('envDuration', () => {
  it('parses bare milliseconds and ms/s/m/h units', () => {
    assert.equal(parseDuration('500'), 500)
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('1.5s'), 1500)
    assert.equal(parseDuration('5s'), 5000)
    assert.equal(parseDuration('5m'), 300_000)
    assert.equal(parseDuration('1h'), 3_600_000)
    assert.equal(parseDuration('5 S'), 5000)
    assert.equal(parseDuration('5d'), undefined)
    assert.equal(parseDuration('-5s'), undefined)
  })
  it('takes a default in ms or as text and checks the range', () => {
    assert.equal(run(envDuration({ default: '30s' }), undefined), 30_000)
    const grace = envDuration({ default: 100, min: 50, max: 5000 })
    assert.equal(run(grace, '2s'), 2000)
    assert.deepEqual(run(grace, '10'), {
      error: 'expected a duration like 500ms, 5s, 5m or 1h between 50ms and 5s',
    })
  })
})

describe('envSecret', () => {
  it('wraps the value so it never prints', () => {
    const value = run(envSecret(), ' s3cr3t ')
    assert.ok(value instanceof Secret)
    assert.equal(value.reveal(), ' s3cr3t ', 'secrets are not trimmed')
  })
  it('falls back to the default, also wrapped', () => {
    const value = run(envSecret({ default: 'CHANGE_THIS_IN_PRODUCTION' }), undefined)
    assert.ok(value instanceof Secret)
    assert.equal(value.reveal(), 'CHANGE_THIS_IN_PRODUCTION')
  })
  it('is required unless it has a default or is optional', () => {
    assert.deepEqual(run(envSecret(), undefined), {
      error: 'expected a secret value (or a file path in <VAR>_FILE)',
    })
    assert.equal(run(envSecret({ optional: true }), undefined), undefined)
  })
})

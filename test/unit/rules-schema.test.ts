import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode, WeirError } from '../../src/core/errors.ts'
import { compileRules, parseRuleSet, type RuleProblem, ruleSetFromJson } from '../../src/rules/index.ts'

function problems(input: unknown): { message: string; details: RuleProblem[] } {
  try {
    parseRuleSet(input)
  } catch (err) {
    assert.ok(err instanceof WeirError)
    assert.equal(err.code, ErrorCode.CONFIG_INVALID)
    return { message: err.message, details: err.details as RuleProblem[] }
  }
  assert.fail('expected CONFIG_INVALID')
}

describe('rule-set validation', () => {
  it('names the rule by index and id, and the parameter at fault', () => {
    const { message, details } = problems({
      rules: [
        { type: 'required', field: 'a' },
        { id: 'speed', type: 'range', field: 'speed', min: '0' },
      ],
    })
    assert.match(message, /rules\[1\] \("speed"\) min: .*expected number/)
    assert.deepEqual(
      details.map((d) => [d.index, d.id, d.path]),
      [[1, 'speed', 'min']],
    )
  })

  it('lists every bad rule at once', () => {
    const { details } = problems({
      rules: [
        { type: 'range', field: 'a', min: 5, max: 1 },
        { type: 'nope' },
        { type: 'crossField', expr: 'a = foo(b)' },
        { type: 'required', field: 'a..b' },
        { type: 'enum', field: 'x', set: 'missing' },
      ],
    })
    assert.deepEqual(
      details.map((d) => d.index),
      [0, 1, 2, 3, 4],
    )
    assert.match(details[0]!.message, /max \(1\) is below min \(5\)/)
    assert.match(details[1]!.message, /"type": "nope"; expected one of required, type, range/)
    assert.match(details[2]!.message, /function calls are not allowed/)
    assert.match(details[3]!.message, /empty segment/)
    assert.match(details[4]!.message, /unknown set "missing"/)
  })

  it('rejects unknown parameters (a typo is not silently ignored)', () => {
    const { details } = problems({ rules: [{ type: 'range', field: 'a', mni: 0, max: 1 }] })
    assert.match(details[0]!.message, /mni/)
  })

  it('needs exactly one of field / fields', () => {
    assert.match(
      problems({ rules: [{ type: 'required' }] }).details[0]!.message,
      /exactly one of "field" or "fields"/,
    )
    assert.match(
      problems({ rules: [{ type: 'required', field: 'a', fields: ['b'] }] }).details[0]!.message,
      /exactly one/,
    )
  })

  it('needs min or max for range and length', () => {
    assert.match(
      problems({ rules: [{ type: 'range', field: 'a' }] }).details[0]!.message,
      /give "min", "max" or both/,
    )
    assert.match(problems({ rules: [{ type: 'length', field: 'a', min: -1 }] }).details[0]!.path, /min/)
  })

  it('checks geo bounds are real coordinates in order', () => {
    const { details } = problems({
      rules: [{ type: 'geo', latField: 'a', lonField: 'b', minLat: 34, maxLat: 33, minLon: -200, maxLon: 0 }],
    })
    const paths = details.map((d) => d.path).sort()
    assert.deepEqual(paths, ['maxLat', 'minLon'])
  })

  it('rejects bad regexes and stateful flags', () => {
    assert.match(
      problems({ rules: [{ type: 'pattern', field: 'a', pattern: '(' }] }).details[0]!.message,
      /not a valid regular expression/,
    )
    assert.match(
      problems({ rules: [{ type: 'pattern', field: 'a', pattern: 'x', flags: 'g' }] }).details[0]!.message,
      /flags may only be/,
    )
  })

  it('rejects duplicate ids, explicit or derived', () => {
    const { details } = problems({
      rules: [
        { type: 'required', field: 'a' },
        { type: 'required', field: 'a' },
      ],
    })
    assert.match(details[0]!.message, /already used by rules\[0\]/)
  })

  it('rejects paths through prototype names', () => {
    assert.match(
      problems({ rules: [{ type: 'required', field: 'a.__proto__.b' }] }).details[0]!.message,
      /reserved name "__proto__"/,
    )
  })

  it('rejects a rule set without rules or with unknown top-level keys', () => {
    assert.match(problems({ rules: [] }).message, /at least one rule/)
    assert.match(problems({ rule: [{ type: 'required', field: 'a' }] }).message, /rules/)
    assert.match(problems(null).message, /invalid rule set/)
  })

  it('reads JSON text (a file or an env var), with bad JSON as CONFIG_INVALID', () => {
    const set = ruleSetFromJson('{"rules":[{"type":"range","field":"speed","min":0,"max":120}]}')
    assert.equal(set.rules[0]!.id, 'range:speed')
    assert.throws(
      () => ruleSetFromJson('{rules'),
      (err: unknown) => err instanceof WeirError && /not JSON/.test(err.message),
    )
  })

  it('compileRules validates too, and accepts an already parsed set', () => {
    assert.throws(
      () => compileRules({ rules: [{ type: 'range', field: 'a' }] } as never, { now: () => 0 }),
      WeirError,
    )
    const parsed = parseRuleSet({ rules: [{ type: 'required', field: 'a' }] })
    assert.equal(compileRules(parsed, { now: () => 0 })({}).length, 1)
  })
})

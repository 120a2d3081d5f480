import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  compileRules,
  NO_VIOLATIONS,
  type RuleInput,
  rulesValidator,
  type Violation,
} from '../../src/rules/index.ts'

const T0 = Date.parse('2025-06-01T12:00:00Z')
const now = () => T0

function check(rule: RuleInput, record: unknown, sets?: Record<string, string[]>): readonly Violation[] {
  return compileRules({ rules: [rule] }, { now, sets })(record)
}

/** Asserts exactly one violation of the rule, on `field`, and returns it. */
function one(rule: RuleInput, record: unknown, field: string): Violation {
  const vs = check(rule, record)
  assert.equal(vs.length, 1, `expected one violation, got ${JSON.stringify(vs)}`)
  assert.equal(vs[0]!.field, field)
  assert.equal(vs[0]!.type, rule.type)
  return vs[0]!
}

describe('required', () => {
  const rule: RuleInput = { id: 'req', type: 'required', fields: ['sensor_id', 'coordinates.latitude'] }

  it('passes when every field is present, including falsy values', () => {
    assert.deepEqual(check(rule, { sensor_id: '', coordinates: { latitude: 0 } }), [])
  })

  it('reports each missing, undefined or null field by its path', () => {
    const vs = check(rule, { sensor_id: null, coordinates: {} })
    assert.deepEqual(
      vs.map((v) => [v.rule, v.field]),
      [
        ['req', 'sensor_id'],
        ['req', 'coordinates.latitude'],
      ],
    )
    assert.equal(vs[0]!.message, 'sensor_id is required')
    assert.equal('value' in vs[0]!, false)
  })

  it('treats a non-object record as missing everything', () => {
    assert.equal(check(rule, null).length, 2)
    assert.equal(check(rule, 'text').length, 2)
  })
})

describe('type', () => {
  const cases: Array<[string, unknown, unknown]> = [
    ['string', 'a', 1],
    ['number', 1.5, '1.5'],
    ['number', -3, Number.NaN],
    ['integer', 3, 3.5],
    ['boolean', false, 'false'],
    ['object', { a: 1 }, [1]],
    ['array', [], {}],
    ['timestamp', '2025-06-01T11:00:00Z', 'yesterday'],
    ['timestamp', 1748779200000, true],
  ]
  for (const [expected, good, bad] of cases) {
    it(`${expected}: accepts ${JSON.stringify(good)}, rejects ${String(bad)}`, () => {
      const rule: RuleInput = { type: 'type', field: 'x', expected: expected as 'string' }
      assert.deepEqual(check(rule, { x: good }), [])
      const v = one(rule, { x: bad }, 'x')
      assert.match(v.message, new RegExp(`must be an? ${expected}`))
      assert.equal(v.rule, 'type:x')
    })
  }

  it('skips an absent value (that is what required is for)', () => {
    assert.deepEqual(check({ type: 'type', field: 'x', expected: 'number' }, {}), [])
  })
})

describe('range', () => {
  const rule: RuleInput = { id: 'speed', type: 'range', field: 'traffic.speed', min: 0, max: 120 }

  it('accepts the bounds themselves (inclusive by default)', () => {
    assert.deepEqual(check(rule, { traffic: { speed: 0 } }), [])
    assert.deepEqual(check(rule, { traffic: { speed: 120 } }), [])
  })

  it('rejects above max and below min with the value', () => {
    const v = one(rule, { traffic: { speed: 250 } }, 'traffic.speed')
    assert.equal(v.value, 250)
    assert.equal(v.message, 'traffic.speed 250 is above the maximum 120')
    assert.match(one(rule, { traffic: { speed: -1 } }, 'traffic.speed').message, /below the minimum 0/)
  })

  it('honours exclusive bounds', () => {
    const excl: RuleInput = {
      type: 'range',
      field: 'x',
      min: 0,
      max: 1,
      minInclusive: false,
      maxInclusive: false,
    }
    assert.equal(check(excl, { x: 0 }).length, 1)
    assert.equal(check(excl, { x: 1 }).length, 1)
    assert.deepEqual(check(excl, { x: 0.5 }), [])
  })

  it('works with only one bound', () => {
    assert.deepEqual(check({ type: 'range', field: 'x', min: 0 }, { x: 1e12 }), [])
    assert.equal(check({ type: 'range', field: 'x', max: 0 }, { x: 1 }).length, 1)
  })

  it('rejects a value that is not a number, including a numeric string and NaN', () => {
    assert.match(
      one(rule, { traffic: { speed: '55' } }, 'traffic.speed').message,
      /must be a number, got string "55"/,
    )
    assert.equal(check(rule, { traffic: { speed: Number.NaN } }).length, 1)
  })
})

describe('enum', () => {
  it('checks an inline list', () => {
    const rule: RuleInput = { type: 'enum', field: 'dir', values: ['N', 'S', 'E', 'W'] }
    assert.deepEqual(check(rule, { dir: 'N' }), [])
    assert.match(one(rule, { dir: 'NE' }, 'dir').message, /"NE" is not one of "N", "S", "E", "W"/)
  })

  it('checks a named set from the rule set', () => {
    const c = compileRules(
      { sets: { sensors: ['A', 'B'] }, rules: [{ id: 'known', type: 'enum', field: 's', set: 'sensors' }] },
      { now },
    )
    assert.deepEqual(c({ s: 'A' }), [])
    assert.match(c({ s: 'Z' })[0]!.message, /not in the set "sensors"/)
  })

  it('checks a named set given in code, which wins over the data', () => {
    const c = compileRules(
      { sets: { sensors: ['A'] }, rules: [{ type: 'enum', field: 's', set: 'sensors' }] },
      { now, sets: { sensors: ['B'] } },
    )
    assert.equal(c({ s: 'A' }).length, 1)
    assert.deepEqual(c({ s: 'B' }), [])
  })

  it('compares by type: 1 is not "1"', () => {
    assert.equal(check({ type: 'enum', field: 'x', values: [1, 2] }, { x: '1' }).length, 1)
  })
})

describe('geo', () => {
  const rule: RuleInput = {
    id: 'la',
    type: 'geo',
    latField: 'c.lat',
    lonField: 'c.lon',
    minLat: 33.7,
    maxLat: 34.5,
    minLon: -119,
    maxLon: -117,
  }

  it('accepts a point inside the box', () => {
    assert.deepEqual(check(rule, { c: { lat: 34.05, lon: -118.24 } }), [])
  })

  it('reports latitude and longitude separately, by their own field', () => {
    assert.deepEqual(
      check(rule, { c: { lat: 40.7, lon: -74 } }).map((v) => v.field),
      ['c.lat', 'c.lon'],
    )
    assert.match(
      one(rule, { c: { lat: 34, lon: -116.9 } }, 'c.lon').message,
      /longitude -116.9 is outside the bounds -119..-117/,
    )
  })

  it('rejects a non-number coordinate, skips an absent one', () => {
    one(rule, { c: { lat: '34', lon: -118 } }, 'c.lat')
    assert.deepEqual(check(rule, { c: {} }), [])
  })
})

describe('notInFuture', () => {
  const rule: RuleInput = { type: 'notInFuture', field: 'ts', skewMs: 1000 }

  it('accepts the past, now and up to the skew ahead', () => {
    assert.deepEqual(check(rule, { ts: '2025-06-01T11:00:00Z' }), [])
    assert.deepEqual(check(rule, { ts: T0 + 1000 }), [])
  })

  it('rejects beyond the skew and says by how much', () => {
    assert.match(one(rule, { ts: T0 + 90_000 }, 'ts').message, /is 1m30s in the future/)
  })

  it('rejects text that is not a timestamp', () => {
    assert.match(one(rule, { ts: 'tomorrow' }, 'ts').message, /not a timestamp/)
    one(rule, { ts: '2023-02-29T00:00:00Z' }, 'ts')
  })

  it('reads ISO text with offsets and without a zone as UTC', () => {
    assert.deepEqual(check(rule, { ts: '2025-06-01T17:59:00+06:00' }), [])
    assert.equal(check(rule, { ts: '2025-06-01T12:10:00' }).length, 1)
  })
})

describe('maxAge', () => {
  const rule: RuleInput = { id: 'fresh', type: 'maxAge', field: 'ts', maxAgeMs: 3_600_000 }

  it('accepts a message younger than the limit', () => {
    assert.deepEqual(check(rule, { ts: new Date(T0 - 3_599_000).toISOString() }), [])
  })

  it('rejects an older one with its age', () => {
    const v = one(rule, { ts: new Date(T0 - 2 * 3_600_000).toISOString() }, 'ts')
    assert.match(v.message, /is 2h old, older than 1h/)
  })
})

describe('pattern', () => {
  const rule: RuleInput = { type: 'pattern', field: 'id', pattern: '^METR_LA_\\d{3}$' }

  it('matches strings', () => {
    assert.deepEqual(check(rule, { id: 'METR_LA_007' }), [])
    one(rule, { id: 'METR_LA_7' }, 'id')
  })

  it('applies flags and stays stateless across calls', () => {
    const ci: RuleInput = { type: 'pattern', field: 'x', pattern: 'abc', flags: 'i' }
    const c = compileRules({ rules: [ci] }, { now })
    for (let i = 0; i < 3; i++) assert.deepEqual(c({ x: 'xABCx' }), [])
  })

  it('rejects a non-string', () => {
    assert.match(one(rule, { id: 7 }, 'id').message, /must be a string/)
  })
})

describe('length', () => {
  const rule: RuleInput = { type: 'length', field: 'x', min: 1, max: 3 }

  it('checks strings and arrays', () => {
    assert.deepEqual(check(rule, { x: 'ab' }), [])
    assert.deepEqual(check(rule, { x: [1, 2, 3] }), [])
    assert.match(one(rule, { x: '' }, 'x').message, /length 0, below the minimum 1/)
    assert.match(one(rule, { x: [1, 2, 3, 4] }, 'x').message, /length 4, above the maximum 3/)
  })

  it('rejects other types', () => {
    one(rule, { x: 12 }, 'x')
  })
})

describe('crossField', () => {
  const rule: RuleInput = {
    id: 'total',
    type: 'crossField',
    expr: 'total_price = quantity * unit_price',
    tolerance: 0.01,
  }

  it('accepts an equality within the tolerance', () => {
    assert.deepEqual(check(rule, { total_price: 30.01, quantity: 3, unit_price: 10 }), [])
  })

  it('rejects one outside it, naming the first field', () => {
    const v = one(rule, { total_price: 31, quantity: 3, unit_price: 10 }, 'total_price')
    assert.match(v.message, /does not hold: 31 ≠ 30/)
  })

  it('names a non-number operand and skips an absent one', () => {
    one(rule, { total_price: 30, quantity: '3', unit_price: 10 }, 'quantity')
    assert.deepEqual(check(rule, { total_price: 30, unit_price: 10 }), [])
  })

  it('reports division by zero', () => {
    assert.match(
      one({ type: 'crossField', expr: 'a = b / c' }, { a: 1, b: 1, c: 0 }, 'a').message,
      /cannot be evaluated/,
    )
  })

  it('supports inequalities and a relative tolerance', () => {
    assert.deepEqual(check({ type: 'crossField', expr: 'end >= start' }, { start: 1, end: 2 }), [])
    assert.equal(check({ type: 'crossField', expr: 'end > start' }, { start: 2, end: 2 }).length, 1)
    const rel: RuleInput = { type: 'crossField', expr: 'a = b', relativeTolerance: 0.01 }
    assert.deepEqual(check(rel, { a: 1000, b: 1009 }), [])
    assert.equal(check(rel, { a: 1000, b: 1011 }).length, 1)
  })

  it('reads nested paths', () => {
    assert.deepEqual(
      check(
        { type: 'crossField', expr: 'o.total = o.items.0.qty * o.items.0.price' },
        { o: { total: 6, items: [{ qty: 2, price: 3 }] } },
      ),
      [],
    )
  })
})

describe('compiled rule sets', () => {
  it('return the shared empty array for a valid record (no allocation)', () => {
    const c = compileRules({ rules: [{ type: 'required', field: 'a' }] }, { now })
    assert.equal(c({ a: 1 }), NO_VIOLATIONS)
    assert.ok(Object.isFrozen(c({ a: 1 })))
  })

  it('expose the validated rules with ids and default severity, for counters', () => {
    const c = compileRules(
      {
        rules: [
          { type: 'required', fields: ['a', 'b'] },
          { id: 'r', type: 'range', field: 'a', min: 0, severity: 'warning' },
        ],
      },
      { now },
    )
    assert.deepEqual(
      c.rules.map((r) => [r.id, r.severity]),
      [
        ['required:a,b', 'error'],
        ['r', 'warning'],
      ],
    )
  })

  it('render custom message templates with field, value and params', () => {
    const vs = check(
      {
        type: 'range',
        field: 'speed',
        max: 120,
        message: 'Speed out of range: {value} (max {max}) in {field}',
      },
      { speed: 250 },
    )
    assert.equal(vs[0]!.message, 'Speed out of range: 250 (max 120) in speed')
  })

  it('report every violation of a record, in rule order', () => {
    const c = compileRules(
      {
        rules: [
          { id: 'a', type: 'required', field: 'a' },
          { id: 'b', type: 'range', field: 'b', max: 1 },
        ],
      },
      { now },
    )
    assert.deepEqual(
      c({ b: 2 }).map((v) => v.rule),
      ['a', 'b'],
    )
  })

  it('rulesValidator fails on errors only, so warnings let the record through', () => {
    const c = compileRules(
      {
        rules: [
          { id: 'w', type: 'range', field: 'x', max: 10, severity: 'warning' },
          { id: 'e', type: 'required', field: 'y' },
        ],
      },
      { now },
    )
    const validate = rulesValidator<Record<string, number>>(c)
    assert.deepEqual(validate({ x: 11, y: 1 }), { ok: true, value: { x: 11, y: 1 } })
    const r = validate({ x: 11 })
    assert.equal(r.ok, false)
    assert.deepEqual(!r.ok && r.violations.map((v) => v.rule), ['w', 'e'])
  })
})

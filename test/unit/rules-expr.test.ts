import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileArithmetic, type Expr, parseCheck } from '../../src/rules/expr.ts'

/** Evaluates the left side of `<expr> = 0` against a record. */
function evaluate(expr: string, record: unknown = {}): number {
  const p = parseCheck(`${expr} = zero`)
  assert.ok(p.ok, p.ok ? '' : p.error)
  return compileArithmetic(p.value.left)(record)
}

function error(src: string): string {
  const p = parseCheck(src)
  assert.equal(p.ok, false, `expected ${JSON.stringify(src)} to be rejected`)
  return p.ok ? '' : p.error
}

describe('crossField expressions', () => {
  it('follow arithmetic precedence: * and / before + and -, left to right', () => {
    assert.equal(evaluate('2 + 3 * 4'), 14)
    assert.equal(evaluate('10 - 4 - 3'), 3)
    assert.equal(evaluate('16 / 4 / 2'), 2)
    assert.equal(evaluate('2 * 3 + 4 * 5'), 26)
  })

  it('honour parentheses and unary minus', () => {
    assert.equal(evaluate('(2 + 3) * 4'), 20)
    assert.equal(evaluate('-(2 + 3) * -2'), 10)
    assert.equal(evaluate('--3'), 3)
    assert.equal(evaluate('+3 - -3'), 6)
  })

  it('read numbers in every JSON form', () => {
    assert.equal(evaluate('1.5e3 + .5 + 0.25'), 1500.75)
  })

  it('read dotted field paths, including array indexes', () => {
    assert.equal(evaluate('a.b * c.0', { a: { b: 3 }, c: [4] }), 12)
  })

  it('give NaN for a missing or non-number field (so the rule can say which)', () => {
    assert.ok(Number.isNaN(evaluate('a + 1', {})))
    assert.ok(Number.isNaN(evaluate('a + 1', { a: '1' })))
  })

  it('list the fields they read, left side first, without repeats', () => {
    const p = parseCheck('total_price = quantity * unit_price + quantity * 0')
    assert.ok(p.ok)
    assert.deepEqual(p.value.fields, ['total_price', 'quantity', 'unit_price'])
    assert.equal(p.value.op, '=')
  })

  it('accept == as = and every comparison', () => {
    for (const op of ['=', '==', '!=', '<', '<=', '>', '>=']) assert.ok(parseCheck(`a ${op} b`).ok, op)
  })

  it('build a tree, not code', () => {
    const p = parseCheck('a = b + 1')
    assert.ok(p.ok)
    const right: Expr = p.value.right
    assert.deepEqual(right, {
      kind: 'bin',
      op: '+',
      left: { kind: 'field', path: 'b' },
      right: { kind: 'num', value: 1 },
    })
  })

  it('reject anything that is not arithmetic on fields and numbers', () => {
    assert.match(error('a = foo(b)'), /function calls are not allowed/)
    assert.match(error('a = b ** 2'), /unexpected "\*"/)
    assert.match(error("a = 'text'"), /unexpected "'"/)
    assert.match(error('a = b[0]'), /unexpected "\["/)
    assert.match(error('a = b; process.exit()'), /unexpected ";"/)
    assert.match(error('a = b ? c : d'), /unexpected "\?"/)
    assert.match(error('a = b && c'), /unexpected "&"/)
    assert.match(error('a = `x`'), /unexpected "`"/)
    assert.match(error('a = constructor.name'), /reserved name "constructor"/)
    assert.match(error('a = b.__proto__'), /reserved name "__proto__"/)
    assert.match(error('a => b'), /unexpected/)
  })

  it('reject malformed input with a position', () => {
    assert.match(error(''), /empty/)
    assert.match(error('a + b'), /expected a comparison/)
    assert.match(error('a = (b + c'), /expected "\)"/)
    assert.match(error('a = b +'), /ends too early/)
    assert.match(error('a = b = c'), /unexpected "=" at 6/)
    assert.match(error('1 = 2'), /reads no field/)
    assert.match(error('a = b c'), /unexpected "c"/)
  })

  it('reject very long input', () => {
    assert.match(error(`a = ${'b + '.repeat(300)}1`), /longer than 1000/)
  })
})

/**
 * A tiny, safe expression language for cross-field checks: numbers, dotted field paths, `+ - * /`,
 * unary minus, parentheses, and one comparison at the top (`= == != < <= > >=`). No calls, no strings,
 * no property access beyond field paths, no eval: the text is parsed into a tree and compiled to
 * closures once.
 *
 * @example
 * const parsed = parseCheck('total_price = quantity * unit_price')
 * if (parsed.ok) parsed.check.fields // ['total_price', 'quantity', 'unit_price']
 */
import { compilePath, pathProblem } from './path.ts'

export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>='

export type Expr =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'field'; readonly path: string }
  | { readonly kind: 'neg'; readonly arg: Expr }
  | { readonly kind: 'bin'; readonly op: '+' | '-' | '*' | '/'; readonly left: Expr; readonly right: Expr }

export interface CheckExpr {
  readonly left: Expr
  readonly op: Comparison
  readonly right: Expr
  /** Every field path the expression reads, left side first, without repeats. */
  readonly fields: readonly string[]
}

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string }

type Token =
  | { kind: 'num'; value: number; pos: number }
  | { kind: 'path'; value: string; pos: number }
  | { kind: 'op'; value: string; pos: number }

const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?/y
const PATH = /[A-Za-z_$][\w$]*(?:\.(?:[A-Za-z_$][\w$]*|\d+))*/y
const OPERATOR = /==|!=|<=|>=|[-+*/()=<>]/y

function at(re: RegExp, src: string, i: number): string | null {
  re.lastIndex = i
  const m = re.exec(src)
  return m === null ? null : m[0]
}

function tokenize(src: string): Parsed<Token[]> {
  const tokens: Token[] = []
  let i = 0
  while (i < src.length) {
    const ch = src[i]!
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++
      continue
    }
    const num = at(NUMBER, src, i)
    const path = num === null ? at(PATH, src, i) : null
    const op = num === null && path === null ? at(OPERATOR, src, i) : null
    const m = num ?? path ?? op
    if (m === null) {
      return {
        ok: false,
        error: `unexpected ${JSON.stringify(ch)} at ${i}: only numbers, field paths, + - * / ( ) and one comparison are allowed`,
      }
    }
    if (num !== null) tokens.push({ kind: 'num', value: Number(num), pos: i })
    else if (path !== null) {
      const problem = pathProblem(path)
      if (problem !== undefined) return { ok: false, error: `${problem} (at ${i})` }
      tokens.push({ kind: 'path', value: path, pos: i })
    } else tokens.push({ kind: 'op', value: m === '==' ? '=' : m, pos: i })
    i += m.length
  }
  return { ok: true, value: tokens }
}

class Parser {
  readonly #tokens: Token[]
  #i = 0

  constructor(tokens: Token[]) {
    this.#tokens = tokens
  }

  peek(): Token | undefined {
    return this.#tokens[this.#i]
  }

  take(): Token | undefined {
    return this.#tokens[this.#i++]
  }

  // sum := product (('+' | '-') product)*
  sum(): Expr {
    let left = this.product()
    for (let t = this.peek(); t?.kind === 'op' && (t.value === '+' || t.value === '-'); t = this.peek()) {
      this.take()
      left = { kind: 'bin', op: t.value, left, right: this.product() }
    }
    return left
  }

  // product := unary (('*' | '/') unary)*
  product(): Expr {
    let left = this.unary()
    for (let t = this.peek(); t?.kind === 'op' && (t.value === '*' || t.value === '/'); t = this.peek()) {
      this.take()
      left = { kind: 'bin', op: t.value, left, right: this.unary() }
    }
    return left
  }

  // unary := ('-' | '+') unary | primary
  unary(): Expr {
    const t = this.peek()
    if (t?.kind === 'op' && (t.value === '-' || t.value === '+')) {
      this.take()
      const arg = this.unary()
      return t.value === '-' ? { kind: 'neg', arg } : arg
    }
    return this.primary()
  }

  // primary := number | path | '(' sum ')'
  primary(): Expr {
    const t = this.take()
    if (t === undefined) throw new ExprSyntax('the expression ends too early')
    if (t.kind === 'num') return { kind: 'num', value: t.value }
    if (t.kind === 'path') {
      const next = this.peek()
      if (next?.kind === 'op' && next.value === '(')
        throw new ExprSyntax(`function calls are not allowed ("${t.value}(" at ${t.pos})`)
      return { kind: 'field', path: t.value }
    }
    if (t.value === '(') {
      const inner = this.sum()
      const close = this.take()
      if (close?.kind !== 'op' || close.value !== ')')
        throw new ExprSyntax(`expected ")" ${close ? `at ${close.pos}` : 'at the end'}`)
      return inner
    }
    throw new ExprSyntax(`unexpected "${t.value}" at ${t.pos}`)
  }
}

/** Internal control flow of the parser only; never escapes `parseCheck`. */
class ExprSyntax extends Error {}

const COMPARISONS = new Set(['=', '!=', '<', '<=', '>', '>='])

function fieldsOf(e: Expr, into: string[]): void {
  if (e.kind === 'field') {
    if (!into.includes(e.path)) into.push(e.path)
  } else if (e.kind === 'neg') fieldsOf(e.arg, into)
  else if (e.kind === 'bin') {
    fieldsOf(e.left, into)
    fieldsOf(e.right, into)
  }
}

/** Parses `left <comparison> right`. Never throws: a problem comes back as `{ ok: false, error }`. */
export function parseCheck(src: string): Parsed<CheckExpr> {
  if (typeof src !== 'string' || src.trim() === '') return { ok: false, error: 'the expression is empty' }
  if (src.length > 1000) return { ok: false, error: 'the expression is longer than 1000 characters' }
  const tokens = tokenize(src)
  if (!tokens.ok) return tokens
  const p = new Parser(tokens.value)
  try {
    const left = p.sum()
    const op = p.take()
    if (op === undefined)
      return { ok: false, error: 'expected a comparison, as in "total = quantity * price"' }
    if (op.kind !== 'op' || !COMPARISONS.has(op.value))
      return { ok: false, error: `expected a comparison at ${op.pos}, found "${op.value}"` }
    const right = p.sum()
    const rest = p.peek()
    if (rest !== undefined) return { ok: false, error: `unexpected "${rest.value}" at ${rest.pos}` }
    const fields: string[] = []
    fieldsOf(left, fields)
    fieldsOf(right, fields)
    if (fields.length === 0) return { ok: false, error: 'the expression reads no field' }
    return { ok: true, value: { left, op: op.value as Comparison, right, fields } }
  } catch (err) {
    if (err instanceof ExprSyntax) return { ok: false, error: err.message }
    throw err
  }
}

/** Evaluates to a number; a field that is not a finite number makes the whole result NaN. */
export type Arithmetic = (record: unknown) => number

export function compileArithmetic(e: Expr): Arithmetic {
  switch (e.kind) {
    case 'num': {
      const v = e.value
      return () => v
    }
    case 'field': {
      const get = compilePath(e.path)
      return (r) => {
        const v = get(r)
        return typeof v === 'number' ? v : Number.NaN
      }
    }
    case 'neg': {
      const a = compileArithmetic(e.arg)
      return (r) => -a(r)
    }
    case 'bin': {
      const l = compileArithmetic(e.left)
      const r = compileArithmetic(e.right)
      switch (e.op) {
        case '+':
          return (x) => l(x) + r(x)
        case '-':
          return (x) => l(x) - r(x)
        case '*':
          return (x) => l(x) * r(x)
        case '/':
          return (x) => l(x) / r(x)
      }
    }
  }
}

/** Whether `l op r` holds; `=` and `!=` compare within the tolerance. */
export function compare(l: number, op: Comparison, r: number, tolerance: number, relative: number): boolean {
  const scale = Math.max(Math.abs(l), Math.abs(r))
  // A few ulps on top, so 30.01 vs 30 with tolerance 0.01 holds despite binary floating point.
  const slack = Math.max(tolerance, relative * scale) + 8 * Number.EPSILON * Math.max(1, scale)
  switch (op) {
    case '=':
      return Math.abs(l - r) <= slack
    case '!=':
      return Math.abs(l - r) > slack
    case '<':
      return l < r
    case '<=':
      return l <= r
    case '>':
      return l > r
    case '>=':
      return l >= r
  }
}

import { ErrorCode, WeirError } from '../../core/errors.ts'

/** A table: a plain name (never split on dots), or schema and name. */
export type TableName = string | { readonly schema: string; readonly name: string }

/**
 * What a row whose key already exists does:
 * - `replace`: overwrite every non-key column with the new row's value (a replayed window result
 *   writes the same values again: idempotent),
 * - `ignore`: keep the existing row (first write wins; also idempotent),
 * - per column: `replace`, or `add` (existing + new, for partial counts; NOT idempotent: a replay adds
 *   again). Columns left out keep their existing value.
 */
export type ConflictUpdate = 'replace' | 'ignore' | Readonly<Record<string, 'add' | 'replace'>>

export interface ConflictSpec {
  /** The columns of a unique index or primary key (what `ON CONFLICT (…)` names). */
  readonly key: readonly string[]
  readonly update: ConflictUpdate
}

/** PostgreSQL's limit on bind parameters in one statement. */
export const MAX_PARAMS = 65535

function invalid(path: string, message: string): WeirError {
  return new WeirError(ErrorCode.CONFIG_INVALID, `postgres sink option ${path}: ${message}`)
}

/** `"name"` with embedded quotes doubled: any identifier, reserved words and mixed case included. */
export function quoteIdent(name: string, path = 'identifier'): string {
  if (typeof name !== 'string' || name.length === 0) throw invalid(path, 'must be a non-empty string')
  if (name.includes('\u0000')) throw invalid(path, 'must not contain NUL')
  return `"${name.replaceAll('"', '""')}"`
}

export function quoteTable(table: TableName): string {
  if (typeof table === 'string') {
    if (table.includes('.'))
      throw invalid('table', `"${table}" contains a dot; use { schema, name } to name a schema`)
    return quoteIdent(table, 'table')
  }
  return `${quoteIdent(table.schema, 'table.schema')}.${quoteIdent(table.name, 'table.name')}`
}

export function tableLabel(table: TableName): string {
  return typeof table === 'string' ? table : `${table.schema}.${table.name}`
}

/** A validated INSERT … ON CONFLICT, ready to be filled with rows. */
export interface InsertPlan {
  readonly columns: readonly string[]
  readonly rowsPerStatement: number
  /** Column positions of the conflict key when a repeated key must start a new statement. */
  readonly splitOnKey: readonly string[] | undefined
  readonly head: string
  readonly tail: string
}

const ALIAS = '"weir_existing"'

function conflictClause(columns: readonly string[], conflict: ConflictSpec | undefined): string {
  if (conflict === undefined) return ''
  if (!Array.isArray(conflict.key) || conflict.key.length === 0)
    throw invalid('conflict.key', 'must name at least one column')
  for (const k of conflict.key)
    if (!columns.includes(k)) throw invalid('conflict.key', `"${k}" is not in columns`)
  const target = `ON CONFLICT (${conflict.key.map((k) => quoteIdent(k)).join(', ')})`
  const { update } = conflict
  let sets: string[]
  if (update === 'ignore') sets = []
  else if (update === 'replace') {
    sets = columns
      .filter((c) => !conflict.key.includes(c))
      .map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`)
  } else if (typeof update === 'object' && update !== null) {
    sets = Object.entries(update).map(([c, how]) => {
      if (!columns.includes(c)) throw invalid(`conflict.update.${c}`, 'is not in columns')
      if (conflict.key.includes(c)) throw invalid(`conflict.update.${c}`, 'is part of the conflict key')
      const q = quoteIdent(c)
      if (how === 'replace') return `${q} = EXCLUDED.${q}`
      if (how === 'add') return `${q} = ${ALIAS}.${q} + EXCLUDED.${q}`
      throw invalid(`conflict.update.${c}`, `must be 'add' or 'replace', got ${String(how)}`)
    })
  } else
    throw invalid('conflict.update', `must be 'replace', 'ignore' or a column map, got ${String(update)}`)
  return sets.length === 0 ? ` ${target} DO NOTHING` : ` ${target} DO UPDATE SET ${sets.join(', ')}`
}

export function planInsert(options: {
  table: TableName
  columns: readonly string[]
  conflict?: ConflictSpec
  batchSize?: number
}): InsertPlan {
  const { columns, conflict } = options
  if (!Array.isArray(columns) || columns.length === 0)
    throw invalid('columns', 'must name at least one column')
  if (new Set(columns).size !== columns.length) throw invalid('columns', 'must not repeat a column')
  if (columns.length > MAX_PARAMS) throw invalid('columns', `at most ${MAX_PARAMS}`)
  const batchSize = options.batchSize ?? 1000
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw invalid('batchSize', `must be a positive integer, got ${batchSize}`)
  const tail = conflictClause(columns, conflict)
  return {
    columns,
    rowsPerStatement: Math.max(1, Math.min(batchSize, Math.floor(MAX_PARAMS / columns.length))),
    // Two rows with one key in a single statement make DO UPDATE fail ("cannot affect row a second time").
    splitOnKey: conflict !== undefined && conflict.update !== 'ignore' ? conflict.key : undefined,
    head: `INSERT INTO ${quoteTable(options.table)} AS ${ALIAS} (${columns.map((c) => quoteIdent(c)).join(', ')}) VALUES `,
    tail,
  }
}

/** A statement that plans (EXPLAIN) the insert without writing: checks table, columns and conflict target. */
export function explainProbe(plan: InsertPlan): string {
  return `EXPLAIN ${plan.head}(${plan.columns.map(() => 'DEFAULT').join(', ')})${plan.tail}`
}

function keyOf(row: Readonly<Record<string, unknown>>, key: readonly string[]): string {
  let s = ''
  for (const c of key) {
    const v = row[c]
    s +=
      v instanceof Date
        ? `d${v.getTime()}`
        : Buffer.isBuffer(v)
          ? `b${v.toString('hex')}`
          : `${typeof v}:${String(v)}`
    s += '\u0001'
  }
  return s
}

export interface Statement {
  readonly text: string
  readonly values: unknown[]
  readonly rows: number
}

/**
 * Multi-row INSERTs for `rows`, each under the parameter limit and `rowsPerStatement`, with no conflict
 * key twice in one statement. `undefined` becomes DEFAULT (the column default), `null` NULL.
 */
export function* statements(
  plan: InsertPlan,
  rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
): Generator<Statement> {
  let tuples: string[] = []
  let values: unknown[] = []
  let keys: Set<string> | undefined
  for (const row of rows) {
    const k = plan.splitOnKey && keyOf(row, plan.splitOnKey)
    if (tuples.length === plan.rowsPerStatement || (k !== undefined && keys?.has(k))) {
      yield { text: plan.head + tuples.join(', ') + plan.tail, values, rows: tuples.length }
      tuples = []
      values = []
      keys = undefined
    }
    if (k !== undefined) {
      keys ??= new Set()
      keys.add(k)
    }
    const cells: string[] = []
    for (const c of plan.columns) {
      const v = row[c]
      if (v === undefined) cells.push('DEFAULT')
      else {
        values.push(v)
        cells.push(`$${values.length}`)
      }
    }
    tuples.push(`(${cells.join(', ')})`)
  }
  if (tuples.length > 0)
    yield { text: plan.head + tuples.join(', ') + plan.tail, values, rows: tuples.length }
}

import pg from 'pg'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { Counter, Histogram, Labels } from '../../core/metrics.ts'
import { type Logger, silentLogger } from '../../log/logger.ts'
import type { ConnectorStatus, Sink } from '../contract.ts'
import { classify, describe, pgUnavailable, refusesUs, rowErrorDetails } from './errors.ts'
import { type PostgresSinkOptions, type PostgresSinkStats, positive, type Row, reveal } from './options.ts'
import { explainProbe, type InsertPlan, planInsert, statements, tableLabel } from './sql.ts'

interface Bad {
  readonly row: Row
  readonly err: unknown
}

/** A checked-out connection's 'error' listener and what it heard. */
interface Held {
  readonly listener: (err: Error) => void
  error?: Error
}

/**
 * Buffers rows in `add`; `flush` writes them all in one transaction of multi-row INSERTs. A data error
 * rolls back and the batch is written again by bisection inside one transaction (savepoints): halves
 * that succeed are kept, the bad rows are isolated in O(bad · log n) statements and handed to
 * `onRejected` after the good ones commit. An outage keeps every row and rejects with SINK_UNAVAILABLE.
 * Flushes run one at a time; rows added during a flush wait for the next one.
 */
export class PostgresSink implements Sink<Row> {
  readonly id: string
  readonly #pool: pg.Pool
  readonly #ownPool: boolean
  readonly #plan: InsertPlan
  readonly #options: PostgresSinkOptions
  readonly #table: string
  readonly #where: string
  readonly #log: Logger
  #buffer: Row[] = []
  #inflight = 0
  #onRejected: PostgresSinkOptions['onRejected']
  readonly #held = new WeakMap<pg.PoolClient, Held>()
  #chain: Promise<unknown> = Promise.resolve()
  #connected = false
  #closed = false
  /** open() found PostgreSQL unreachable (startUnreachable): the next flush prepares first. */
  #unprepared = false
  #lastError: string | undefined
  #written = 0
  #rejected = 0
  #errors = 0
  readonly #metrics:
    | { written: Counter; rejected: Counter; errors: Counter; seconds: Histogram; labels: Labels }
    | undefined

  constructor(options: PostgresSinkOptions) {
    this.#options = options
    this.#onRejected = options.onRejected
    this.#plan = planInsert(options)
    this.#table = tableLabel(options.table)
    const name = options.name ?? this.#table
    this.id = `postgres:${name}`
    this.#where = options.pool
      ? `pool (${this.#table})`
      : `${options.host ?? 'localhost'}:${options.port ?? 5432} (${this.#table})`
    this.#log = (options.logger ?? silentLogger).child({ sink: this.id })
    const m = options.metrics
    this.#metrics = m && {
      written: m.counter('weir_postgres_rows_written_total', 'Rows committed to PostgreSQL, by sink'),
      rejected: m.counter(
        'weir_postgres_rows_rejected_total',
        'Rows PostgreSQL refused (sent to onRejected)',
      ),
      errors: m.counter('weir_postgres_flush_errors_total', 'Failed PostgreSQL flushes, by sink'),
      seconds: m.histogram('weir_postgres_flush_seconds', 'Duration of a PostgreSQL flush (one transaction)'),
      labels: { sink: name },
    }
    this.#ownPool = options.pool === undefined
    this.#pool =
      options.pool ??
      new pg.Pool({
        connectionString: reveal(options.connectionString),
        host: options.host,
        port: options.port,
        database: options.database,
        user: options.user,
        password: reveal(options.password),
        ssl: options.ssl,
        max: positive('maxConnections', options.maxConnections, 2),
        connectionTimeoutMillis: positive('connectTimeoutMs', options.connectTimeoutMs, 5000),
        query_timeout: positive('queryTimeoutMs', options.queryTimeoutMs, 30_000),
        idleTimeoutMillis: 30_000,
        application_name: `weir:${name}`.slice(0, 63),
      })
    // An idle connection that dies (server restart, terminated backend) is reported here, not thrown.
    this.#pool.on('error', (err) => this.#down(err))
  }

  /** Runs `createTable`, then plans the INSERT (EXPLAIN) to check table, columns and conflict key. */
  async open(): Promise<void> {
    if (this.#closed) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, `${this.id} is closed`)
    try {
      await this.#prepare()
    } catch (err) {
      if (
        !this.#options.startUnreachable ||
        !(err instanceof WeirError) ||
        err.code !== ErrorCode.SINK_UNAVAILABLE
      )
        throw err
      // A server that answers but refuses (bad password, no such database, a certificate that does not
      // verify, no TLS where TLS is required) is a config error, not an outage: waiting will not fix it.
      if (refusesUs(err.cause)) {
        throw new WeirError(
          ErrorCode.CONFIG_INVALID,
          `postgres sink for ${this.#table}: ${describe(err.cause)}`,
          { cause: err },
        )
      }
      this.#unprepared = true
      this.#log.warn(
        'postgres unreachable at start; running degraded until it answers (nothing is committed meanwhile)',
        {
          reason: this.#lastError,
        },
      )
    }
  }

  async #prepare(): Promise<void> {
    const client = await this.#checkout()
    let broken: Error | undefined
    try {
      if (this.#options.createTable) await client.query(this.#options.createTable)
      await client.query(explainProbe(this.#plan))
      this.#up()
      this.#unprepared = false
    } catch (err) {
      if (classify(err) === 'connection') {
        broken = err instanceof Error ? err : new Error(String(err))
        this.#down(err)
        throw pgUnavailable(this.#where, err, this.backlog())
      }
      throw new WeirError(ErrorCode.CONFIG_INVALID, `postgres sink for ${this.#table}: ${describe(err)}`, {
        cause: err,
      })
    } finally {
      this.#release(client, broken)
    }
  }

  /** The runtime's dead-letter path for refused rows, unless the sink was built with `onRejected`. */
  deadLetters(handler: (row: Row, err: WeirError) => void): void {
    this.#onRejected ??= handler
  }

  add(row: Row): void {
    if (this.#closed) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, `${this.id} is closed`)
    this.#buffer.push(row)
  }

  flush(): Promise<void> {
    const run = this.#chain.then(() => this.#flushOnce())
    this.#chain = run.catch(() => {})
    return run
  }

  backlog(): number {
    return this.#buffer.length + this.#inflight
  }

  /**
   * Does not flush (the runtime's final checkpoint does): rows still buffered are dropped here; their
   * offsets were not committed, so they are read again after a restart. Waits for a running flush.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#chain
    if (this.#buffer.length > 0)
      this.#log.warn('closing with unflushed rows; they will be re-read', { backlog: this.#buffer.length })
    if (!this.#ownPool) return
    // end() waits for checked-out connections; don't let one stuck on a dead socket hold close forever.
    let timer: NodeJS.Timeout | undefined
    const cap = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.queryTimeoutMs ?? 30_000)
      timer.unref()
    })
    await Promise.race([this.#pool.end().catch(() => {}), cap])
    clearTimeout(timer)
  }

  status(): ConnectorStatus {
    if (this.#closed) return { connected: false, message: 'closed' }
    if (this.#connected) return { connected: true }
    return { connected: false, message: this.#lastError ?? 'not connected yet' }
  }

  stats(): PostgresSinkStats {
    const s = {
      written: this.#written,
      rejected: this.#rejected,
      errors: this.#errors,
      backlog: this.backlog(),
      connected: this.#connected && !this.#closed,
    }
    return this.#lastError === undefined ? s : { ...s, lastError: this.#lastError }
  }

  async #flushOnce(): Promise<void> {
    if (this.#closed) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, `${this.id} is closed`)
    if (this.#unprepared) await this.#prepare()
    if (this.#buffer.length === 0) {
      if (!this.#connected) await this.#probe()
      return
    }
    const batch = this.#buffer
    this.#buffer = []
    this.#inflight = batch.length
    const started = performance.now()
    let bad: Bad[]
    try {
      bad = await this.#write(batch)
    } catch (err) {
      this.#buffer = batch.concat(this.#buffer)
      this.#failedFlush(err)
      throw err
    } finally {
      this.#inflight = 0
      this.#metrics?.seconds.observe((performance.now() - started) / 1000, this.#metrics.labels)
    }
    const written = batch.length - bad.length
    this.#written += written
    this.#metrics?.written.inc(this.#metrics.labels, written)
    if (bad.length > 0) await this.#reject(bad)
  }

  /** Hands bad rows to onRejected, or keeps them and fails the flush when there is no handler. */
  async #reject(bad: readonly Bad[]): Promise<void> {
    const handler = this.#onRejected
    for (let i = 0; i < bad.length; i++) {
      const { row, err } = bad[i]!
      const weirErr = new WeirError(
        ErrorCode.SINK_REJECTED,
        `postgres rejected a row for ${this.#table}: ${describe(err)}`,
        {
          cause: err,
          details: rowErrorDetails(err, this.#table),
        },
      )
      try {
        if (handler === undefined) throw weirErr
        await handler(row, weirErr)
        this.#rejected++
        this.#metrics?.rejected.inc(this.#metrics.labels)
      } catch (handlerErr) {
        const kept = bad.slice(i).map((b) => b.row)
        this.#buffer = kept.concat(this.#buffer)
        const out =
          handlerErr === weirErr
            ? new WeirError(
                ErrorCode.SINK_REJECTED,
                `postgres rejected ${kept.length} of the rows for ${this.#table} (first: ${describe(err)}); they stay buffered — give the sink an onRejected handler to dead-letter them`,
                { cause: err, details: { rejected: kept.length, ...rowErrorDetails(err, this.#table) } },
              )
            : new WeirError(
                ErrorCode.SINK_REJECTED,
                `onRejected failed for ${this.#table}: ${describe(handlerErr)}`,
                {
                  cause: handlerErr,
                },
              )
        this.#failedFlush(out)
        throw out
      }
    }
  }

  /** One transaction; on a data error, a second one that bisects. Returns the rows that were refused. */
  async #write(batch: readonly Row[]): Promise<Bad[]> {
    const client = await this.#checkout()
    let broken: Error | undefined
    try {
      try {
        await client.query('BEGIN')
        for (const st of statements(this.#plan, batch)) await client.query(st.text, st.values)
        const results = await this.#followUp(client, batch)
        await client.query('COMMIT')
        this.#up()
        this.#options.onCommitted?.(batch, results)
        return []
      } catch (err) {
        if (classify(err) !== 'row') throw err
        await client.query('ROLLBACK')
      }
      this.#log.debug('data error in batch; isolating bad rows', { rows: batch.length })
      await client.query('BEGIN')
      const bad = await this.#bisect(client, batch)
      const refused = new Set(bad.map((b) => b.row))
      const good = batch.filter((r) => !refused.has(r))
      const results = await this.#followUp(client, good)
      await client.query('COMMIT')
      this.#up()
      this.#options.onCommitted?.(good, results)
      return bad
    } catch (err) {
      const kind = classify(err)
      if (kind === 'connection') {
        broken = err instanceof Error ? err : new Error(String(err))
        this.#down(err)
        throw pgUnavailable(this.#where, err, batch.length + this.#buffer.length)
      }
      await client.query('ROLLBACK').catch(() => {})
      this.#up()
      // A statement error (bad SQL for this table), or a row error we could not pin on a row (deferred constraint).
      throw new WeirError(
        ErrorCode.SINK_REJECTED,
        `postgres refused the batch for ${this.#table}: ${describe(err)}`,
        {
          cause: err,
          details: { rows: batch.length, ...rowErrorDetails(err, this.#table) },
        },
      )
    } finally {
      this.#release(client, broken)
    }
  }

  /**
   * A pooled connection with an 'error' listener for as long as we hold it: a connection that dies
   * while checked out emits 'error' on the client (the pool only listens while it is idle), which would
   * otherwise be an uncaught exception. The failing query rejects as well, and that is what we act on.
   */
  async #checkout(): Promise<pg.PoolClient> {
    let client: pg.PoolClient
    try {
      client = await this.#pool.connect()
    } catch (err) {
      this.#down(err)
      throw pgUnavailable(this.#where, err, this.backlog())
    }
    const held: Held = {
      listener: (err) => {
        held.error = err
      },
    }
    client.on('error', held.listener)
    this.#held.set(client, held)
    return client
  }

  /** Gives the connection back, or destroys it when it failed (by our judgement or its own 'error'). */
  #release(client: pg.PoolClient, broken: Error | undefined): void {
    const held = this.#held.get(client)
    this.#held.delete(client)
    if (held) client.off('error', held.listener)
    client.release(broken ?? held?.error)
  }

  async #followUp(client: pg.PoolClient, rows: readonly Row[]): Promise<pg.QueryResult[]> {
    const results: pg.QueryResult[] = []
    if (this.#options.followUp === undefined || rows.length === 0) return results
    for (const st of this.#options.followUp(rows)) results.push(await client.query(st.text, st.values))
    return results
  }

  async #bisect(client: pg.PoolClient, rows: readonly Row[]): Promise<Bad[]> {
    await client.query('SAVEPOINT weir_bisect')
    try {
      for (const st of statements(this.#plan, rows)) await client.query(st.text, st.values)
      await client.query('RELEASE SAVEPOINT weir_bisect')
      return []
    } catch (err) {
      if (classify(err) !== 'row') throw err
      await client.query('ROLLBACK TO SAVEPOINT weir_bisect')
      await client.query('RELEASE SAVEPOINT weir_bisect')
      if (rows.length === 1) return [{ row: rows[0]!, err }]
      const mid = rows.length >>> 1
      const left = await this.#bisect(client, rows.slice(0, mid))
      const right = await this.#bisect(client, rows.slice(mid))
      return left.concat(right)
    }
  }

  /** While down with nothing to write, a checkpoint's flush checks whether PostgreSQL is back. */
  async #probe(): Promise<void> {
    try {
      await this.#pool.query('SELECT 1')
      this.#up()
    } catch (err) {
      this.#down(err)
    }
  }

  #up(): void {
    if (!this.#connected && this.#lastError !== undefined) this.#log.info('postgres reachable again')
    this.#connected = true
  }

  #down(err: unknown): void {
    const reason = describe(err)
    if (this.#connected) this.#log.warn('postgres unavailable', { reason, backlog: this.backlog() })
    this.#connected = false
    this.#lastError = reason
  }

  #failedFlush(err: unknown): void {
    this.#errors++
    this.#metrics?.errors.inc(this.#metrics.labels)
    if (err instanceof WeirError && err.code === ErrorCode.SINK_REJECTED) this.#lastError = err.message
  }
}

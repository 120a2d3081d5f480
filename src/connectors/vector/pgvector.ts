/**
 * A VectorStore in PostgreSQL with pgvector: one table per collection (`"SocialPost"`, `"MarketOrder"`)
 * with `embedding vector(<dims>)` and an HNSW index on cosine distance, written through the PostgreSQL
 * sink (one transaction per upsert, `ON CONFLICT (id) DO UPDATE`, outages reported as SINK_UNAVAILABLE
 * with nothing dropped).
 *
 * Table: id text PRIMARY KEY, embedding vector(n) NOT NULL, content text NOT NULL (what was embedded),
 * raw_data jsonb NOT NULL (the full record), stored_at timestamptz NOT NULL.
 *
 * @example
 * const store = pgVectorStore({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', collections: ['SocialPost'], dimensions: 384 })
 * await store.open()
 * await store.upsert('SocialPost', [{ id: 'p1', text, vector, properties: post }])
 * const hits = await store.search('SocialPost', queryVector, { limit: 5 })
 */
import pg from 'pg'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import type { MetricsRegistry } from '../../core/metrics.ts'
import { type Logger, silentLogger } from '../../log/logger.ts'
import type { ConnectorStatus } from '../contract.ts'
import { classify, describe } from '../postgres/errors.ts'
import { PostgresSink } from '../postgres/sink.ts'
import { quoteIdent } from '../postgres/sql.ts'
import type { SearchOptions, VectorHit, VectorObject, VectorStore } from './contract.ts'

type SecretText = string | { reveal(): string }

export interface PgVectorStoreOptions {
  /** `postgres://user:password@host:5432/db`. */
  readonly connectionString: SecretText
  /** Schema of the tables (created if missing). Default `public`. */
  readonly schema?: string
  /** Table names, one per collection. */
  readonly collections: readonly string[]
  /** Vector width (384 for all-MiniLM-L6-v2); an existing table of another width is refused. */
  readonly dimensions: number
  /** HNSW `ef_search` for queries (pgvector's default 40): higher finds more of the true nearest. */
  readonly efSearch?: number
  readonly connectTimeoutMs?: number
  readonly queryTimeoutMs?: number
  readonly metrics?: MetricsRegistry
  readonly logger?: Logger
}

/** pgvector's text form: `[0.1,0.2,…]`. */
export function vectorLiteral(v: ArrayLike<number>): string {
  let s = '['
  for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + v[i]
  return `${s}]`
}

/** jsonb and text refuse NUL characters; a scraped post may carry one. */
function withoutNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '') : value
}

export class PgVectorStore implements VectorStore {
  readonly id: string
  readonly collections: readonly string[]
  readonly #o: PgVectorStoreOptions
  readonly #schema: string
  readonly #pool: pg.Pool
  readonly #sinks = new Map<string, PostgresSink>()
  readonly #log: Logger
  readonly #where: string
  #connected = false
  #lastError: string | undefined
  #closed = false

  constructor(options: PgVectorStoreOptions) {
    if (!Number.isInteger(options.dimensions) || options.dimensions < 1 || options.dimensions > 16_000) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `pgvector store: dimensions must be an integer 1–16000, got ${options.dimensions}`,
      )
    }
    if (options.collections.length === 0)
      throw new WeirError(ErrorCode.CONFIG_INVALID, 'pgvector store: name at least one collection')
    this.#o = options
    this.collections = [...options.collections]
    this.#schema = options.schema ?? 'public'
    this.id = `pgvector:${this.#schema}`
    this.#log = (options.logger ?? silentLogger).child({ store: this.id })
    const secret = options.connectionString
    const parsed = URL.parse(typeof secret === 'object' ? secret.reveal() : secret)
    // Host, port and database only: the URL may carry a password.
    this.#where = parsed === null ? 'PostgreSQL' : `PostgreSQL at ${parsed.host}${parsed.pathname}`
    this.#pool = new pg.Pool({
      connectionString: typeof secret === 'object' ? secret.reveal() : secret,
      max: 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      query_timeout: options.queryTimeoutMs ?? 30_000,
      idleTimeoutMillis: 30_000,
      application_name: 'weir:pgvector',
    })
    this.#pool.on('error', (err) => this.#log.debug('idle pgvector connection failed', { error: err }))
    for (const collection of this.collections) {
      this.#sinks.set(
        collection,
        new PostgresSink({
          pool: this.#pool,
          table: { schema: this.#schema, name: collection },
          columns: ['id', 'embedding', 'content', 'raw_data', 'stored_at'],
          conflict: { key: ['id'], update: 'replace' },
          name: `pgvector:${collection}`,
          queryTimeoutMs: options.queryTimeoutMs,
          metrics: options.metrics,
          logger: options.logger,
        }),
      )
    }
  }

  #table(collection: string): string {
    return `${quoteIdent(this.#schema)}.${quoteIdent(collection)}`
  }

  #sink(collection: string): PostgresSink {
    const sink = this.#sinks.get(collection)
    if (sink === undefined) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `pgvector store: unknown collection "${collection}" (known: ${this.collections.join(', ')})`,
      )
    }
    return sink
  }

  /**
   * Creates the extension, schema, tables and HNSW indexes that are missing, under an advisory lock (two
   * instances starting together would otherwise race on CREATE … IF NOT EXISTS), and checks the widths.
   */
  async open(): Promise<void> {
    let client: pg.PoolClient
    try {
      client = await this.#pool.connect()
    } catch (err) {
      this.#down(describe(err))
      throw this.#unreachable(err)
    }
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      await client.query("SELECT pg_advisory_xact_lock(hashtext('weir:pgvector:ddl'))")
      await client.query('CREATE EXTENSION IF NOT EXISTS vector')
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.#schema)}`)
      for (const c of this.collections) {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.#table(c)} (
             id text PRIMARY KEY,
             embedding vector(${this.#o.dimensions}) NOT NULL,
             content text NOT NULL,
             raw_data jsonb NOT NULL,
             stored_at timestamptz NOT NULL DEFAULT now())`,
        )
        await client.query(
          `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${c}_embedding_hnsw`)} ON ${this.#table(c)} USING hnsw (embedding vector_cosine_ops)`,
        )
        const { rows } = await client.query<{ type: string }>(
          `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'embedding'`,
          [this.#table(c)],
        )
        const want = `vector(${this.#o.dimensions})`
        if (rows[0]?.type !== want) {
          throw new WeirError(
            ErrorCode.CONFIG_INVALID,
            `table ${this.#schema}.${c} has embedding ${rows[0]?.type ?? '(none)'} but the model makes ${want}: use another schema (PGVECTOR_SCHEMA) or drop the table`,
          )
        }
      }
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      if (err instanceof WeirError) throw err
      if (classify(err) === 'connection') {
        broken = err instanceof Error ? err : new Error(String(err))
        this.#down(describe(err))
        throw this.#unreachable(err)
      }
      const hint = /extension "vector"/.test(describe(err))
        ? ' (pgvector is not installed in this PostgreSQL: run `bash scripts/pgvector.sh`)'
        : ''
      throw new WeirError(ErrorCode.CONFIG_INVALID, `pgvector store: ${describe(err)}${hint}`, { cause: err })
    } finally {
      client.release(broken)
    }
    for (const sink of this.#sinks.values()) await sink.open()
    this.#up()
  }

  async upsert(collection: string, objects: readonly VectorObject[]): Promise<void> {
    const sink = this.#sink(collection)
    const now = new Date()
    for (const o of objects) {
      if (o.vector.length !== this.#o.dimensions) {
        throw new WeirError(
          ErrorCode.SINK_REJECTED,
          `vector of ${o.vector.length} dimensions for ${collection}, expected ${this.#o.dimensions}`,
        )
      }
      sink.add({
        id: o.id,
        embedding: vectorLiteral(o.vector),
        content: o.text.replaceAll('\u0000', ''),
        raw_data: JSON.stringify(o.properties, withoutNul),
        stored_at: now,
      })
    }
    try {
      await sink.flush()
    } catch (err) {
      if (err instanceof WeirError && err.code === ErrorCode.SINK_UNAVAILABLE) this.#down(err.message)
      throw err
    }
    this.#up()
  }

  async search(collection: string, vector: Float32Array, options: SearchOptions): Promise<VectorHit[]> {
    this.#sink(collection)
    const limit = Math.max(1, Math.min(1000, Math.floor(options.limit)))
    const client = await this.#pool.connect().catch((err: unknown) => {
      this.#down(describe(err))
      throw this.#unreachable(err)
    })
    try {
      // ef_search must cover the limit, or HNSW returns fewer rows than asked for.
      const ef = Math.max(this.#o.efSearch ?? 40, limit)
      await client.query('BEGIN')
      await client.query(`SET LOCAL hnsw.ef_search = ${ef}`)
      const { rows } = await client.query<{
        id: string
        content: string
        raw_data: Record<string, unknown>
        score: number
      }>(
        `SELECT id, content, raw_data, 1 - (embedding <=> $1::vector) AS score
           FROM ${this.#table(collection)} ORDER BY embedding <=> $1::vector LIMIT $2`,
        [vectorLiteral(vector), limit],
      )
      await client.query('COMMIT')
      this.#up()
      return rows.map((r) => ({
        collection,
        id: r.id,
        score: Number(r.score),
        text: r.content,
        properties: r.raw_data,
      }))
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      if (classify(err) !== 'connection') throw err
      this.#down(describe(err))
      throw this.#unreachable(err)
    } finally {
      client.release()
    }
  }

  async count(collection: string): Promise<number> {
    this.#sink(collection)
    const { rows } = await this.#pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.#table(collection)}`,
    )
    return Number(rows[0]!.n)
  }

  /** Whether PostgreSQL answers now (a checkpoint with nothing to write asks, so /health sees it come back). */
  async probe(): Promise<void> {
    try {
      await this.#pool.query('SELECT 1')
      this.#up()
    } catch (err) {
      this.#down(describe(err))
    }
  }

  status(): ConnectorStatus {
    if (this.#closed) return { connected: false, message: 'closed' }
    if (this.#connected) return { connected: true }
    return { connected: false, message: this.#lastError ?? 'not opened yet' }
  }

  #unreachable(cause: unknown): WeirError {
    return new WeirError(
      ErrorCode.SINK_UNAVAILABLE,
      `${this.id}: ${this.#where} unreachable: ${describe(cause)}`,
      { cause },
    )
  }

  #up(): void {
    if (!this.#connected && this.#lastError !== undefined) this.#log.info('pgvector reachable again')
    this.#connected = true
  }

  #down(reason: string): void {
    if (this.#connected) this.#log.warn('pgvector unavailable', { reason })
    this.#connected = false
    this.#lastError = reason
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const sink of this.#sinks.values()) await sink.close()
    await this.#pool.end().catch(() => {})
  }
}

export function pgVectorStore(options: PgVectorStoreOptions): PgVectorStore {
  return new PgVectorStore(options)
}

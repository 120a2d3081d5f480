/**
 * A client for the Confluent Schema Registry REST API (also served by Apicurio Registry under
 * `/apis/ccompat/v7`, Karapace, Redpanda). Schemas by id never change, so they are cached forever;
 * so are the ids of (subject, schema) pairs this process registered or looked up. Concurrent
 * requests for the same id or the same registration share one HTTP call.
 */

import type { ConnectorStatus } from '../../connectors/contract.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import { shareInflight } from '../inflight.ts'
import { DEFAULT_RETRY, type HttpAnswer, RegistryHttp, type RegistryAuth, type RetryOptions } from './http.ts'

export type { RegistryAuth, RetryOptions } from './http.ts'

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF'
export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE'

export interface SchemaRegistryOptions {
  /** Base URL of the Confluent-compatible API, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`. */
  url: string
  auth?: RegistryAuth
  /** Timeout of one HTTP attempt (default 10 000 ms). */
  timeoutMs?: number
  retry?: RetryOptions
  /** Replaces the global fetch (tests of error handling). */
  fetch?: typeof globalThis.fetch
}

export interface StoredSchema {
  readonly id: number
  /** The schema text as the registry returns it. */
  readonly schema: string
  readonly schemaType: SchemaType
}

export interface SubjectSchema extends StoredSchema {
  readonly subject: string
  readonly version: number
}

export interface SchemaOptions {
  /** Default AVRO. */
  schemaType?: SchemaType
}

export interface CompatibilityResult {
  readonly compatible: boolean
  /** The registry's reasons, when it gives some. */
  readonly messages: readonly string[]
}

export interface SchemaRegistry {
  readonly url: string
  /** Registers `schema` under `subject` (or finds it there already) and resolves with its id. */
  register(subject: string, schema: string | object, options?: SchemaOptions): Promise<number>
  /** The id and version of `schema` in `subject`, without registering it: SCHEMA_NOT_FOUND if absent. */
  lookup(subject: string, schema: string | object, options?: SchemaOptions): Promise<SubjectSchema>
  /** The schema with this id: SCHEMA_NOT_FOUND if the registry has none. */
  getSchemaById(id: number): Promise<StoredSchema>
  /** The schema with this id if this client already has it: the synchronous hot path. */
  cachedSchemaById(id: number): StoredSchema | undefined
  /** The latest version in `subject` (never cached: it changes). */
  getLatest(subject: string): Promise<SubjectSchema>
  /** Whether `schema` could be registered in `subject` under its compatibility rule. */
  checkCompatibility(
    subject: string,
    schema: string | object,
    options?: SchemaOptions & { version?: number | 'latest' },
  ): Promise<CompatibilityResult>
  /** Sets the compatibility rule of `subject`, or the global one when no subject is given. */
  setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void>
  /** One attempt, no retry, to see whether the registry answers; updates status(). */
  ping(): Promise<ConnectorStatus>
  /** Whether the last exchange reached the registry, for /health. */
  status(): ConnectorStatus
}

function schemaText(schema: string | object): string {
  return typeof schema === 'string' ? schema : JSON.stringify(schema)
}

function registryError(answer: HttpAnswer, what: string): WeirError {
  const body = answer.body as { error_code?: unknown; message?: unknown } | undefined
  const reason = typeof body?.message === 'string' ? body.message : JSON.stringify(answer.body ?? '')
  const details = { status: answer.status, errorCode: body?.error_code }
  if (answer.status === 404) {
    return new WeirError(
      ErrorCode.SCHEMA_NOT_FOUND,
      `${what}: not found in the schema registry (${reason})`,
      { details },
    )
  }
  if (answer.status === 409 || answer.status === 422) {
    return new WeirError(
      ErrorCode.SERIALIZE_FAILED,
      `${what}: rejected by the schema registry (HTTP ${answer.status}: ${reason})`,
      {
        details,
      },
    )
  }
  const kind = answer.status === 401 || answer.status === 403 ? 'access denied' : 'unexpected answer'
  return new WeirError(
    ErrorCode.REGISTRY_UNAVAILABLE,
    `${what}: ${kind} from the schema registry (HTTP ${answer.status}: ${reason})`,
    {
      retriable: false,
      details,
    },
  )
}

function malformed(what: string, body: unknown): WeirError {
  return new WeirError(
    ErrorCode.REGISTRY_UNAVAILABLE,
    `${what}: malformed answer from the schema registry: ${JSON.stringify(body)}`,
    {
      retriable: false,
    },
  )
}

function toStored(body: unknown, id: number, what: string): StoredSchema {
  const b = body as { schema?: unknown; schemaType?: unknown } | undefined
  if (typeof b?.schema !== 'string') throw malformed(what, body)
  const schemaType = typeof b.schemaType === 'string' ? (b.schemaType as SchemaType) : 'AVRO'
  return { id, schema: b.schema, schemaType }
}

function toSubjectSchema(body: unknown, subject: string, what: string): SubjectSchema {
  const b = body as { id?: unknown; version?: unknown } | undefined
  if (typeof b?.id !== 'number' || typeof b.version !== 'number') throw malformed(what, body)
  return { ...toStored(body, b.id, what), subject, version: b.version }
}

function checkOptions(options: SchemaRegistryOptions): void {
  let ok = false
  try {
    ok = ['http:', 'https:'].includes(new URL(options.url).protocol)
  } catch {}
  if (!ok)
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `schemaRegistry: url must be an http(s) URL, got ${JSON.stringify(options.url)}`,
    )
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `schemaRegistry: timeoutMs must be > 0, got ${options.timeoutMs}`,
    )
  }
  for (const [k, v] of Object.entries(options.retry ?? {})) {
    if (typeof v !== 'number' || !(v >= 0)) {
      throw new WeirError(
        ErrorCode.CONFIG_INVALID,
        `schemaRegistry: retry.${k} must be a number >= 0, got ${String(v)}`,
      )
    }
  }
}

/**
 * @example
 * const registry = schemaRegistry({ url: 'http://127.0.0.1:8081/apis/ccompat/v7' })
 * const id = await registry.register('orders-value', { type: 'record', name: 'Order', fields: [] })
 */
export function schemaRegistry(options: SchemaRegistryOptions): SchemaRegistry {
  checkOptions(options)
  const url = options.url.replace(/\/+$/, '')
  const http = new RegistryHttp({
    baseUrl: url,
    auth: options.auth,
    timeoutMs: options.timeoutMs ?? 10_000,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    fetch: options.fetch ?? globalThis.fetch,
  })
  const byId = new Map<number, StoredSchema>()
  const idByKey = new Map<string, number>()
  const inflightById = new Map<number, Promise<StoredSchema>>()
  const inflightByKey = new Map<string, Promise<number>>()
  const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`
  const body = (text: string, schemaType: SchemaType) =>
    schemaType === 'AVRO' ? { schema: text } : { schema: text, schemaType }

  return {
    url,

    register(subject, schema, { schemaType = 'AVRO' } = {}) {
      const text = schemaText(schema)
      const key = `register\0${subject}\0${schemaType}\0${text}`
      const known = idByKey.get(key)
      if (known !== undefined) return Promise.resolve(known)
      return shareInflight(inflightByKey, key, async () => {
        const what = `registering a schema under subject "${subject}"`
        const answer = await http.request('POST', `${subjectPath(subject)}/versions`, body(text, schemaType))
        if (answer.status !== 200) throw registryError(answer, what)
        const id = (answer.body as { id?: unknown } | undefined)?.id
        if (typeof id !== 'number') throw malformed(what, answer.body)
        idByKey.set(key, id)
        if (!byId.has(id)) byId.set(id, { id, schema: text, schemaType })
        return id
      })
    },

    async lookup(subject, schema, { schemaType = 'AVRO' } = {}) {
      const text = schemaText(schema)
      const what = `looking up a schema in subject "${subject}"`
      const answer = await http.request('POST', subjectPath(subject), body(text, schemaType))
      if (answer.status !== 200) throw registryError(answer, what)
      return toSubjectSchema(answer.body, subject, what)
    },

    getSchemaById(id) {
      const cached = byId.get(id)
      if (cached) return Promise.resolve(cached)
      return shareInflight(inflightById, id, async () => {
        const what = `schema id ${id}`
        const answer = await http.request('GET', `/schemas/ids/${id}`)
        if (answer.status !== 200) throw registryError(answer, what)
        const stored = toStored(answer.body, id, what)
        byId.set(id, stored)
        return stored
      })
    },

    cachedSchemaById: (id) => byId.get(id),

    async getLatest(subject) {
      const what = `latest schema of subject "${subject}"`
      const answer = await http.request('GET', `${subjectPath(subject)}/versions/latest`)
      if (answer.status !== 200) throw registryError(answer, what)
      return toSubjectSchema(answer.body, subject, what)
    },

    async checkCompatibility(subject, schema, { schemaType = 'AVRO', version = 'latest' } = {}) {
      const what = `compatibility check against subject "${subject}" version ${version}`
      const answer = await http.request(
        'POST',
        `/compatibility${subjectPath(subject)}/versions/${version}?verbose=true`,
        body(schemaText(schema), schemaType),
      )
      if (answer.status !== 200) throw registryError(answer, what)
      const b = answer.body as { is_compatible?: unknown; messages?: unknown; reason?: unknown } | undefined
      if (typeof b?.is_compatible !== 'boolean') throw malformed(what, answer.body)
      const messages = Array.isArray(b.messages)
        ? b.messages.map(String)
        : typeof b.reason === 'string'
          ? [b.reason]
          : []
      return { compatible: b.is_compatible, messages }
    },

    async setCompatibility(level, subject) {
      const path = subject === undefined ? '/config' : `/config/${encodeURIComponent(subject)}`
      const answer = await http.request('PUT', path, { compatibility: level })
      if (answer.status !== 200)
        throw registryError(answer, `setting compatibility ${level} on ${subject ?? 'the registry'}`)
    },

    async ping() {
      try {
        await http.request('GET', '/config', undefined, { ...DEFAULT_RETRY, retries: 0 })
      } catch {}
      return http.status()
    },

    status: () => http.status(),
  }
}

/**
 * Shared helpers for tests against the real broker started by `bash scripts/services.sh up`.
 *
 *   const kafka = testKafka()                       // KAFKA_BROKERS or 127.0.0.1:9092
 *   const topic = await createTopic(t, { partitions: 3 })   // unique name, deleted after the test
 */
import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import {
  type KafkaOptions,
  type KafkaTransport,
  kafkaTransport,
} from '../../../src/connectors/kafka/index.ts'
import type { RawRecord } from '../../../src/core/record.ts'

/** Brokers from `KAFKA_BROKERS` (comma-separated), default the local PLAINTEXT listener. */
export function kafkaBrokers(): string[] {
  const env = process.env.KAFKA_BROKERS?.trim()
  return env
    ? env
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== '')
    : ['127.0.0.1:9092']
}

/** The SASL_PLAINTEXT listener of the local broker (PLAIN and SCRAM, admin/admin). */
export function kafkaSaslBrokers(): string[] {
  const env = process.env.KAFKA_SASL_BROKERS?.trim()
  return env ? env.split(',').map((b) => b.trim()) : ['127.0.0.1:9094']
}

export function testKafka(overrides: Partial<KafkaOptions> = {}): KafkaTransport {
  return kafkaTransport({ brokers: kafkaBrokers(), clientId: 'weir-test', ...overrides })
}

/** A name no other test (or earlier run) uses: `weir-test-<label>-<random>`. */
export function uniqueName(label = 'topic'): string {
  return `weir-test-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export interface CreateTopicOptions {
  readonly name?: string
  readonly partitions?: number
  readonly config?: Record<string, string>
  readonly kafka?: KafkaTransport
}

/** Creates a uniquely named topic and deletes it when the test (or suite) `t` ends. */
export async function createTopic(
  t: Pick<TestContext, 'after'> | undefined,
  options: CreateTopicOptions = {},
): Promise<string> {
  const kafka = options.kafka ?? testKafka()
  const name = options.name ?? uniqueName()
  const admin = kafka.admin()
  try {
    await admin.ensureTopics([
      {
        name,
        partitions: options.partitions ?? 1,
        replicationFactor: 1,
        ...(options.config ? { config: options.config } : {}),
      },
    ])
  } finally {
    await admin.close()
  }
  t?.after(() => deleteTopics([name], kafka))
  return name
}

export async function deleteTopics(
  names: readonly string[],
  kafka: KafkaTransport = testKafka(),
): Promise<void> {
  const admin = kafka.admin()
  try {
    await admin.deleteTopics(names)
  } finally {
    await admin.close()
  }
}

/** Is the broker reachable? Lets a suite skip with a clear reason instead of timing out. */
export async function kafkaAvailable(kafka: KafkaTransport = testKafka()): Promise<boolean> {
  const admin = kafka.admin()
  try {
    await admin.listTopics()
    return true
  } catch {
    return false
  } finally {
    await admin.close()
  }
}

/** Pulls batches until `count` records arrived or `timeoutMs` passed; returns what arrived. */
export async function collect(
  batches: AsyncIterable<readonly RawRecord[]>,
  count: number,
  timeoutMs = 20_000,
): Promise<RawRecord[]> {
  const out: RawRecord[] = []
  const it = batches[Symbol.asyncIterator]()
  const deadline = Date.now() + timeoutMs
  while (out.length < count) {
    const left = deadline - Date.now()
    if (left <= 0) break
    let timer: NodeJS.Timeout | undefined
    const next = await Promise.race([
      it.next(),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), left)
      }),
    ])
    clearTimeout(timer)
    if (next === 'timeout' || next.done) break
    out.push(...next.value)
  }
  return out
}

export interface KafkaProxy {
  /** Brokers to give a client so that all its traffic goes through the proxy. */
  readonly brokers: string[]
  /** Drops every connection and refuses new ones: to the client the broker is gone. */
  cut(): Promise<void>
  /** Accepts connections again. */
  restore(): Promise<void>
}

/**
 * A cuttable TCP proxy in front of the broker's PROXIED listener (127.0.0.1:9095, advertised as 9096,
 * see scripts/services.sh), so a test can take "the broker" away without stopping the shared broker.
 * Closed when `t` ends. Only one can run at a time (the advertised port is fixed).
 */
export async function kafkaProxy(
  t: Pick<TestContext, 'after'>,
  listenPort = 9096,
  target = 9095,
): Promise<KafkaProxy> {
  const { createServer, connect } = await import('node:net')
  const sockets = new Set<import('node:net').Socket>()
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: target })
    sockets.add(client)
    sockets.add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(listenPort, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      sockets.clear()
      if (!server.listening) resolve()
      else server.close(() => resolve())
    })
  await listen()
  t.after(close)
  return {
    brokers: [`127.0.0.1:${listenPort}`],
    cut: close,
    restore: listen,
  }
}

/**
 * Helpers for app-level tests against the real broker: produce generated input with a `test-id`
 * header per record, run an app in-process or as a child process, and read whole topics back.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { after } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { AppGenerator, WeirApp } from '../../../src/apps/app.ts'
import { kafkaTransport } from '../../../src/connectors/kafka/index.ts'
import { createLogger, silentLogger } from '../../../src/log/logger.ts'
import { type RunningService, startService } from '../../../src/service/service.ts'
import { SCHEMA_VALIDATION_ERRORS_TOPIC, SOURCE_TOPICS, VALIDATED_TOPICS } from '../../../src/apps/millionx/domain/index.ts'
import type { KafkaTransport } from '../../../src/connectors/kafka/index.ts'
import type { RawRecord } from '../../../src/core/record.ts'
import { encodeValue } from '../../../src/cli/feed.ts'
import { deleteTopics, kafkaBrokers, testKafka, uniqueName } from './kafka.ts'
import { withMemberId } from './member-id.ts'
import type { Cleanup } from './services.ts'

export const CLI = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url))

/** Writes `count` generated records, each with header `test-id` = its sequence number. */
export async function produceGenerated(
  kafka: KafkaTransport,
  generator: AppGenerator,
  topic: string,
  count: number,
): Promise<Map<string, { key: string | null; value: unknown }>> {
  const sink = kafka.sink({ clientId: 'weir-test-producer' })
  await sink.open()
  const sent = new Map<string, { key: string | null; value: unknown }>()
  try {
    for (let i = 0; i < count; i++) {
      const r = generator.next()
      const id = String(i)
      sent.set(id, { key: r.key, value: r.value })
      sink.add({
        topic,
        key: r.key === null ? null : Buffer.from(r.key),
        value: encodeValue(r.value),
        headers: { 'test-id': Buffer.from(id) },
        timestamp: r.timestamp,
      })
      if (i % 5000 === 4999) await sink.flush()
    }
    await sink.flush()
  } finally {
    await sink.close()
  }
  return sent
}

/** Every record of a topic, read outside any group up to the end offsets of now. */
export async function readAll(kafka: KafkaTransport, topic: string): Promise<RawRecord[]> {
  const admin = kafka.admin()
  let ends: Map<string, number>
  try {
    ends = await admin.endOffsets([topic])
  } finally {
    await admin.close()
  }
  const out: RawRecord[] = []
  for (const key of ends.keys()) {
    const partition = Number(key.slice(key.lastIndexOf(':') + 1))
    for await (const batch of kafka.readPartition({ topic, partition })) out.push(...batch)
  }
  return out
}

/** Sum of end offsets over the topics' partitions. */
export async function totalEnd(kafka: KafkaTransport, topics: readonly string[]): Promise<number> {
  const admin = kafka.admin()
  try {
    const ends = await admin.endOffsets(topics)
    let n = 0
    for (const v of ends.values()) n += v
    return n
  } finally {
    await admin.close()
  }
}

export async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

export function testId(r: RawRecord): string {
  const h = r.headers['test-id']
  if (h === undefined) throw new Error(`record ${r.topic}:${r.partition}@${r.offset} has no test-id header`)
  return h.toString()
}

/** Children still running; killed when the test file ends or its process exits, whatever failed. */
const liveChildren = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL')
})
after(async () => {
  await Promise.all([...liveChildren].map((child) => killAndWait(child)))
})

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = exited(child)
  child.kill('SIGKILL')
  await gone
}

export interface AppProcess extends ChildProcess {
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string
  /** The last `chars` of it, for failure messages. */
  tail(chars?: number): string
}

/**
 * Runs `weir run <app>` as a child process with the given env, as a static group member unless the env
 * says otherwise (see member-id.ts). `cleanup` (testCleanup(t)) kills it when the test ends; it is
 * killed at the end of the file or on exit in any case.
 */
export function spawnApp(app: string, env: Record<string, string>, cleanup?: Cleanup): AppProcess {
  const member = withMemberId(app, env)
  const child = spawn(process.execPath, [CLI, 'run', app], {
    env: { ...process.env, LOG_LEVEL: 'info', ...member.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  liveChildren.add(child)
  child.once('exit', () => {
    liveChildren.delete(child)
    member.release()
  })
  cleanup?.(() => killAndWait(child))
  const chunks: string[] = []
  child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()))
  child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString()))
  const output = () => chunks.join('')
  return Object.assign(child, { output, tail: (chars = 4000) => output().slice(-chars) })
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

export interface TrafficTestEnv extends Record<string, string> {
  KAFKA_BROKERS: string
  GROUP_ID: string
  CLIENT_ID: string
  INPUT_TOPIC: string
  OUTPUT_TOPIC: string
  DLQ_TOPIC: string
}

/**
 * Env for the traffic app (seed 001's variables) on topics and a group of its own, against the test
 * broker, with /health on a free port; `extra` adds or overrides variables.
 */
export function trafficEnv(label: string, extra: Readonly<Record<string, string>> = {}): TrafficTestEnv {
  const base = uniqueName(label)
  return {
    KAFKA_BROKERS: kafkaBrokers().join(','),
    GROUP_ID: `${base}-group`,
    CLIENT_ID: `${base}-client`,
    INPUT_TOPIC: `${base}-raw`,
    OUTPUT_TOPIC: `${base}-events`,
    DLQ_TOPIC: `${base}-dlq`,
    INPUT_PARTITIONS: '5',
    HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    ...extra,
  }
}

/**
 * The millionx app's topics under a prefix of their own (its TOPIC_PREFIX), and the group; the topics
 * and the group are deleted when the suite ends.
 */
export function millionxTopics(label: string) {
  const prefix = `${uniqueName(label)}.`
  const topics = {
    prefix,
    sources: SOURCE_TOPICS.map((t) => prefix + t),
    validated: SOURCE_TOPICS.map((t) => prefix + VALIDATED_TOPICS[t]),
    dlq: prefix + SCHEMA_VALIDATION_ERRORS_TOPIC,
    group: `${prefix}group`,
  }
  after(async () => {
    await deleteTopics([...topics.sources, ...topics.validated, topics.dlq])
    const admin = testKafka().admin()
    await admin.deleteGroups([topics.group])
    await admin.close()
  })
  return topics
}

/**
 * Runs a bundled app in this process as `weir run` would (its Kafka settings, SASL/TLS included), with
 * /health on a free port and no signal handlers; logs only with WEIR_TEST_LOGS set.
 */
export function startApp(app: WeirApp, env: Readonly<Record<string, string>>): Promise<RunningService> {
  return startService(app, {
    env,
    logger: process.env.WEIR_TEST_LOGS ? createLogger({ level: 'info' }) : silentLogger,
    handleSignals: false,
    http: { host: '127.0.0.1', port: 0 },
    transport: (k) => kafkaTransport({ brokers: [...k.brokers], clientId: k.clientId, sasl: k.sasl, tls: k.tls }),
  })
}

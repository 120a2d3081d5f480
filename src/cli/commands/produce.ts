import type { AppInstance, WeirApp } from '../../apps/app.ts'
import { loadApp } from '../../apps/index.ts'
import type { Admin } from '../../connectors/contract.ts'
import { kafkaTransport } from '../../connectors/kafka/index.ts'
import { systemClock } from '../../core/clock.ts'
import { ErrorCode, toWeirError, WeirError } from '../../core/errors.ts'
import { createLogger, parseLogLevel } from '../../log/logger.ts'
import { createMetrics } from '../../ops/index.ts'
import { type CommandSpec, numberFlag, type ParsedArgs } from '../args.ts'
import { appEnvHelp } from './describe.ts'
import { feed } from '../feed.ts'

/**
 * `weir produce <app>`: writes the app's generated test data to the Kafka its env vars name, in the
 * app's configured format (e.g. Avro through the schema registry for `VALUE_FORMAT=avro traffic`).
 * Extra flags go to the app's generator (e.g. `--drivers 100000` for rideshare). Each topic the
 * generator writes to is created before its first record if it does not exist (with the partitions
 * the app's own run would create it with): a producer would otherwise wait for it forever.
 */
export const spec: CommandSpec = {
  usage: `usage: weir produce <app> [--count 10000] [--rate N] [--invalid-share 0.05] [--seed N] [--<generator option> value]

Writes generated test data for an app to the Kafka its env vars name (its topics, its value format).
--count 0 produces until Ctrl-C. --rate is records/s; by default a finite --count goes as fast as the
broker takes it and an endless run (--count 0) at 1,000/s; 0 means unthrottled. Other flags go to the
app's generator, each with a value (e.g. rideshare: --drivers 100000).`,
  flags: { count: 'value', rate: 'value', 'invalid-share': 'value', seed: 'value' },
  passThroughValues: true,
}

export const helpFor = (positional: readonly string[]) => appEnvHelp(positional[0])

export default async function produce({ positional, flags }: ParsedArgs): Promise<number> {
  const app = await loadApp(positional[0])
  const count = numberFlag(flags, 'count', 10_000, { min: 0 })
  const rate = numberFlag(flags, 'rate', count === 0 ? 1000 : 0, { min: 0 })
  const seed = numberFlag(flags, 'seed', Date.now() % 1_000_000, { min: 0 })
  const invalidShare = numberFlag(flags, 'invalid-share', 0.05, { min: 0, max: 1 })
  const generatorOptions: Record<string, unknown> = { seed, invalidShare }
  for (const [k, v] of Object.entries(flags)) {
    if (!['rate', 'count', 'seed', 'invalid-share'].includes(k))
      generatorOptions[k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] =
        v === true ? true : Number.isNaN(Number(v)) ? v : Number(v)
  }
  const logger = createLogger({ level: parseLogLevel(process.env.LOG_LEVEL) ?? 'warn' })
  const instance = await app.create({
    env: process.env,
    logger,
    metrics: createMetrics({ processMetrics: false }),
    clock: systemClock,
  })
  const transport = kafkaTransport({
    ...instance.kafka,
    brokers: [...instance.kafka.brokers],
    clientId: `weir-produce-${app.name}`,
    logger,
  })
  const admin = transport.admin()
  const sink = transport.sink({ clientId: `weir-produce-${app.name}` })
  try {
    const generator = instance.generator?.(generatorOptions) ?? app.generator?.(generatorOptions)
    if (!generator) throw new WeirError(ErrorCode.CONFIG_INVALID, `app ${app.name} has no generator`)
    await sink.open()
    const abort = new AbortController()
    process.once('SIGINT', () => abort.abort())
    process.once('SIGTERM', () => abort.abort())
    process.stderr.write(
      `producing ${count ? count.toLocaleString('en-US') : 'endless'} records for ${app.name} ${rate ? `at ${rate.toLocaleString('en-US')} records/s (--rate)` : 'as fast as the broker takes them (--rate 0)'}\n`,
    )
    const started = performance.now()
    const tty = process.stderr.isTTY
    const sent = await feed(generator, sink, {
      rate,
      count,
      signal: abort.signal,
      beforeFirst: (topic) => ensureTopic(admin, topic, topicSpec(app, instance, topic)),
      onProgress: (n) => {
        const secs = (performance.now() - started) / 1000
        const line = `produced ${n.toLocaleString('en-US')}${count ? ` / ${count.toLocaleString('en-US')}` : ''} (${Math.round(n / secs).toLocaleString('en-US')}/s)`
        process.stderr.write(tty ? `\r${line}` : `${line}\n`)
      },
    })
    const secs = (performance.now() - started) / 1000
    process.stderr.write(
      `${tty ? '\n' : ''}done: ${sent} records to ${app.name}'s input topics in ${secs.toFixed(1)} s\n`,
    )
    return 0
  } finally {
    await sink.close().catch(() => {})
    await admin.close().catch(() => {})
    await instance.close?.()
  }
}

/** Partitions and replication as `weir run <app>` would create the topic: its configured ones, else its declared inputs'. */
function topicSpec(
  app: WeirApp,
  instance: AppInstance,
  topic: string,
): { partitions: number; replicationFactor: number } {
  const declared = app.inputTopics?.find((t) => topic === t.name || topic.endsWith(t.name))
  return {
    partitions: instance.run.topics?.partitions ?? declared?.partitions ?? 1,
    replicationFactor: instance.run.topics?.replicationFactor ?? 1,
  }
}

async function ensureTopic(
  admin: Admin,
  topic: string,
  spec: { partitions: number; replicationFactor: number },
): Promise<void> {
  try {
    await admin.ensureTopics([{ name: topic, ...spec }])
  } catch (err) {
    const e = toWeirError(err, ErrorCode.SINK_UNAVAILABLE)
    throw new WeirError(
      e.code,
      `topic "${topic}" does not exist and could not be created (${spec.partitions} partition(s), replication ${spec.replicationFactor}): ${e.message}`,
      { cause: err, retriable: false },
    )
  }
}

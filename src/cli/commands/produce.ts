import { loadApp } from '../../apps/index.ts'
import { kafkaTransport } from '../../connectors/kafka/index.ts'
import { systemClock } from '../../core/clock.ts'
import { createLogger, parseLogLevel } from '../../log/logger.ts'
import { createMetrics } from '../../ops/index.ts'
import { numberFlag, type parseArgs } from '../args.ts'
import { feed } from '../feed.ts'

/**
 * `weir produce <app>`: writes the app's generated test data to the Kafka its env vars name.
 * Extra flags go to the app's generator (e.g. `--drivers 100000` for rideshare).
 */
export default async function produce({ positional, flags }: ReturnType<typeof parseArgs>): Promise<number> {
  const app = await loadApp(positional[0])
  if (!app.generator) throw new Error(`app ${app.name} has no generator`)
  const rate = numberFlag(flags, 'rate', 1000, { min: 0 })
  const count = numberFlag(flags, 'count', 10_000, { min: 0 })
  const seed = numberFlag(flags, 'seed', Date.now() % 1_000_000, { min: 0 })
  const invalidShare = numberFlag(flags, 'invalid-share', 0.05, { min: 0, max: 1 })
  const logger = createLogger({ level: parseLogLevel(process.env.LOG_LEVEL) ?? 'warn' })
  const instance = await app.create({ env: process.env, logger, metrics: createMetrics({ processMetrics: false }), clock: systemClock })
  await instance.close?.()
  const transport = kafkaTransport({ ...instance.kafka, brokers: [...instance.kafka.brokers], clientId: `weir-produce-${app.name}`, logger })
  const admin = transport.admin()
  await admin.ensureTopics((app.inputTopics ?? []).map((t) => ({ name: t.name, partitions: t.partitions, replicationFactor: 1 })))
  await admin.close()

  const generatorOptions: Record<string, unknown> = { seed, invalidShare }
  for (const [k, v] of Object.entries(flags)) {
    if (!['rate', 'count', 'seed', 'invalid-share'].includes(k)) generatorOptions[k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = v === true ? true : Number.isNaN(Number(v)) ? v : Number(v)
  }
  const sink = transport.sink({ clientId: `weir-produce-${app.name}` })
  await sink.open()
  const abort = new AbortController()
  process.once('SIGINT', () => abort.abort())
  process.once('SIGTERM', () => abort.abort())
  const started = performance.now()
  const tty = process.stderr.isTTY
  const sent = await feed(app.generator(generatorOptions), sink, {
    rate,
    count,
    signal: abort.signal,
    onProgress: (n) => {
      const secs = (performance.now() - started) / 1000
      const line = `produced ${n.toLocaleString('en-US')}${count ? ` / ${count.toLocaleString('en-US')}` : ''} (${Math.round(n / secs).toLocaleString('en-US')}/s)`
      process.stderr.write(tty ? `\r${line}` : `${line}\n`)
    },
  })
  await sink.close()
  const secs = (performance.now() - started) / 1000
  process.stderr.write(`${tty ? '\n' : ''}done: ${sent} records to ${app.name}'s input topics in ${secs.toFixed(1)} s\n`)
  return 0
}

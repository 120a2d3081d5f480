import { loadApp } from '../../apps/index.ts'
import { MemoryBroker, memoryTransport } from '../../connectors/memory/index.ts'
import { createLogger, parseLogLevel } from '../../log/logger.ts'
import { startService } from '../../service/service.ts'
import { type CommandSpec, numberFlag, type ParsedArgs, stringFlag } from '../args.ts'
import { feed } from '../feed.ts'

/**
 * `weir demo`: the METR-LA traffic pipeline on the in-process transport, fed by the built-in generator
 * (with a share of malformed records), serving /health, /metrics and the dashboard. No services needed;
 * the same pipeline code runs unchanged against Kafka with `weir run traffic`.
 */
export const spec: CommandSpec = {
  usage: `usage: weir demo [--port 8080] [--rate 2000] [--duration 0] [--invalid-share 0.05] [--app traffic]

Runs a bundled app (default: the METR-LA traffic pipeline) on the in-process transport, fed by its
generator with a share of malformed records; no Kafka or other service needed. Serves /health,
/metrics and the dashboard on --port. --duration 0 runs until Ctrl-C.`,
  flags: { port: 'value', rate: 'value', duration: 'value', 'invalid-share': 'value', app: 'value' },
}

export default async function demo({ flags }: ParsedArgs): Promise<number> {
  const appName = stringFlag(flags, 'app') ?? 'traffic'
  const rate = numberFlag(flags, 'rate', 2000, { min: 1 })
  const duration = numberFlag(flags, 'duration', 0, { min: 0 })
  const port = numberFlag(flags, 'port', 8080, { min: 0, max: 65535 })
  const invalidShare = numberFlag(flags, 'invalid-share', 0.05, { min: 0, max: 1 })
  const app = await loadApp(appName)
  if (!app.generator) throw new Error(`app ${appName} has no generator`)

  // A short retention keeps the demo's memory flat: it runs for hours, and every retained record pins
  // its value's Buffer pool slab (10,000 per partition held ~160k records and grew RSS past 500 MB).
  const broker = new MemoryBroker({ retention: 1_000 })
  for (const t of app.inputTopics ?? []) broker.createTopic(t.name, t.partitions)
  // Logs go to stderr at ERROR unless LOG_LEVEL says otherwise: the demo's bad records are on purpose,
  // and the summary line counts them.
  const logger = createLogger({ level: parseLogLevel(process.env.LOG_LEVEL) ?? 'error' })
  const service = await startService(app, {
    transport: () => memoryTransport(broker),
    env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development' },
    logger,
    http: { host: '127.0.0.1', port, portName: '--port' },
    handleSignals: false,
  }).catch((err: unknown) => {
    // The port is bound before anything runs; a start that fails leaves nothing worth waiting for.
    process.stderr.write(`weir demo: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  })
  const url = service.address?.url ?? '(no http)'
  process.stdout.write(
    `weir demo: ${app.name} on the in-process transport at ${rate} records/s — dashboard ${url}/  (Ctrl-C to stop)\n`,
  )

  const producer = memoryTransport(broker).sink({ clientId: 'demo-generator' })
  const abort = new AbortController()
  const feeding = feed(app.generator({ seed: 42, invalidShare }), producer, {
    rate,
    count: 0,
    signal: abort.signal,
  })

  const m = service.running.task.metrics
  let last = { t: performance.now(), consumed: 0 }
  const summary = setInterval(() => {
    const now = performance.now()
    const consumed = m.consumed.total()
    const perSec = ((consumed - last.consumed) * 1000) / (now - last.t)
    last = { t: now, consumed }
    const lag = [...service.running.lag().values()].reduce((a, b) => a + b, 0)
    const p99 = m.recordLatency.summary().p99 * 1000
    const mem = process.memoryUsage()
    const rss = mem.rss / 1e6
    const line =
      `consumed ${consumed.toLocaleString('en-US')} (${Math.round(perSec).toLocaleString('en-US')}/s) · ` +
      `produced ${m.produced.total().toLocaleString('en-US')} · dead-lettered ${m.deadLettered.total().toLocaleString('en-US')} · ` +
      `lag ${lag} · p99 ${p99.toFixed(2)} ms · rss ${rss.toFixed(0)} MB (heap ${(mem.heapUsed / 1e6).toFixed(0)}) · ${Object.values(service.components()).every((c) => c.connected) ? 'healthy' : 'degraded'}`
    process.stdout.write(process.stdout.isTTY ? `\r${line.padEnd(130)}` : `${line}\n`)
  }, 1000)

  const stop = async (reason: string) => {
    clearInterval(summary)
    abort.abort()
    await feeding
    await service.stop(reason)
    process.stdout.write(`\nweir demo: stopped (${reason})\n`)
  }
  if (duration > 0) {
    await new Promise((r) => setTimeout(r, duration * 1000))
    await stop('duration reached')
    return 0
  }
  await new Promise<void>((resolve) => {
    const onSignal = () => void stop('signal').then(resolve)
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  })
  return 0
}

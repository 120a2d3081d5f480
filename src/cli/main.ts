#!/usr/bin/env node
import { WeirError } from '../core/errors.ts'
import { type CommandSpec, type ParsedArgs, parseArgs, wantsHelp } from './args.ts'

const USAGE = `weir — a stream processor for Apache Kafka

Usage:
  weir demo [--port 8080] [--rate 2000] [--duration 0]     run the traffic pipeline on the in-process transport
  weir run <app> [--stage s]                              run a bundled app against Kafka (config from env vars; --stage: some of its stages)
  weir produce <app> [--rate N] [--count N] [--invalid-share 0.05] [--seed N]
                                                          write generated test data for an app to Kafka
  weir describe <app>                                     print the app's pipeline graph and env vars
  weir lag <group> [--topics a,b]                         consumer lag per partition
  weir dlq inspect <topic> [--sample 10] [--json]         summary of a dead-letter topic: reasons, sources, a sample
  weir dlq replay <topic> [--to <topic>] [--filter CODE[,CODE]] [--group <g>] [--dry-run] [--json]
                                                          re-inject dead letters' original records (at least once, resumable)
  weir apps                                               list the bundled apps
  weir search millionx "<query>" [--limit 5] [--collection SocialPost|MarketOrder] [--json]
                                                          nearest posts/orders in the embedding service's vector store
  weir query streampulse <top-content|region-health|alerts> [--last 10m] [--limit 10] [--json]
                                                          StreamPulse's real-time queries against its PostgreSQL tables

Environment: KAFKA_BROKERS / KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092), LOG_LEVEL (DEBUG, INFO, WARN, ERROR),
and each app's own variables (weir describe <app>).`

/** A command module: what it accepts (checked before it runs) and what it does. */
interface CommandModule {
  readonly spec: CommandSpec
  /** Extra help for `weir <command> <app> --help` (the app's variables), printed after the usage. */
  readonly helpFor?: (positional: readonly string[]) => Promise<string>
  default(args: ParsedArgs): Promise<number | undefined>
}

const commands: Record<string, () => Promise<CommandModule>> = {
  demo: () => import('./commands/demo.ts'),
  run: () => import('./commands/run.ts'),
  produce: () => import('./commands/produce.ts'),
  describe: () => import('./commands/describe.ts'),
  lag: () => import('./commands/lag.ts'),
  dlq: () => import('./commands/dlq.ts'),
  apps: () => import('./commands/apps.ts'),
  search: () => import('./commands/search.ts'),
  query: () => import('./commands/query.ts'),
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`)
    return command === undefined ? 1 : 0
  }
  const load = commands[command]
  if (load === undefined) {
    process.stderr.write(`weir: unknown command "${command}"\n\n${USAGE}\n`)
    return 2
  }
  const mod = await load()
  if (wantsHelp(rest)) {
    // Help never connects to anything: it prints and exits.
    const positional = rest.filter((a) => !a.startsWith('-'))
    const extra = mod.helpFor ? await mod.helpFor(positional) : ''
    process.stdout.write(`${mod.spec.usage}\n${extra}`)
    return 0
  }
  return (await mod.default(parseArgs(rest, mod.spec, `weir ${command}`))) ?? 0
}

// `weir dlq inspect … | head`: a reader that stops early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw err
})

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof WeirError) process.stderr.write(`weir: ${err.message}\n`)
    else process.stderr.write(`weir: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exitCode = 1
  },
)

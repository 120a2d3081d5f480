import { kafkaTransport } from '../../connectors/kafka/index.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import {
  formatInspectReport,
  inspectDeadLetters,
  progressReporter,
  replayDeadLetters,
  type ReplayResult,
} from '../../dlq/index.ts'
import { createLogger, parseLogLevel } from '../../log/logger.ts'
import { booleanFlag, type CommandSpec, numberFlag, type ParsedArgs, stringFlag } from '../args.ts'
import { brokersFrom } from './lag.ts'

export const spec: CommandSpec = {
  usage: `usage:
  weir dlq inspect <topic> [--sample 10] [--json] [--brokers host:port]
      dead letters summarised by error code, stage and source, with a sample
  weir dlq replay <topic> [--to <topic>] [--filter CODE[,CODE]] [--group <group>] [--dry-run] [--json] [--brokers host:port]
      re-inject the original records (at least once, resumable; --to overrides each record's source topic)`,
  flags: { sample: 'value', json: 'boolean', to: 'value', filter: 'value', group: 'value', 'dry-run': 'boolean', brokers: 'value' },
}

/**
 * `weir dlq inspect|replay <topic>`: summarise a dead-letter topic, or re-inject its original records
 * (see src/dlq for what each does and guarantees).
 */
export default async function dlq({ positional, flags }: ParsedArgs): Promise<number> {
  const json = booleanFlag(flags, 'json')
  const dryRun = booleanFlag(flags, 'dry-run')
  const [sub, topic] = positional
  if ((sub !== 'inspect' && sub !== 'replay') || !topic) throw new WeirError(ErrorCode.CONFIG_INVALID, spec.usage)
  const logger = createLogger({ level: parseLogLevel(process.env.LOG_LEVEL) ?? 'warn' })
  const transport = kafkaTransport({ brokers: brokersFrom(flags), clientId: 'weir-dlq', logger })

  if (sub === 'inspect') {
    const report = await inspectDeadLetters(transport, topic, {
      sample: numberFlag(flags, 'sample', 10, { min: 0, max: 10_000 }),
    })
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(report))
    return 0
  }

  const abort = new AbortController()
  const onSignal = () => {
    process.stderr.write(
      '\nstopping after the batch in hand (it is written and committed; rerun to continue)\n',
    )
    abort.abort()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const bar = progressReporter({ stream: process.stderr })
  const codes = (stringFlag(flags, 'filter') ?? '').split(',').filter((c) => c.trim() !== '')
  let result: ReplayResult
  try {
    result = await replayDeadLetters({
      transport,
      topic,
      to: stringFlag(flags, 'to'),
      codes,
      groupId: stringFlag(flags, 'group'),
      dryRun,
      signal: abort.signal,
      onProgress: bar.update,
      logger,
    })
  } finally {
    bar.done()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result))
  return result.outcome === 'aborted' ? 130 : 0
}

function formatResult(r: ReplayResult): string {
  const n = (x: number) => x.toLocaleString('en-US')
  const what = r.dryRun ? 'would replay' : 'replayed'
  if (r.outcome === 'nothing-to-do')
    return `nothing to replay: group ${r.groupId} is at the end of ${r.topic}\n`
  const lines = [
    `${r.outcome === 'aborted' ? 'stopped early: ' : ''}${what} ${n(r.replayed)} record(s) from ${r.topic} in ${(r.elapsedMs / 1000).toFixed(1)} s` +
      ` (skipped by filter ${n(r.skipped)}${r.unroutable ? `, no source topic ${n(r.unroutable)}` : ''})`,
  ]
  for (const [topic, count] of Object.entries(r.byTarget)) lines.push(`  → ${topic}: ${n(count)}`)
  if (!r.dryRun)
    lines.push(
      `group ${r.groupId} committed at ${Object.entries(r.positions)
        .map(([p, o]) => `${p}@${o}`)
        .join(', ')}`,
    )
  return `${lines.join('\n')}\n`
}

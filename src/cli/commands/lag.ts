import { kafkaTransport } from '../../connectors/kafka/index.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import { type CommandSpec, type ParsedArgs, stringFlag } from '../args.ts'

export const spec: CommandSpec = {
  usage: `usage: weir lag <group> [--topics a,b] [--brokers host:port]

Committed offset, end offset and lag per partition of a consumer group (all topics it committed
to, unless --topics). Brokers: --brokers, else KAFKA_BROKERS / KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092.`,
  flags: { topics: 'value', brokers: 'value' },
}

/** Kafka brokers from the usual env vars (seed 001 and seed 000 spellings), or --brokers. */
export function brokersFrom(flags: Record<string, string | true>): string[] {
  const text = stringFlag(flags, 'brokers') ?? process.env.KAFKA_BROKERS ?? process.env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:9092'
  return text.split(',').map((s) => s.trim()).filter(Boolean)
}

/** `weir lag <group> [--topics a,b]`: committed offset, end offset and lag per partition. */
export default async function lag({ positional, flags }: ParsedArgs): Promise<number> {
  const group = positional[0]
  if (!group) throw new WeirError(ErrorCode.CONFIG_INVALID, spec.usage)
  const admin = kafkaTransport({ brokers: brokersFrom(flags) }).admin()
  try {
    let topics = (stringFlag(flags, 'topics') ?? '').split(',').filter(Boolean)
    if (topics.length === 0) {
      const all = await admin.listTopics()
      const committedAll = await admin.committedOffsets(group, all)
      topics = [...new Set([...committedAll.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))))]
    }
    if (topics.length === 0) {
      process.stdout.write(`group ${group} has no committed offsets\n`)
      return 0
    }
    const [ends, committed] = await Promise.all([admin.endOffsets(topics), admin.committedOffsets(group, topics)])
    const rows = [...ends.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    process.stdout.write(`${'TOPIC:PARTITION'.padEnd(40)} ${'COMMITTED'.padStart(12)} ${'END'.padStart(12)} ${'LAG'.padStart(10)}\n`)
    let total = 0
    for (const key of rows) {
      const end = ends.get(key) ?? 0
      const c = committed.get(key)
      const l = c === undefined ? end : Math.max(0, end - c)
      total += l
      process.stdout.write(`${key.padEnd(40)} ${String(c ?? '-').padStart(12)} ${String(end).padStart(12)} ${String(l).padStart(10)}\n`)
    }
    process.stdout.write(`total lag: ${total}\n`)
    return 0
  } finally {
    await admin.close()
  }
}

import pg from 'pg'
import { loadStreamPulseConfig } from '../../apps/streampulse/config.ts'
import { formatTable, isQueryName, QUERIES, runQuery } from '../../apps/streampulse/queries.ts'
import { parseDuration } from '../../config/index.ts'
import { ErrorCode, WeirError } from '../../core/errors.ts'
import { booleanFlag, type CommandSpec, numberFlag, type ParsedArgs, stringFlag } from '../args.ts'

const USAGE = `usage: weir query streampulse <${Object.keys(QUERIES).join('|')}> [--last 10m] [--limit 10] [--json]`

export const spec: CommandSpec = {
  usage: `${USAGE}

StreamPulse's real-time queries against its PostgreSQL tables (the app's PG_* variables): the top
content, region health and alerts over the last --last (e.g. 10m, 1h).`,
  flags: { last: 'value', limit: 'value', json: 'boolean' },
}

/**
 * `weir query streampulse top-content --last 10m`: the seed's real-time queries against the app's
 * PostgreSQL (the same PG_* variables as `weir run streampulse`), so results show without psql.
 */
export default async function query({ positional, flags }: ParsedArgs): Promise<number> {
  const [app, name] = positional
  if (app !== 'streampulse')
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `${app === undefined ? 'no app given' : `no queries for app "${app}"`}; ${USAGE}`,
    )
  if (!isQueryName(name))
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `${name === undefined ? 'no query given' : `unknown query "${name}"`}; ${USAGE}`,
    )
  const lastText = stringFlag(flags, 'last') ?? '10m'
  const last = parseDuration(lastText)
  if (last === undefined || last <= 0)
    throw new WeirError(
      ErrorCode.CONFIG_INVALID,
      `--last: expected a duration like 10m or 1h, got "${lastText}"`,
    )
  const limit = numberFlag(flags, 'limit', 10, { min: 1, max: 100_000 })
  const config = loadStreamPulseConfig(process.env)
  const client = new pg.Client({
    host: config.PG_HOST,
    port: config.PG_PORT,
    database: config.PG_DATABASE,
    user: config.PG_USER,
    password: config.PG_PASSWORD?.reveal(),
    ssl: config.pgSsl,
    connectionTimeoutMillis: 5000,
    application_name: 'weir:query',
  })
  await client.connect()
  try {
    const started = performance.now()
    const { rows, newestWindow } = await runQuery(client, name, { since: new Date(Date.now() - last), limit })
    const ms = performance.now() - started
    if (booleanFlag(flags, 'json')) {
      process.stdout.write(`${JSON.stringify(rows)}\n`)
      return 0
    }
    if (rows.length === 0) {
      const newest =
        newestWindow === undefined
          ? 'the table is empty'
          : `the newest window starts ${newestWindow.toISOString()}`
      process.stdout.write(`no ${name} rows in the last ${lastText} (${newest})\n`)
      return 0
    }
    process.stdout.write(
      `${formatTable(rows)}\n(${rows.length} rows, last ${lastText}, ${ms.toFixed(1)} ms)\n`,
    )
    return 0
  } finally {
    await client.end()
  }
}

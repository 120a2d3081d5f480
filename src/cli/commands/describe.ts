import { loadApp } from '../../apps/index.ts'
import { silentLogger } from '../../log/logger.ts'
import { createMetrics } from '../../ops/index.ts'
import { systemClock } from '../../core/clock.ts'
import { serviceEnvDocs } from '../../service/service.ts'
import type { CommandSpec, ParsedArgs } from '../args.ts'

export const spec: CommandSpec = {
  usage: `usage: weir describe <app>

Prints the app's environment variables (with defaults) and its pipeline graph. Connects to nothing.`,
  flags: {},
}

/** The app's description and env vars, as `weir describe` and `weir run <app> --help` print them. */
export async function appEnvHelp(name: string | undefined): Promise<string> {
  if (name === undefined) return ''
  const app = await loadApp(name)
  const vars = [...app.env, ...serviceEnvDocs]
  const width = Math.max(...vars.map((v) => v.name.length)) + 2
  const lines = vars.map((v) => `  ${v.name.padEnd(width)} ${(v.default ?? '').padEnd(24)} ${v.description}`)
  return `\n${app.name}: ${app.description}\n\nEnvironment variables:\n${lines.join('\n')}\n`
}

export const helpFor = (positional: readonly string[]) => appEnvHelp(positional[0])

export default async function describe({ positional }: ParsedArgs): Promise<number> {
  const app = await loadApp(positional[0])
  process.stdout.write((await appEnvHelp(app.name)).slice(1))
  const instance = await app.create({ env: process.env, logger: silentLogger, metrics: createMetrics(), clock: systemClock })
  process.stdout.write(`\nPipeline graph:\n${instance.pipeline.topology.describe().replace(/^/gm, '  ')}\n`)
  await instance.close?.()
  return 0
}

import type { AppEnvVar } from '../../apps/app.ts'
import { loadApp } from '../../apps/index.ts'
import { systemClock } from '../../core/clock.ts'
import { silentLogger } from '../../log/logger.ts'
import { createMetrics } from '../../ops/index.ts'
import { serviceEnvDocs } from '../../service/service.ts'
import type { CommandSpec, ParsedArgs } from '../args.ts'

export const spec: CommandSpec = {
  usage: `usage: weir describe <app>

Prints the app's environment variables (with defaults, and the seed system's name where it differs)
and its pipeline graph. Connects to nothing.`,
  flags: {},
}

/** The app's description and env vars, as `weir describe` and `weir run <app> --help` print them. */
export async function appEnvHelp(name: string | undefined): Promise<string> {
  if (name === undefined) return ''
  const app = await loadApp(name)
  return `\n${app.name}: ${app.description}\n\nEnvironment variables:\n${envTable([...app.env, ...serviceEnvDocs])}`
}

export const helpFor = (positional: readonly string[]) => appEnvHelp(positional[0])

/**
 * `weir describe <app>`: every variable the app reads (its own, then those every app takes) with its
 * default, the seed system's name for it where that differs, and the pipeline graph.
 */
export default async function describe({ positional }: ParsedArgs): Promise<number> {
  const app = await loadApp(positional[0])
  process.stdout.write((await appEnvHelp(app.name)).slice(1))
  const instance = await app.create({
    env: process.env,
    logger: silentLogger,
    metrics: createMetrics(),
    clock: systemClock,
  })
  process.stdout.write(`\nPipeline graph:\n${instance.pipeline.topology.describe().replace(/^/gm, '  ')}\n`)
  await instance.close?.()
  return 0
}

/** One line per variable (the app's own entry wins over a shared one of the same name). */
export function envTable(vars: readonly AppEnvVar[]): string {
  const seen = new Set<string>()
  const unique = vars.filter((v) => !seen.has(v.name) && seen.add(v.name))
  const width = Math.max(...unique.map((v) => v.name.length)) + 2
  return unique
    .map((v) => {
      const seed = v.seedName === undefined ? '' : ` (seed: ${v.seedName})`
      return `  ${v.name.padEnd(width)} ${(v.default ?? '').padEnd(24)} ${v.description}${seed}\n`
    })
    .join('')
}

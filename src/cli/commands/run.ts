import { loadApp } from '../../apps/index.ts'
import { WeirError } from '../../core/errors.ts'
import { startService } from '../../service/service.ts'
import { isStagedApp, startStages } from '../../service/stages.ts'
import { kafkaTransportFor } from '../../service/transport.ts'
import { type CommandSpec, type ParsedArgs, stringFlag } from '../args.ts'
import { appEnvHelp } from './describe.ts'

export const spec: CommandSpec = {
  usage: `usage: weir run <app> [--stage a,b]

Runs a bundled app against Kafka, configured by its environment variables, until SIGTERM/SIGINT
(a graceful stop). An app made of stages (millionx) runs all of them in one process, each with its
own port, or only those --stage names. \`weir apps\` lists the apps; \`weir run <app> --help\` lists an
app's variables.`,
  flags: { stage: 'value' },
}

export const helpFor = (positional: readonly string[]) => appEnvHelp(positional[0])

/**
 * `weir run <app> [--stage a,b]`: the app against the Kafka its env vars name, until SIGTERM/SIGINT. An
 * app made of stages (millionx) runs all of them, each with its own port, or those `--stage` names.
 */
export default async function runCommand({ positional, flags }: ParsedArgs): Promise<number> {
  const app = await loadApp(positional[0])
  try {
    if (isStagedApp(app)) await startStages(app, { stage: stringFlag(flags, 'stage') })
    else await startService(app, { transport: kafkaTransportFor })
  } catch (err) {
    // A failed start (a port in use, a bad variable, Kafka refusing us) exits now: a client socket left
    // open by a half-done start must not keep a process alive that serves nothing.
    process.stderr.write(
      `weir: ${err instanceof WeirError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    process.exit(1)
  }
  // The service runs until a signal stops it; startService exits the process then.
  return await new Promise<number>(() => {})
}

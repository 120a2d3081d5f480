import { loadApp } from '../../apps/index.ts'
import { startService } from '../../service/service.ts'
import { kafkaTransportFor } from '../../service/transport.ts'
import type { CommandSpec, ParsedArgs } from '../args.ts'
import { appEnvHelp } from './describe.ts'

export const spec: CommandSpec = {
  usage: `usage: weir run <app>

Runs a bundled app against Kafka, configured by its environment variables, until SIGTERM/SIGINT
(a graceful stop). \`weir apps\` lists the apps; \`weir run <app> --help\` lists an app's variables.`,
  flags: {},
}

export const helpFor = (positional: readonly string[]) => appEnvHelp(positional[0])

/** `weir run <app>`: the app against the Kafka its env vars name, until SIGTERM/SIGINT. */
export default async function runCommand({ positional }: ParsedArgs): Promise<number> {
  const app = await loadApp(positional[0])
  await startService(app, { transport: kafkaTransportFor })
  // The service runs until a signal stops it; startService exits the process then.
  return await new Promise<number>(() => {})
}

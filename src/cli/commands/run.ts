import { loadApp } from '../../apps/index.ts'
import { startService } from '../../service/service.ts'
import { kafkaTransportFor } from '../../service/transport.ts'
import type { parseArgs } from '../args.ts'

/** `weir run <app>`: the app against the Kafka its env vars name, until SIGTERM/SIGINT. */
export default async function runCommand({ positional }: ReturnType<typeof parseArgs>): Promise<number> {
  const app = await loadApp(positional[0])
  await startService(app, { transport: kafkaTransportFor })
  // The service runs until a signal stops it; startService exits the process then.
  return await new Promise<number>(() => {})
}

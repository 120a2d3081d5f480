import { loadApp } from '../../apps/index.ts'
import { kafkaTransport } from '../../connectors/kafka/index.ts'
import { startService } from '../../service/service.ts'
import { isStagedApp, startStages } from '../../service/stages.ts'
import { type parseArgs, stringFlag } from '../args.ts'

/**
 * `weir run <app> [--stage a,b]`: the app against the Kafka its env vars name, until SIGTERM/SIGINT. An
 * app made of stages (millionx) runs all of them, each with its own port, or those `--stage` names.
 */
export default async function runCommand({ positional, flags }: ReturnType<typeof parseArgs>): Promise<number> {
  const app = await loadApp(positional[0])
  if (isStagedApp(app)) await startStages(app, { stage: stringFlag(flags, 'stage') })
  else
    await startService(app, {
      transport: (kafka) =>
        kafkaTransport({ brokers: [...kafka.brokers], clientId: kafka.clientId, sasl: kafka.sasl, tls: kafka.tls }),
    })
  // The service runs until a signal stops it; startService exits the process then.
  return await new Promise<number>(() => {})
}

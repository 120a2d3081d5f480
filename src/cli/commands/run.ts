import { loadApp } from '../../apps/index.ts'
import { kafkaTransport } from '../../connectors/kafka/index.ts'
import { WeirError } from '../../core/errors.ts'
import { startService } from '../../service/service.ts'
import type { parseArgs } from '../args.ts'

/** `weir run <app>`: the app against the Kafka its env vars name, until SIGTERM/SIGINT. */
export default async function runCommand({ positional }: ReturnType<typeof parseArgs>): Promise<number> {
  const app = await loadApp(positional[0])
  try {
    await startService(app, {
      transport: (kafka) =>
        kafkaTransport({
          brokers: [...kafka.brokers],
          clientId: kafka.clientId,
          sasl: kafka.sasl,
          tls: kafka.tls,
        }),
    })
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

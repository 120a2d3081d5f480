/**
 * The ops server is bound before anything is consumed: a port that cannot be bound stops every bundled
 * app (and `weir demo`) at once with exit 1 and a message naming the variable or flag that set it.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { describe, it } from 'node:test'
import { loadApp } from '../../src/apps/index.ts'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { startService } from '../../src/service/service.ts'
import { spawnWeir } from './helpers/child.ts'
import { kafkaBrokers, uniqueName } from './helpers/kafka.ts'
import { testCleanup } from './helpers/services.ts'

async function occupiedPort(cleanup: (fn: () => unknown) => void): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return (server.address() as net.AddressInfo).port
}

const cases: ReadonlyArray<{
  app: string
  variable: string
  args?: (port: number) => string[]
  env?: (base: string) => Record<string, string>
}> = [
  {
    app: 'traffic',
    variable: 'HEALTH_PORT',
    env: (b) => ({ KAFKA_BROKERS: kafkaBrokers().join(','), INPUT_TOPIC: `${b}-in`, GROUP_ID: b }),
  },
  {
    app: 'traffic-windows',
    variable: 'HEALTH_PORT',
    env: (b) => ({ KAFKA_BROKERS: kafkaBrokers().join(','), INPUT_TOPIC: `${b}-in`, GROUP_ID: b }),
  },
  {
    app: 'rideshare',
    variable: 'API_PORT',
    env: (b) => ({
      KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
      KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      TOPIC_PREFIX: `${b}.`,
    }),
  },
  {
    app: 'millionx',
    variable: 'WEB_PORT',
    env: (b) => ({ KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','), TOPIC_PREFIX: `${b}.` }),
  },
  { app: 'demo', variable: '--port', args: (port) => ['demo', '--port', String(port), '--duration', '30'] },
]

describe('a port in use stops the start, naming its variable', { timeout: 120_000 }, () => {
  for (const c of cases.filter((c) => !c.args)) {
    it(`${c.app}: ${c.variable} in use: the start fails before anything is consumed`, async (t) => {
      const cleanup = testCleanup(t)
      const port = await occupiedPort(cleanup)
      const app = await loadApp(c.app)
      let transportBuilt = false
      await assert.rejects(
        startService(app, {
          env: { ...c.env?.(uniqueName('port')), [c.variable]: String(port) },
          logger: silentLogger,
          handleSignals: false,
          transport: (k) => {
            transportBuilt = true
            return kafkaTransport({ brokers: [...k.brokers] })
          },
        }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'CONFIG_INVALID')
          assert.match(
            err.message,
            new RegExp(
              `^${c.variable}: cannot listen on 0\\.0\\.0\\.0:${port} \\(the port is in use, EADDRINUSE\\)`,
            ),
          )
          return true
        },
      )
      assert.equal(transportBuilt, false, 'no Kafka client was made')
    })
  }

  for (const c of cases.filter((c) => c.app === 'traffic-windows' || c.args)) {
    it(`weir ${c.args ? 'demo' : `run ${c.app}`}: ${c.variable} in use: exit 1 with the message`, async (t) => {
      const cleanup = testCleanup(t)
      const port = await occupiedPort(cleanup)
      const env = {
        ...(c.env?.(uniqueName('port')) ?? {}),
        ...(c.args ? {} : { [c.variable]: String(port) }),
      }
      const child = spawnWeir(cleanup, c.app, env, c.args?.(port))
      const { code } = await child.exit
      const out = child.output()
      assert.equal(code, 1, out)
      assert.match(
        out,
        new RegExp(`${c.variable}: cannot listen on [0-9.]+:${port} \\(the port is in use, EADDRINUSE\\)`),
      )
      assert.doesNotMatch(out, /partitions assigned/, 'nothing consumed')
    })
  }
})

/**
 * StreamPulse as hosted services need it: Kafka over SASL SCRAM-SHA-256 (the broker's SASL listener)
 * and PostgreSQL over TLS, on a private PostgreSQL cluster this test starts with `ssl = on`, a
 * certificate it makes with openssl for "localhost", and pg_hba refusing connections without TLS.
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import pg from 'pg'
import { streamPulseApp, streamPulseSink } from '../../src/apps/streampulse/app.ts'
import { loadStreamPulseConfig } from '../../src/apps/streampulse/config.ts'
import { StreamPulseMetrics } from '../../src/apps/streampulse/metrics.ts'
import { streamPulseChangelogTopics } from '../../src/apps/streampulse/pipeline.ts'
import { systemClock } from '../../src/core/clock.ts'
import { ErrorCode } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createMetrics } from '../../src/ops/index.ts'
import { exited, startApp, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaSaslBrokers, testKafka } from './helpers/kafka.ts'
import { type Cleanup, freePort, suiteCleanup, testCleanup } from './helpers/services.ts'
import {
  events,
  expectedTables,
  produceEvents,
  spawnStreamPulse,
  streamPulseEnv,
} from './helpers/streampulse.ts'

const run = promisify(execFile)

interface TlsPostgres {
  readonly port: number
  readonly ca: string
}

/**
 * A private PostgreSQL cluster on a free port with TLS on: initdb into a temp dir (as the postgres user:
 * PostgreSQL refuses to run as root), a self-signed certificate for localhost, hostssl-only access.
 */
async function startTlsPostgres(cleanup: Cleanup): Promise<TlsPostgres> {
  const version = readdirSync('/usr/lib/postgresql')
    .sort((a, b) => Number(a) - Number(b))
    .at(-1)
  const bin = (name: string) => `/usr/lib/postgresql/${version}/bin/${name}`
  const dir = await mkdtemp(join(tmpdir(), 'weir-pg-tls-'))
  const data = join(dir, 'data')
  const port = await freePort()
  // As root (CI), the server runs as the postgres user; otherwise as whoever runs the test.
  const root = process.getuid?.() === 0
  const argv = (cmd: string, args: string[]): [string, string[]] =>
    root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]
  const asPostgres = (cmd: string, args: string[]) => run(...argv(cmd, args), { cwd: dir })
  const own = async (...paths: string[]) => {
    if (root) await run('chown', ['postgres:postgres', ...paths])
  }
  const stop = () => {
    try {
      execFileSync(...argv(bin('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']), { stdio: 'ignore' })
    } catch {}
  }
  // Stopped by the cleanup, and also if this process exits before it runs.
  process.once('exit', stop)
  cleanup(async () => {
    stop()
    process.off('exit', stop)
    await rm(dir, { recursive: true, force: true })
  })
  await own(dir)
  await asPostgres(bin('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'])
  await run('openssl', [
    'req',
    '-new',
    '-x509',
    '-days',
    '2',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost',
    '-keyout',
    join(data, 'server.key'),
    '-out',
    join(data, 'server.crt'),
  ])
  await own(join(data, 'server.key'), join(data, 'server.crt'))
  await chmod(join(data, 'server.key'), 0o600)
  await writeFile(
    join(data, 'postgresql.auto.conf'),
    `port = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nfsync = off\n`,
  )
  await writeFile(
    join(data, 'pg_hba.conf'),
    'hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n',
  )
  await own(join(data, 'postgresql.auto.conf'), join(data, 'pg_hba.conf'))
  await asPostgres(bin('pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', 'start'])
  const admin = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    ssl: { rejectUnauthorized: false },
  })
  await admin.connect()
  await admin.query('CREATE DATABASE streampulse')
  await admin.end()
  return { port, ca: join(data, 'server.crt') }
}

/** Opens the app's own sink with this env, writes nothing: what `weir run` does first. */
async function openSink(cleanup: Cleanup, env: Record<string, string>) {
  const config = loadStreamPulseConfig(env)
  const metrics = new StreamPulseMetrics(
    createMetrics({ processMetrics: false }),
    silentLogger,
    systemClock,
    50,
  )
  const sink = streamPulseSink(
    config,
    { logger: silentLogger, metrics: createMetrics({ processMetrics: false }) },
    metrics,
  )
  cleanup(() => sink.close())
  await sink.open()
  return sink
}

describe('streampulse: SASL SCRAM-SHA-256 to Kafka, TLS to PostgreSQL', { timeout: 180_000 }, () => {
  const suite = suiteCleanup()
  let tls: TlsPostgres
  const pgEnv = (extra: Record<string, string>) => ({
    PG_HOST: '127.0.0.1',
    PG_USER: 'postgres',
    PG_DATABASE: 'streampulse',
    ...extra,
    PG_PORT: String(tls.port),
  })

  before(async () => {
    tls = await startTlsPostgres(suite)
  })

  it('KAFKA_USERNAME/PASSWORD over SASL_PLAINTEXT with SCRAM-SHA-256 and PG_SSLMODE=require: rows written over an encrypted connection', async (t) => {
    const cleanup = testCleanup(t)
    const env = streamPulseEnv('sp-sasl', 'streampulse', {
      KAFKA_BOOTSTRAP_SERVERS: kafkaSaslBrokers().join(','),
      KAFKA_USERNAME: 'admin',
      KAFKA_PASSWORD: 'admin',
      KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      ...pgEnv({ PG_SSLMODE: 'require' }),
    })
    cleanup(() =>
      deleteTopics([env.KAFKA_TOPIC, env.DLQ_TOPIC, ...streamPulseChangelogTopics(env.KAFKA_GROUP_ID)]).catch(
        () => {},
      ),
    )
    await createTopic(undefined, { name: env.KAFKA_TOPIC })
    const input = events(500, { start: Date.now() - 20_000, stepMs: 20, seed: 3 })
    const sasl = testKafka({
      brokers: kafkaSaslBrokers(),
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin' },
    })
    await produceEvents(sasl, env.KAFKA_TOPIC, input)
    const service = await startApp(streamPulseApp, env)
    cleanup(() => service.stop())
    assert.equal(service.app.kafka.sasl?.mechanism, 'SCRAM-SHA-256')
    const expected = expectedTables(input, 2000)
    const db = {
      host: '127.0.0.1',
      port: tls.port,
      user: 'postgres',
      database: 'streampulse',
      ssl: { rejectUnauthorized: false },
    }
    const read = async () => {
      const c = new pg.Client(db)
      await c.connect()
      try {
        return (await c.query<{ n: string }>('SELECT sum(downloads) AS n FROM region_health')).rows[0]?.n
      } catch {
        return undefined
      } finally {
        await c.end()
      }
    }
    await waitUntil(
      'every event in region_health',
      async () => (await read()) === String(input.length),
      60_000,
      300,
    )
    assert.equal(expected.region_health.length > 0, true)
    const c = new pg.Client(db)
    await c.connect()
    const ssl = await c.query<{ ssl: boolean }>(
      "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'weir:streampulse'",
    )
    await c.end()
    assert.ok(ssl.rows.length > 0 && ssl.rows.every((r) => r.ssl), 'the app is connected with TLS')
  })

  it('a wrong SASL password stops the app at start with an authentication error', async (t) => {
    const env = streamPulseEnv('sp-sasl-bad', 'streampulse', {
      KAFKA_BOOTSTRAP_SERVERS: kafkaSaslBrokers().join(','),
      KAFKA_USERNAME: 'admin',
      KAFKA_PASSWORD: 'not-the-password',
      KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      ...pgEnv({ PG_SSLMODE: 'require' }),
    })
    const child = spawnStreamPulse(testCleanup(t), env)
    const { code } = await exited(child)
    assert.notEqual(code, 0)
    assert.match(child.output(), /auth|SASL/i)
    assert.ok(!child.output().includes('not-the-password'), 'the password is never printed')
  })

  it('PG_SSLMODE=verify-full accepts the right host name (localhost) and refuses a wrong one (127.0.0.1) at start', async (t) => {
    const cleanup = testCleanup(t)
    const good = await openSink(
      cleanup,
      pgEnv({ PG_HOST: 'localhost', PG_SSLMODE: 'verify-full', PG_SSLROOTCERT: tls.ca }),
    )
    assert.equal(good.status().connected, true)
    await assert.rejects(
      openSink(cleanup, pgEnv({ PG_SSLMODE: 'verify-full', PG_SSLROOTCERT: tls.ca })),
      (e: Error & { code?: string }) =>
        e.code === ErrorCode.CONFIG_INVALID && /Hostname\/IP does not match|altnames/i.test(e.message),
    )
    await assert.rejects(
      openSink(cleanup, pgEnv({ PG_HOST: 'localhost', PG_SSLMODE: 'verify-full' })),
      (e: Error & { code?: string }) =>
        e.code === ErrorCode.CONFIG_INVALID && /self-signed|self signed/i.test(e.message),
      'without PG_SSLROOTCERT the self-signed certificate does not verify',
    )
  })

  it('PG_SSLMODE=disable against a server that requires TLS is refused at start with the reason', async (t) => {
    await assert.rejects(
      openSink(testCleanup(t), pgEnv({ PG_SSLMODE: 'disable' })),
      (e: Error & { code?: string }) =>
        e.code === ErrorCode.CONFIG_INVALID && /pg_hba|no encryption/i.test(e.message),
    )
  })
})

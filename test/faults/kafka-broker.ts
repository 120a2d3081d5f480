/**
 * A private single-node Kafka (KRaft broker + controller) from the jars `scripts/services.sh` fetched
 * into .cache/kafka/<version>/libs, on free ports with its own data dir, that a fault test may stop and
 * start again. The shared broker on 9092 is never touched.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { type Cleanup, freePort, sleep } from '../integration/helpers/services.ts'

const KAFKA_VERSION = process.env.KAFKA_VERSION ?? '4.3.1'
const LIBS = fileURLToPath(new URL(`../../.cache/kafka/${KAFKA_VERSION}/libs/*`, import.meta.url))
const JAVA_LIGHT = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']

export interface PrivateBroker {
  readonly brokers: readonly string[]
  readonly running: boolean
  /** SIGTERM (a controlled shutdown), waits for the exit. */
  stop(): Promise<void>
  /** Starts it again with the same data and ports; resolves when it answers metadata requests. */
  start(): Promise<void>
  /**
   * SIGSTOP: the process is frozen with its connections open, so clients see no error, only requests
   * that get no answer (until their timeout, 30 s). `resume()` (SIGCONT) lets it carry on.
   */
  freeze(): void
  resume(): void
}

export async function startPrivateBroker(cleanup: Cleanup): Promise<PrivateBroker> {
  const [port, controller] = [await freePort(), await freePort()]
  const dir = await mkdtemp(join(tmpdir(), 'weir-faults-kafka-'))
  cleanup(() => rm(dir, { recursive: true, force: true }))
  const conf = join(dir, 'server.properties')
  const log4j = join(dir, 'log4j2.properties')
  await writeFile(
    conf,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.bootstrap.servers=127.0.0.1:${controller}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'default.replication.factor=1',
      'min.insync.replicas=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=2',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=2',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'group.min.session.timeout.ms=1000',
      'num.network.threads=2',
      'num.io.threads=2',
      'log.segment.bytes=67108864',
      '',
    ].join('\n'),
  )
  await writeFile(
    log4j,
    [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = OUT',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = WARN',
      'rootLogger.appenderRef.out.ref = OUT',
      '',
    ].join('\n'),
  )
  const run = promisify(execFile)
  const tool = (...args: string[]) =>
    run('java', [...JAVA_LIGHT, `-Dlog4j2.configurationFile=${log4j}`, '-cp', LIBS, ...args])
  await tool(
    'kafka.tools.StorageTool',
    'format',
    '--standalone',
    '-t',
    'weir-faults-cluster-0001',
    '-c',
    conf,
    '--ignore-formatted',
  )

  let child: ChildProcess | undefined
  let output = ''
  const killNow = () => child?.kill('SIGKILL')
  process.once('exit', killNow)
  const brokers = [`127.0.0.1:${port}`]

  const answers = async (): Promise<boolean> => {
    const admin = kafkaTransport({ brokers, connectTimeoutMs: 1000, requestTimeoutMs: 3000 }).admin()
    try {
      await admin.partitions([])
      return true
    } catch {
      return false
    } finally {
      await admin.close().catch(() => {})
    }
  }

  const start = async () => {
    if (child) return
    const proc = spawn(
      'java',
      [
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        `-Dlog4j2.configurationFile=${log4j}`,
        `-Dkafka.logs.dir=${dir}`,
        '-cp',
        LIBS,
        'kafka.Kafka',
        conf,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = proc
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000)
    }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
    proc.once('exit', () => {
      if (child === proc) child = undefined
    })
    const deadline = Date.now() + 90_000
    while (!(await answers())) {
      if (child !== proc) throw new Error(`private kafka exited during start-up:\n${output}`)
      if (Date.now() > deadline) throw new Error(`private kafka did not answer within 90 s:\n${output}`)
      await sleep(250)
    }
  }

  const stop = async () => {
    const proc = child
    if (!proc) return
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    proc.kill('SIGTERM')
    const force = setTimeout(() => proc.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(force)
  }

  cleanup(async () => {
    process.off('exit', killNow)
    const proc = child
    if (proc) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
      proc.kill('SIGKILL')
      await exited
    }
  })
  await start()
  return {
    brokers,
    get running() {
      return child !== undefined
    },
    stop,
    start,
    freeze: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  }
}

/**
 * The bench's JVM side (bench/kstreams/, a Maven project built from Maven Central): the Kafka Streams
 * program run beside Weir, and Kafka's ProducerPerformance / ConsumerPerformance for the ceiling. Built
 * here, on first use and whenever its sources change, so the bench has its tools whatever broker it
 * measures (a broker this checkout did not start leaves .cache/kafka without the tools).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'kstreams')
const SOURCES = join(DIR, 'src', 'main', 'java', 'dev', 'weir', 'bench')
const STAMP = join(DIR, 'target', '.built')
const CLASSPATH = `${join(DIR, 'target', 'classes')}:${join(DIR, 'target', 'libs', '*')}`
/** Kafka Streams and the tools log through slf4j-simple: warnings and errors only. */
const JVM_FLAGS = ['-Dorg.slf4j.simpleLogger.defaultLogLevel=error']

/** Newest modification time of the project's inputs, as the build stamp. */
function sourcesMtime(): number {
  let t = statSync(join(DIR, 'pom.xml')).mtimeMs
  for (const f of readdirSync(SOURCES)) t = Math.max(t, statSync(join(SOURCES, f)).mtimeMs)
  return t
}

/** `mvn package` + the runtime jars into target/libs, unless target/ is already built from these sources. */
export function buildJvmTools(log: (s: string) => void): void {
  const want = String(sourcesMtime())
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === want) return
  log('building bench/kstreams (Kafka Streams program and Kafka tools, from Maven Central)')
  const r = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(DIR, 'pom.xml'),
      'package',
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      '-DoutputDirectory=target/libs',
      '-Dmaven.test.skip',
    ],
    { encoding: 'utf8' },
  )
  if (r.error) throw new Error(`mvn (Maven) is needed to build bench/kstreams: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`mvn could not build bench/kstreams:\n${r.stdout}${r.stderr}`)
  writeFileSync(STAMP, want)
}

/** One of Kafka's own tools (org.apache.kafka.tools.<tool>), synchronously; its stdout. */
export function kafkaTool(tool: string, args: string[]): string {
  const r = spawnSync('java', [...JVM_FLAGS, '-cp', CLASSPATH, `org.apache.kafka.tools.${tool}`, ...args], {
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr}`)
  return r.stdout
}

/** How a Kafka Streams contender runs: its processing guarantee and producer settings. */
export interface KStreamsVariant {
  /** Short name, also the topic infix (`<prefix><name>-out`). */
  readonly name: string
  readonly label: string
  readonly guarantee: 'at_least_once' | 'exactly_once_v2'
  /** Producer settings over Kafka Streams' defaults, `key=value`. */
  readonly producer: readonly string[]
}

export const KSTREAMS_DEFAULTS: KStreamsVariant = {
  name: 'ks',
  label: 'Kafka Streams, defaults',
  guarantee: 'at_least_once',
  producer: [],
}
/** Bigger producer batches (16 KiB → 256 KiB): what a Kafka Streams user tunes first for throughput. */
export const KSTREAMS_TUNED: KStreamsVariant = {
  name: 'kst',
  label: 'Kafka Streams, batch.size=262144',
  guarantee: 'at_least_once',
  producer: ['batch.size=262144'],
}
/** `exactly_once_v2` with its default 100 ms commit interval (Weir's exactly-once checkpoint is 100 ms too). */
export const KSTREAMS_EOS: KStreamsVariant = {
  name: 'kse',
  label: 'Kafka Streams, exactly_once_v2',
  guarantee: 'exactly_once_v2',
  producer: [],
}

export interface KStreamsRun {
  readonly brokers: readonly string[]
  readonly workload: 'passthrough' | 'traffic' | 'windows'
  readonly input: string
  /** Topic prefix of this contender's own topics and application id (internal topics start with it). */
  readonly prefix: string
  readonly partitions: number
  readonly records: number
}

/** Topics a Kafka Streams run writes: `<prefix><variant>-out`, `<prefix><variant>-dlq`. */
export function kstreamsTopics(
  r: Pick<KStreamsRun, 'prefix'>,
  v: KStreamsVariant,
): { output: string; dlq: string } {
  return { output: `${r.prefix}${v.name}-out`, dlq: `${r.prefix}${v.name}-dlq` }
}

/** Runs the Kafka Streams program once; its JSON figures (records/s, CPU s per M, peak RSS MB, …). */
export function runKStreams(r: KStreamsRun, v: KStreamsVariant): Promise<Record<string, number>> {
  const t = kstreamsTopics(r, v)
  const args = [
    'run',
    '--workload',
    r.workload,
    '--brokers',
    r.brokers.join(','),
    '--input',
    r.input,
    '--output',
    t.output,
    '--dlq',
    t.dlq,
    '--application-id',
    `${r.prefix}${v.name}`,
    '--partitions',
    String(r.partitions),
    '--records',
    String(r.records),
    '--guarantee',
    v.guarantee,
    ...v.producer.flatMap((p) => ['--producer', p]),
  ]
  return jvm(args)
}

/** Whether two topics hold the same records (see Compare.java): counts, same, only in each. */
export function compareTopics(
  brokers: readonly string[],
  workload: KStreamsRun['workload'],
  a: string,
  b: string,
): Promise<Record<string, unknown>> {
  return jvm(['compare', '--workload', workload, '--brokers', brokers.join(','), '--a', a, '--b', b])
}

function jvm<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn('java', [...JVM_FLAGS, '-cp', CLASSPATH, 'dev.weir.bench.KStreamsBench', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    // The parent never outlives its JVM child (a failed bench must not leave Kafka Streams running).
    const kill = () => p.kill('SIGKILL')
    process.once('exit', kill)
    p.once('exit', (code) => {
      process.off('exit', kill)
      if (code !== 0) return reject(new Error(`KStreamsBench ${args[0]} exited ${code}: ${err.slice(-3000)}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() as string))
      } catch {
        reject(new Error(`KStreamsBench printed no result: ${out.slice(-500)} ${err.slice(-1000)}`))
      }
    })
  })
}

/**
 * Prometheus and promtool for the monitoring tests (installed by scripts/prometheus.sh). Without them the
 * tests skip with the reason, and fail under CI=true, so a missing install never passes silently.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { tempDir } from './archive.ts'
import { type Cleanup, freePort } from './services.ts'

const run = promisify(execFile)

async function has(cmd: string): Promise<boolean> {
  try {
    await run(cmd, ['--version'])
    return true
  } catch {
    return false
  }
}

/** For `describe(…, { skip })`: false when promtool and prometheus run, else why the tests are skipped. */
export async function prometheusSkip(): Promise<false | string> {
  if ((await has('promtool')) && (await has('prometheus'))) return false
  const why =
    'promtool/prometheus not installed: run `bash scripts/prometheus.sh` (Debian package prometheus)'
  if (process.env.CI === 'true') throw new Error(`CI=true and ${why}`)
  return why
}

/** Runs promtool; resolves with its whole output, rejects with it when promtool fails. */
export async function promtool(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', [...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`promtool ${args.join(' ')} exited ${code}:\n${out}`)),
    )
    child.stdin.end(input ?? '')
  })
}

export interface PrometheusServer {
  readonly url: string
  /** Everything the server wrote so far. */
  output(): string
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>
  alerts(): Promise<Array<{ labels: Record<string, string>; state: string }>>
}

/** A private Prometheus on a free port with this config (YAML text) and rule files, stopped by the cleanup. */
export async function startPrometheus(
  cleanup: Cleanup,
  config: (dir: string) => string,
  files: Readonly<Record<string, string>> = {},
): Promise<PrometheusServer> {
  const dir = await tempDir(cleanup, 'weir-prometheus-')
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  await writeFile(join(dir, 'prometheus.yml'), config(dir))
  const port = await freePort()
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const exitHook = () => child.kill('SIGKILL')
  process.once('exit', exitHook)
  cleanup(async () => {
    process.off('exit', exitHook)
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await gone
    }
  })
  const url = `http://127.0.0.1:${port}`
  const api = async (path: string): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) })
    const body = (await res.json()) as { status: string; data: unknown; error?: string }
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`)
    return body.data
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok) break
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`prometheus did not start:\n${output}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    output: () => output,
    async query(expr) {
      const data = (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)) as {
        result: Array<{ metric: Record<string, string>; value: [number, string] }>
      }
      return data.result
    },
    async alerts() {
      return (
        (await api('/api/v1/alerts')) as { alerts: Array<{ labels: Record<string, string>; state: string }> }
      ).alerts
    },
  }
}

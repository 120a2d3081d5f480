/**
 * The process side of scripts/perf-memory.ts and scripts/soak-memory.ts: a cgroup v1 memory group with a
 * limit, `weir` started inside it, and what is read from the running process (/proc and its
 * /metrics/prometheus). Needs root for the cgroup.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const WEIR = join(ROOT, 'bin', 'weir.js')
const CGROUP_ROOT = '/sys/fs/cgroup/memory'

/** What `weir` runs and with which env (a Plan of scripts/memory-plans.ts). */
export interface Started {
  readonly args: readonly string[]
  readonly env: Record<string, string>
}

/** The value after `--name` on this script's command line (`--name value`), if given. */
export function flagValue(name: string): string | undefined {
  const args = process.argv.slice(2)
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

/** A cgroup v1 memory group with a limit; `remove` waits for its processes to be gone. */
export function memoryCgroup(name: string, limitMb: number) {
  const path = join(CGROUP_ROOT, name)
  mkdirSync(path)
  writeFileSync(join(path, 'memory.limit_in_bytes'), String(limitMb * 2 ** 20))
  const read = (f: string) => readFileSync(join(path, f), 'utf8')
  return {
    path,
    peakMb: () => Math.round(Number(read('memory.max_usage_in_bytes')) / 2 ** 20),
    failcnt: () => Number(read('memory.failcnt')),
    oomKills: () => Number(/oom_kill (\d+)/.exec(read('memory.oom_control'))?.[1] ?? 0),
    async remove() {
      for (let i = 0; i < 50 && existsSync(path); i++) {
        try {
          rmdirSync(path)
        } catch {
          await sleep(100)
        }
      }
    },
  }
}

/** `weir <plan.args>` started inside the cgroup (the shell joins it, then becomes node). */
export function startInCgroup(
  plan: Started,
  cgroupPath: string,
  nodeFlags: readonly string[] = [],
): { child: ChildProcess; stderr: () => string } {
  const child = spawn(
    'sh',
    [
      '-c',
      `echo $$ > ${cgroupPath}/cgroup.procs && exec "$0" "$@"`,
      process.execPath,
      ...nodeFlags,
      WEIR,
      ...plan.args,
    ],
    { env: { ...process.env, ...plan.env, LOG_LEVEL: 'WARN' }, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  return { child, stderr: () => stderr }
}

export function statusMb(pid: number, field: string): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024
  } catch {
    return 0
  }
}

export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Records the process has read so far (its Prometheus counter, all topics), 0 until its server answers. */
export async function consumedSoFar(port: number): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics/prometheus`)).text()
    let n = 0
    for (const line of text.split('\n'))
      if (line.startsWith('weir_records_consumed_total')) n += Number(line.split(' ').pop())
    return n
  } catch {
    return 0
  }
}

/** The process's V8 heap (total, used) and external memory in MB, from its /metrics/prometheus. */
export async function heapOf(
  port: number,
): Promise<{ heapTotal: number; heapUsed: number; external: number }> {
  const out = { heapTotal: 0, heapUsed: 0, external: 0 }
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics/prometheus`)).text()
    const read = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20
    out.heapTotal = read('nodejs_heap_size_total_bytes')
    out.heapUsed = read('nodejs_heap_size_used_bytes')
    out.external = read('nodejs_external_memory_bytes')
  } catch {}
  return out
}

/** The V8 heap flags `bin/weir.js` re-executed itself with, read from the process's command line. */
export function cmdlineFlags(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a.startsWith('--max-'))
      .join(' ')
  } catch {
    return ''
  }
}

/**
 * Runs the measured apps from the compiled `dist/`, as the container image does (`bin/weir.js` prefers
 * it): a checkout otherwise runs the .ts sources through Node's type stripping, which loads its own
 * compiler (~20 MB of RSS a deployed app does not have). Builds dist/ when missing; the returned
 * function removes it again if this built it.
 */
export function useDist(): () => void {
  const dist = join(ROOT, 'dist')
  if (existsSync(join(dist, 'cli', 'main.js'))) {
    // A stale dist/ would measure old code: rebuild (incremental, a few seconds).
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json')])
    return () => {}
  }
  execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json')])
  return () => rmSync(dist, { recursive: true, force: true })
}

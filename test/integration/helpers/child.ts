/**
 * `weir` as a child process, as a user (or a supervisor) runs it: the whole output is kept (a check
 * never looks at a tail only), the child is killed by the cleanup registered where it is spawned and
 * also if the test process exits, and structured log lines can be awaited.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { CLI } from './apps.ts'
import { withMemberId } from './member-id.ts'
import type { Cleanup } from './services.ts'

export interface WeirChild {
  readonly process: ChildProcess
  readonly pid: number
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string
  /** Parsed JSON log lines so far (other lines skipped). */
  logs(): ReadonlyArray<Record<string, unknown>>
  /** Resolves when a log line with this `msg` (and the given fields) appears; rejects if the child exits first. */
  waitForLog(
    msg: string,
    fields?: Readonly<Record<string, unknown>>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>
  /** The exit, once it happened. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  running(): boolean
  kill(signal: NodeJS.Signals): void
}

/** Runs `weir run <app>` (or other `args`) with `env` added to this process's environment. */
export function spawnWeir(
  cleanup: Cleanup,
  app: string,
  env: Readonly<Record<string, string>>,
  args: readonly string[] = ['run', app],
): WeirChild {
  // A static group member with an ordinal of its own (member-id.ts), unless the test sets the id.
  const member = withMemberId(args.join(' '), env)
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...member.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const chunks: string[] = []
  let pending = ''
  const parsed: Array<Record<string, unknown>> = []
  const listeners = new Set<() => void>()
  const onData = (d: Buffer) => {
    const text = d.toString()
    chunks.push(text)
    pending += text
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      try {
        parsed.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        // not a log line
      }
    }
    for (const l of listeners) l()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  let exited = false
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true
      member.release()
      for (const l of listeners) l()
      resolve({ code, signal })
    }),
  )
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  cleanup(async () => {
    process.off('exit', killOnExit)
    if (!exited) {
      child.kill('SIGKILL')
      await exit
    }
  })
  const output = () => chunks.join('')
  return {
    process: child,
    pid: child.pid ?? -1,
    output,
    logs: () => parsed,
    exit,
    running: () => !exited,
    kill: (signal) => {
      if (!exited) child.kill(signal)
    },
    waitForLog(msg, fields = {}, timeoutMs = 60_000) {
      const matches = (l: Record<string, unknown>) =>
        l.msg === msg && Object.entries(fields).every(([k, v]) => JSON.stringify(l[k]) === JSON.stringify(v))
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = parsed.find(matches)
          if (found) done(() => resolve(found))
          else if (exited) done(() => reject(new Error(`child exited before logging "${msg}":\n${output()}`)))
        }
        const timer = setTimeout(
          () => done(() => reject(new Error(`no "${msg}" log line within ${timeoutMs} ms:\n${output()}`))),
          timeoutMs,
        )
        const done = (settle: () => void) => {
          clearTimeout(timer)
          listeners.delete(check)
          settle()
        }
        listeners.add(check)
        check()
      })
    },
  }
}

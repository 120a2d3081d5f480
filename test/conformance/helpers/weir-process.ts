/**
 * `weir …` as a child process for conformance tests: the whole of its output is kept (a check reads
 * all of it, not a tail), and the child is killed when the test ends or this process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Cleanup } from '../../integration/helpers/services.ts'

const CLI = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url))

export interface WeirProcess {
  readonly child: ChildProcess
  /** Everything it wrote to stdout and stderr so far. */
  output(): string
  /** Its JSON log lines so far (stderr lines that parse as objects). */
  logs(): Array<Record<string, unknown>>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function spawnWeir(
  args: readonly string[],
  env: Record<string, string>,
  cleanup: Cleanup,
): WeirProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    // Only what the test gives, plus PATH: the developer's own LOG_LEVEL or KAFKA_* must not leak in.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  cleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    process.off('exit', kill)
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  return {
    child,
    output: () => out + err,
    logs: () =>
      err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>]
          } catch {
            return []
          }
        }),
    exited,
  }
}

/** GET a URL, its status and parsed JSON body. */
export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

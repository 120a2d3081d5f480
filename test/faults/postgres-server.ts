/**
 * A private PostgreSQL cluster (initdb + pg_ctl, trust auth, user postgres) on a free port in a temp
 * dir, that a fault test may stop and start. The shared server on 5432 is never touched. Run as root,
 * the tools run as the `postgres` user (initdb refuses root).
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Cleanup, freePort } from '../integration/helpers/services.ts'

const run = promisify(execFile)

function pgBin(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  const found = versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'pg_ctl')))
  if (!found) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/<version>/bin')
  return found
}

export interface PrivatePostgres {
  readonly host: string
  readonly port: number
  stop(): Promise<void>
  start(): Promise<void>
}

export async function startPrivatePostgres(cleanup: Cleanup): Promise<PrivatePostgres> {
  const bin = pgBin()
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'weir-faults-pg-'))
  cleanup(() => rm(dir, { recursive: true, force: true }))
  const asRoot = process.getuid?.() === 0
  const tool = async (name: string, args: string[]) => {
    const cmd = join(bin, name)
    return asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args)
  }
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    await chown(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const data = join(dir, 'data')
  await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const start = async () => {
    await tool('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`,
      'start',
    ])
  }
  const stop = async () => {
    await tool('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']).catch(() => {})
  }
  const killOnExit = () => {
    // Best effort when the test process dies: an immediate stop.
    try {
      execFile(
        asRoot ? 'runuser' : join(bin, 'pg_ctl'),
        asRoot
          ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']
          : ['-D', data, '-m', 'immediate', 'stop'],
      )
    } catch {
      // nothing more to do
    }
  }
  process.once('exit', killOnExit)
  cleanup(async () => {
    process.off('exit', killOnExit)
    await tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
  })
  await start()
  return { host: '127.0.0.1', port, stop, start }
}

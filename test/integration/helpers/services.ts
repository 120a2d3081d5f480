/**
 * Real services for integration tests, each with its cleanup registered where it is created:
 * pass `testCleanup(t)` inside a test, or `suiteCleanup()` (called in a describe body) for what a
 * `before` hook starts. Not `after` itself inside `before`: node:test then runs it right after the hook.
 *
 * - `startRedisServer`: a private redis-server on a free port that the test may stop and start again,
 * - `pgConnection`, `uniqueName`, `pgTable`, `pgQuery`: PostgreSQL on 127.0.0.1:5432 (db `test`),
 * - `tcpProxy`: a TCP hop in front of a real service that a test can cut and restore (an outage of
 *   PostgreSQL without stopping the server other tests share).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import pg from 'pg'

export type Cleanup = (fn: () => unknown) => void

/** Runs cleanups last-registered-first, all of them even if one throws; rethrows the first error. */
function lifo(): { add: Cleanup; run: () => Promise<void> } {
  const fns: Array<() => unknown> = []
  return {
    add: (fn) => {
      fns.push(fn)
    },
    async run() {
      let first: unknown
      for (const fn of fns.splice(0).reverse()) {
        try {
          await fn()
        } catch (err) {
          first ??= err
        }
      }
      if (first !== undefined) throw first
    },
  }
}

/** Cleanups that run when the test ends. */
export function testCleanup(t: { after(fn: () => unknown): void }): Cleanup {
  const l = lifo()
  t.after(l.run)
  return l.add
}

/** Cleanups that run when the enclosing describe ends; call it synchronously in the describe body. */
export function suiteCleanup(): Cleanup {
  const l = lifo()
  after(l.run)
  return l.add
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `check` until it returns without throwing (and not `false`), or throws its last error after `timeoutMs`. */
export async function eventually<V>(
  check: () => V | Promise<V>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<V> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const v = await check()
      if (v !== false) return v
      if (Date.now() > deadline) throw new Error(`condition still false after ${timeoutMs} ms`)
    } catch (err) {
      if (Date.now() > deadline) throw err
    }
    await sleep(everyMs)
  }
}

/** Ports this process handed out: the kernel may offer a just-closed port again. */
const handedOut = new Set<number>()

/**
 * A port nobody listens on right now and not handed out before by this process. Callers often take
 * several before binding any (a broker's and its controller's, three stages' web ports, an app's and a
 * private Redis's); without the check a second could be the first again, and whichever bound it second
 * failed ("cannot listen": seen once in scripts/perf-memory.ts).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    const { port } = server.address() as net.AddressInfo
    await new Promise<void>((resolve) => server.close(() => resolve()))
    if (!handedOut.has(port)) {
      handedOut.add(port)
      return port
    }
  }
}

let counter = 0
/** A name no other test (or concurrent test process) uses: `prefix_<pid>_<n>_<random>`, lowercase. */
export function uniqueName(prefix = 'weir'): string {
  return `${prefix}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase()
}

// ------------------------------------------------------------------------------------------- Redis

export interface RedisServer {
  readonly host: string
  readonly port: number
  readonly running: boolean
  /** Stops the server (SIGTERM, like `redis-cli shutdown nosave`: nothing is saved). */
  stop(): Promise<void>
  /** Starts it again on the same port with the same arguments. */
  start(): Promise<void>
}

/** Answers once the port speaks RESP (PONG, or an auth error: the server is up either way). */
async function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (d) => done(/^[+-]/.test(d.toString())))
  })
}

/**
 * A private redis-server (no persistence) on a free port, stopped by `cleanup`. `args` are extra
 * config, e.g. `['--requirepass', 'secret']` or `['--user', 'weir', 'on', '>pw', '~*', '+@all']`.
 */
export async function startRedisServer(cleanup: Cleanup, args: readonly string[] = []): Promise<RedisServer> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'weir-redis-'))
  let child: ChildProcess | undefined
  const kill = () => child?.kill('SIGKILL')
  process.once('exit', kill)

  const start = async () => {
    if (child) return
    const argv = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--logfile',
      '',
      ...args,
    ]
    const proc = spawn('redis-server', argv, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    proc.stderr?.on('data', (d) => {
      stderr += d
    })
    child = proc
    proc.once('exit', () => {
      if (child === proc) child = undefined
    })
    const deadline = Date.now() + 10_000
    while (!(await redisAnswers(port))) {
      if (child !== proc) throw new Error(`redis-server on port ${port} exited at start: ${stderr}`)
      if (Date.now() > deadline)
        throw new Error(`redis-server on port ${port} did not answer in 10 s: ${stderr}`)
      await sleep(20)
    }
  }

  const stop = async () => {
    const proc = child
    if (!proc) return
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    proc.kill('SIGTERM')
    const force = setTimeout(() => proc.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(force)
  }

  await start()
  cleanup(async () => {
    await stop()
    process.off('exit', kill)
    await rm(dir, { recursive: true, force: true })
  })
  return {
    host: '127.0.0.1',
    port,
    get running() {
      return child !== undefined
    },
    stop,
    start,
  }
}

// -------------------------------------------------------------------------------------- PostgreSQL

/** The test database: PGHOST/PGPORT/PGUSER/PGDATABASE when set, else 127.0.0.1:5432, user postgres, db test. */
export function pgConnection(): { host: string; port: number; user: string; database: string } {
  return {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    database: process.env.PGDATABASE ?? 'test',
  }
}

/** Runs one statement on a short-lived connection. */
export async function pgQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client(pgConnection())
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

/**
 * A uniquely named table created from `ddl(quotedName)` and dropped by `cleanup`.
 *
 * @example const t = await pgTable(t.after, (n) => `CREATE TABLE ${n} (id int PRIMARY KEY, v text)`)
 */
export async function pgTable(
  cleanup: Cleanup,
  ddl: (quoted: string) => string,
  prefix = 'weir_t',
): Promise<string> {
  const name = uniqueName(prefix)
  cleanup(() => pgQuery(`DROP TABLE IF EXISTS "${name}"`))
  await pgQuery(ddl(`"${name}"`))
  return name
}

// ---------------------------------------------------------------------------------------- TCP proxy

export interface TcpProxy {
  readonly port: number
  /** Resets every connection through the proxy and refuses new ones: the service looks down. */
  cut(): Promise<void>
  /** Accepts connections again on the same port. */
  restore(): Promise<void>
}

/** A TCP proxy on a free port forwarding to `target`, closed by `cleanup`. */
export async function tcpProxy(cleanup: Cleanup, target: { host: string; port: number }): Promise<TcpProxy> {
  const port = await freePort()
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  const cut = async () => {
    const closed = server.listening
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve()
    for (const s of sockets) s.resetAndDestroy()
    await closed
  }
  await listen()
  cleanup(cut)
  return { port, cut, restore: () => (server.listening ? Promise.resolve() : listen()) }
}

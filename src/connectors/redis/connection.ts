import net from 'node:net'
import tls, { type ConnectionOptions as TlsOptions } from 'node:tls'
import { type Reply, ReplyError, ReplyParser, RespWriter } from './resp.ts'

export type ConnectionStatus = 'wait' | 'connecting' | 'ready' | 'reconnecting' | 'end'

export interface RespConnectionOptions {
  readonly host: string
  readonly port: number
  readonly tls: TlsOptions | undefined
  readonly username: string | undefined
  readonly password: string | undefined
  readonly db: number
  /** CLIENT SETNAME. */
  readonly name: string
  /** How long a connection attempt (TCP, TLS and the AUTH/SELECT/SETNAME handshake) may take. */
  readonly connectTimeoutMs: number
  /** A connection with commands waiting that receives nothing for this long is dropped and reconnected. */
  readonly socketTimeoutMs: number
  /** Delay before reconnect attempt `n` (1, 2, …). */
  readonly retryDelay: (attempt: number) => number
}

export interface ConnectionEvents {
  ready(): void
  close(): void
  error(err: Error): void
}

/**
 * The server has no password and was sent one: not an error (a password-less Redis in development, the
 * seed's default password configured), as ioredis treats it too.
 */
const NO_PASSWORD_SET =
  /^ERR (AUTH <password> called without any password configured|Client sent AUTH, but no password is set)/

interface Batch {
  readonly n: number
  readonly replies: Reply[]
  readonly resolve: (replies: Reply[]) => void
  readonly reject: (err: Error) => void
}

/**
 * One connection to Redis for pipelines of commands, with the behaviour the sinks need to make an
 * outage visible instead of hanging: no offline queue (a pipeline sent while not ready fails at once),
 * no re-sending of unanswered commands (the sink keeps its items and sends them again), a socket
 * timeout for a server that stops answering, and reconnects with the given backoff, forever, until
 * `quit`/`disconnect`. Replies come back in order, one per command, so a pipeline's replies are the
 * next `n` replies.
 *
 * @example
 * const c = new RespConnection(options, { ready() {}, close() {}, error() {} })
 * c.connect()
 * const w = new RespWriter(); w.publish('ch', 'hi')
 * await c.exec(w.bytes(), w.count) // [1]
 */
export class RespConnection {
  #status: ConnectionStatus = 'wait'
  readonly #o: RespConnectionOptions
  readonly #on: ConnectionEvents
  readonly #parser: ReplyParser
  readonly #batches: Batch[] = []
  #socket: net.Socket | undefined
  #attempt = 0
  #retry: NodeJS.Timeout | undefined
  #connectTimer: NodeJS.Timeout | undefined
  #idle: NodeJS.Timeout | undefined

  constructor(options: RespConnectionOptions, on: ConnectionEvents) {
    this.#o = options
    this.#on = on
    this.#parser = new ReplyParser((r) => this.#reply(r))
  }

  get status(): ConnectionStatus {
    return this.#status
  }

  /** Starts connecting (and reconnecting whenever the connection is lost). */
  connect(): void {
    if (this.#status !== 'wait') return
    this.#open()
  }

  /** Sends `n` encoded commands; resolves with their `n` replies (error replies included). */
  exec(bytes: Buffer, n: number): Promise<Reply[]> {
    if (this.#status !== 'ready' || this.#socket === undefined)
      return Promise.reject(new Error(`Connection is ${this.#status === 'ready' ? 'closed' : this.#status}`))
    return this.#send(this.#socket, bytes, n)
  }

  /** QUIT, waiting for its reply, then no more reconnects. */
  async quit(): Promise<void> {
    const socket = this.#socket
    if (this.#status === 'ready' && socket !== undefined) {
      const w = new RespWriter(64)
      w.command('QUIT')
      const pending = this.#send(socket, w.bytes(), 1).catch(() => undefined)
      this.#status = 'end'
      await pending
    }
    this.disconnect()
  }

  /** Closes at once; pending pipelines fail; no more reconnects. */
  disconnect(): void {
    this.#status = 'end'
    clearTimeout(this.#retry)
    this.#drop(new Error('Connection is closed.'))
  }

  #send(socket: net.Socket, bytes: Buffer, n: number): Promise<Reply[]> {
    return new Promise<Reply[]>((resolve, reject) => {
      this.#batches.push({ n, replies: [], resolve, reject })
      if (this.#batches.length === 1) this.#idleTimer()
      socket.write(bytes)
    })
  }

  #open(): void {
    this.#status = this.#attempt === 0 ? 'connecting' : 'reconnecting'
    const o = this.#o
    const socket =
      o.tls === undefined
        ? net.connect({ host: o.host, port: o.port })
        : tls.connect({ ...o.tls, host: o.host, port: o.port, servername: o.tls.servername ?? o.host })
    socket.setNoDelay(true)
    this.#socket = socket
    this.#connectTimer = setTimeout(() => {
      this.#on.error(new Error(`connect ETIMEDOUT after ${o.connectTimeoutMs} ms`))
      socket.destroy()
    }, o.connectTimeoutMs).unref()
    socket.once(o.tls === undefined ? 'connect' : 'secureConnect', () => void this.#handshake(socket))
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.#socket) return
      try {
        this.#parser.feed(chunk)
      } catch (err) {
        this.#on.error(err as Error)
        socket.destroy()
      }
    })
    socket.on('error', (err) => this.#on.error(err))
    socket.once('close', () => this.#closed(socket))
  }

  /** AUTH, SELECT and CLIENT SETNAME; any error reply fails the attempt (reported, then retried). */
  async #handshake(socket: net.Socket): Promise<void> {
    const o = this.#o
    const w = new RespWriter(256)
    if (o.password !== undefined && o.password !== '') {
      if (o.username !== undefined) w.command('AUTH', o.username, o.password)
      else w.command('AUTH', o.password)
    }
    if (o.db !== 0) w.command('SELECT', o.db)
    w.command('CLIENT', 'SETNAME', o.name)
    let replies: Reply[]
    try {
      replies = await this.#send(socket, w.bytes(), w.count)
    } catch {
      return // the close handler reconnects
    }
    if (socket !== this.#socket) return
    const failed = replies.find(
      (r): r is ReplyError => r instanceof ReplyError && !NO_PASSWORD_SET.test(r.message),
    )
    if (failed !== undefined) {
      this.#on.error(failed)
      socket.destroy()
      return
    }
    clearTimeout(this.#connectTimer)
    if (this.#status === 'end') return
    this.#attempt = 0
    this.#status = 'ready'
    this.#on.ready()
  }

  #reply(reply: Reply): void {
    const batch = this.#batches[0]
    if (batch === undefined) return
    batch.replies.push(reply)
    if (batch.replies.length < batch.n) {
      this.#idle?.refresh()
      return
    }
    this.#batches.shift()
    if (this.#batches.length === 0) clearTimeout(this.#idle)
    else this.#idle?.refresh()
    batch.resolve(batch.replies)
  }

  /** Drops a connection that has commands waiting and sends nothing back (a hung server). */
  #idleTimer(): void {
    clearTimeout(this.#idle)
    const socket = this.#socket
    this.#idle = setTimeout(() => {
      if (this.#batches.length === 0 || socket !== this.#socket) return
      this.#on.error(new Error(`no reply within ${this.#o.socketTimeoutMs} ms; reconnecting`))
      socket?.destroy()
    }, this.#o.socketTimeoutMs)
    this.#idle.unref()
  }

  #closed(socket: net.Socket): void {
    if (socket !== this.#socket) return
    this.#drop(new Error('Connection is closed.'))
    this.#on.close()
    if (this.#status === 'end') return
    this.#status = 'reconnecting'
    const delay = this.#o.retryDelay(++this.#attempt)
    // Waiting to reconnect does not keep the process alive by itself.
    this.#retry = setTimeout(() => {
      if (this.#status !== 'end') this.#open()
    }, delay).unref()
  }

  /** Forgets the socket and fails every pipeline waiting on it. */
  #drop(err: Error): void {
    clearTimeout(this.#connectTimer)
    clearTimeout(this.#idle)
    const socket = this.#socket
    this.#socket = undefined
    socket?.destroy()
    this.#parser.reset()
    for (const b of this.#batches.splice(0)) b.reject(err)
  }
}

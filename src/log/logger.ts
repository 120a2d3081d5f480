/**
 * Structured JSON logs, one object per line on stderr. LOG_LEVEL accepts DEBUG, INFO, WARN/WARNING, ERROR
 * (the seeds use both spellings). Secrets never reach here: config redacts them before logging.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(bindings: Record<string, unknown>): Logger
  readonly level: LogLevel
}

export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  switch ((text ?? '').trim().toLowerCase()) {
    case 'debug':
      return 'debug'
    case 'info':
      return 'info'
    case 'warn':
    case 'warning':
      return 'warn'
    case 'error':
      return 'error'
    default:
      return undefined
  }
}

export interface LoggerOptions {
  level?: LogLevel
  bindings?: Record<string, unknown>
  write?: (line: string) => void
}

function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err
  const out: Record<string, unknown> = { name: err.name, message: err.message }
  const code = (err as { code?: unknown }).code
  if (code !== undefined) out.code = code
  if (err.cause !== undefined) out.cause = serializeError(err.cause)
  return out
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLogLevel(process.env.LOG_LEVEL) ?? 'info'
  const bindings = options.bindings ?? {}
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const threshold = ORDER[level]
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < threshold) return
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg, ...bindings }
    if (fields) for (const [k, v] of Object.entries(fields)) entry[k] = serializeError(v)
    write(JSON.stringify(entry))
  }
  return {
    level,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (b) => createLogger({ level, bindings: { ...bindings, ...b }, write }),
  }
}

/** A logger that drops everything (tests, the demo's quiet mode). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} })

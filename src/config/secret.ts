/**
 * A secret that never prints: `String(s)`, `${s}`, `JSON.stringify`, `util.inspect` and `console.log` all
 * give '[redacted]'. Only `reveal()` returns the value, so every place that uses one is easy to grep.
 */
export const REDACTED = '[redacted]'

export class Secret {
  readonly #value: string

  constructor(value: string) {
    this.#value = value
  }

  /** The value itself: pass it straight to the client that needs it; never log it. */
  reveal(): string {
    return this.#value
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [Symbol.toPrimitive](): string {
    return REDACTED
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED
  }
}

/** Variable and option names whose plain-string values are treated as secret too (defence in depth). */
export const SECRET_NAME = /pass(word|wd)?($|_)|secret|token|salt|credential|private|api_?key|auth/i

/** `postgres://user:pw@host/db` → `postgres://user:[redacted]@host/db`; other strings unchanged. */
export function redactUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/i, `$1:${REDACTED}@`)
}

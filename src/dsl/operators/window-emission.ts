import type { RawRecord } from '../../core/record.ts'
import type { RecordContext } from '../../runtime/processor.ts'
import type { Release, WindowOutput, WindowPartition } from './window-partition.ts'

export const NO_HEADERS = Object.freeze({})

/** Counts what an emission still waits for (async downstream steps, holds); runs `done` at zero. */
export class Emission {
  #pending = 1
  readonly #done: () => void

  constructor(done: () => void) {
    this.#done = done
  }

  await(p: Promise<unknown>): void {
    this.#pending++
    p.then(
      () => this.release(),
      () => this.release(),
    )
  }

  hold(): Release {
    this.#pending++
    let released = false
    return () => {
      if (released) return
      released = true
      this.release()
    }
  }

  release(): void {
    if (--this.#pending === 0) this.#done()
  }
}

/**
 * The context of a result emitted when a window closes. It stands for the window, not one input:
 * a downstream hold delays the window's clean-up (and, without a changelog, the release of its inputs),
 * and a downstream failure dead-letters the result itself.
 */
export class CloseContext implements RecordContext {
  readonly attempt = 1
  readonly #operator: string
  readonly #output: WindowOutput
  readonly #partition: number
  readonly #topic: string
  readonly #offset: number
  readonly #emission: Emission
  #raw: RawRecord | undefined

  constructor(operator: string, output: WindowOutput, part: WindowPartition<unknown>, emission: Emission) {
    this.#operator = operator
    this.#output = output
    this.#partition = part.partition
    this.#topic = part.lastTopic || operator
    this.#offset = part.lastOffset
    this.#emission = emission
  }

  get raw(): RawRecord {
    const o = this.#output
    this.#raw ??= {
      topic: this.#topic,
      partition: this.#partition,
      offset: this.#offset,
      key: Buffer.from(typeof o.key === 'string' ? o.key : (JSON.stringify(o.key) ?? ''), 'utf8'),
      value: Buffer.from(
        JSON.stringify({ key: o.key, start: o.start, end: o.end, value: o.value, operator: this.#operator }),
        'utf8',
      ),
      headers: NO_HEADERS,
      timestamp: o.timestamp,
    }
    return this.#raw
  }

  hold(): Release {
    return this.#emission.hold()
  }
}

export function timerContext(operator: string): RecordContext {
  return {
    raw: {
      topic: operator,
      partition: -1,
      offset: -1,
      key: null,
      value: null,
      headers: NO_HEADERS,
      timestamp: 0,
    },
    attempt: 1,
    hold: () => () => {},
  }
}

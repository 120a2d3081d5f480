import type { RedisMessage } from '../../connectors/redis/index.ts'
import type { Cancel, Clock } from '../../core/clock.ts'
import type { Counter, Labels } from '../../core/metrics.ts'
import type { RawRecord, TopicPartition } from '../../core/record.ts'
import { Emission } from '../../dsl/operators/window-emission.ts'
import {
  type AnyRecord,
  type Emit,
  isPromise,
  type Processor,
  type ProcessorInit,
  type RecordContext,
} from '../../runtime/processor.ts'
import { driverOf } from './check.ts'
import { bridgeMessageJson, TOPIC_ROUTES } from './domain/index.ts'
import { EveryNthPerDriver } from './gps-sample.ts'
import type { JsonText } from './json-text.ts'
import type { BridgeCounters } from './metrics.ts'

export interface GpsWindowOptions {
  readonly name: string
  /** The GPS topic as read (with its prefix). */
  readonly topic: string
  /** Window length; windows are aligned to the epoch and close on the wall clock. */
  readonly sizeMs: number
  readonly strategy: 'latest' | 'sample'
  /** `sample`: keep every Nth ping of each driver. */
  readonly sampleRate: number
  readonly counters: BridgeCounters
}

/** How long a driver's sample counter lives without pings. */
const SAMPLE_COUNTER_TTL_MS = 10 * 60_000
const CHANNEL = TOPIC_ROUTES.gps_pings.channel
const NO_HEADERS = Object.freeze({})

/** The newest ping of one driver in the open window. */
interface Latest {
  key: string | null
  text: string
  timestamp: number
  partition: number
  offset: number
}

/**
 * The seed's GPSHandler: GPS pings buffered per driver and flushed on the wall clock, one update per
 * driver per window: its most recent ping (`latest`), or the most recent of its pings sampled 1 in N
 * (`sample`). A ping's payload is kept as the text it arrived in and published unchanged.
 *
 * Offsets: the first ping of each partition in a window holds its offset uncommitted until the window
 * is emitted (every later ping of that partition sits above it), so nothing is committed past a ping
 * whose update has not been handed to the sink; the checkpoint flushes the sink before it commits.
 * The state is memory-only, as the seed's was: after a crash the uncommitted pings are read again.
 */
export class GpsWindow implements Processor {
  readonly name: string
  readonly #o: GpsWindowOptions
  readonly #sample: EveryNthPerDriver | undefined
  #latest = new Map<string, Latest>()
  /** One hold per partition with a ping in the open window. */
  #holds = new Map<number, () => void>()
  #clock!: Clock
  #emit!: Emit
  #timers: Cancel[] = []
  #end = 0
  #emitted!: Counter
  readonly #labels: Labels

  constructor(options: GpsWindowOptions) {
    this.name = options.name
    this.#o = options
    this.#labels = { operator: options.name }
    this.#sample =
      options.strategy === 'sample'
        ? new EveryNthPerDriver(options.sampleRate, SAMPLE_COUNTER_TTL_MS)
        : undefined
  }

  init(init: ProcessorInit): void {
    this.#clock = init.clock
    this.#emit = init.emit
    this.#emitted = init.metrics.counter('weir_window_results_total', 'Window results emitted')
    const size = this.#o.sizeMs
    this.#end = (Math.floor(init.clock.now() / size) + 1) * size
    this.#schedule()
    const sample = this.#sample
    if (sample !== undefined)
      this.#timers.push(init.clock.setInterval(() => sample.expire(this.#clock.now()), 60_000))
  }

  process(record: AnyRecord, ctx: RecordContext): void {
    const ping = record.value as JsonText
    const driver = driverOf(ping.value)
    this.#o.counters.gpsReceived()
    if (this.#sample !== undefined && !this.#sample.take(driver, this.#clock.now())) return
    const latest = this.#latest.get(driver)
    if (latest === undefined) {
      this.#latest.set(driver, {
        key: record.key,
        text: ping.text,
        timestamp: record.timestamp,
        partition: record.partition,
        offset: record.offset,
      })
    } else {
      latest.key = record.key
      latest.text = ping.text
      latest.timestamp = record.timestamp
      latest.partition = record.partition
      latest.offset = record.offset
    }
    if (!this.#holds.has(record.partition)) this.#holds.set(record.partition, ctx.hold())
  }

  /** A partition leaves: the open window is emitted now, so its pings' offsets can be committed. */
  revoked(partitions: readonly TopicPartition[]): void {
    if (partitions.some((tp) => tp.topic === this.#o.topic && this.#holds.has(tp.partition))) this.#flush()
  }

  /** Clean shutdown: the open window goes out before the final checkpoint. */
  drain(): void {
    this.#flush()
  }

  close(): void {
    for (const cancel of this.#timers) cancel()
  }

  /** One timer per window, at its end (a late timer closes the windows it missed at once). */
  #schedule(): void {
    const timer = this.#clock.setTimeout(
      () => {
        this.#timers = this.#timers.filter((t) => t !== timer)
        const now = this.#clock.now()
        if (now >= this.#end) {
          this.#flush()
          const size = this.#o.sizeMs
          this.#end = Math.max(this.#end + size, (Math.floor(now / size) + 1) * size)
        }
        this.#schedule()
      },
      Math.max(0, this.#end - this.#clock.now()),
    )
    this.#timers.push(timer)
  }

  /** Emits one update per driver of the open window, then releases the window's offsets. */
  #flush(): void {
    const latest = this.#latest
    const holds = this.#holds
    if (latest.size === 0 && holds.size === 0) return
    this.#latest = new Map()
    this.#holds = new Map()
    const emission = new Emission(() => {
      for (const release of holds.values()) release()
    })
    const topic = this.#o.topic
    for (const [driver, l] of latest) {
      const message: RedisMessage = {
        channel: CHANNEL,
        message: bridgeMessageJson('gps_pings', l.text, { key: l.key, timestamp: l.timestamp }),
      }
      const record: AnyRecord = {
        key: driver,
        value: message,
        headers: NO_HEADERS,
        timestamp: l.timestamp,
        topic,
        partition: l.partition,
        offset: l.offset,
      }
      const r = this.#emit(record, new UpdateContext(record, emission))
      if (isPromise(r)) emission.await(r)
    }
    const n = latest.size
    if (n > 0) {
      this.#o.counters.gpsEmitted(n)
      this.#o.counters.routed(CHANNEL, n)
      this.#emitted.inc(this.#labels, n)
    }
    emission.release()
  }
}

/** The context of one update: a downstream failure dead-letters the update itself. */
class UpdateContext implements RecordContext {
  readonly attempt = 1
  readonly #record: AnyRecord
  readonly #emission: Emission

  constructor(record: AnyRecord, emission: Emission) {
    this.#record = record
    this.#emission = emission
  }

  get raw(): RawRecord {
    const r = this.#record
    return {
      ...r,
      key: r.key === null ? null : Buffer.from(String(r.key), 'utf8'),
      value: Buffer.from((r.value as RedisMessage).message),
    }
  }

  hold(): () => void {
    return this.#emission.hold()
  }
}

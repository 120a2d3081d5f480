/**
 * Temporal context of an event in a time zone (Asia/Dhaka by default): hour, weekday, Bangladesh's
 * climate season, business hours and weekend. Bangladesh's weekend is Friday and Saturday, and that is
 * the default; `weekend` takes any days (`['sat', 'sun']` for the convention of the seed's Python,
 * `datetime.weekday() >= 5`).
 *
 * @example
 * const t = temporalContext(Date.parse('2025-12-19T04:00:00Z'))
 * // { hour: 10, day_of_week: 'friday', season: 'winter', is_business_hours: true, is_weekend: true, … }
 */
export const WEEKDAYS = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
] as const
export type Weekday = (typeof WEEKDAYS)[number]
export type Season = 'winter' | 'summer' | 'monsoon' | 'autumn'

export interface TemporalOptions {
  /** IANA time zone. Default `Asia/Dhaka`. */
  readonly timeZone?: string
  /** Weekend days. Default Friday and Saturday (Bangladesh). */
  readonly weekend?: readonly Weekday[]
  /** Business hours [start, end): default 9–17. */
  readonly businessHours?: readonly [number, number]
}

export interface TemporalContext {
  readonly hour: number
  readonly day_of_week: Weekday
  readonly month: number
  readonly season: Season
  readonly is_business_hours: boolean
  readonly is_weekend: boolean
  readonly local_time: string
  readonly time_zone: string
}

/** Bangladesh's climate seasons: winter Dec–Feb, summer Mar–May, monsoon Jun–Sep, autumn Oct–Nov. */
export function seasonOf(month: number): Season {
  if (month === 12 || month <= 2) return 'winter'
  if (month <= 5) return 'summer'
  if (month <= 9) return 'monsoon'
  return 'autumn'
}

const HOUR_MS = 3_600_000

interface LocalTime {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
  readonly weekday: Weekday
}

/**
 * A time zone's wall clock. Reading it through Intl (formatToParts) costs ~5 µs, the largest single cost
 * of enriching a record, so the zone's UTC offset is remembered per UTC hour and the fields are computed
 * from it: an hour whose first and last millisecond have the same offset has that offset throughout
 * (no zone changes its offset twice within an hour). An hour with a transition in it, and years outside
 * 1000–9999 (which Intl prints differently), are read through Intl record by record.
 */
class ZoneClock {
  readonly #format: Intl.DateTimeFormat
  /** UTC hour → the zone's offset in ms, or null when the offset changes within that hour. */
  readonly #offsets = new Map<number, number | null>()

  constructor(timeZone: string) {
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'long',
    })
  }

  at(epochMs: number): LocalTime {
    const hour = Math.floor(epochMs / HOUR_MS)
    let offset = this.#offsets.get(hour)
    if (offset === undefined) {
      const first = this.#offsetAt(hour * HOUR_MS)
      const last = this.#offsetAt(hour * HOUR_MS + HOUR_MS - 1)
      offset = first !== undefined && first === last ? first : null
      // Event times of a stream cluster; the bound only matters for a stream spanning centuries.
      if (this.#offsets.size >= 10_000) this.#offsets.clear()
      this.#offsets.set(hour, offset)
    }
    if (offset === null) return this.#read(epochMs)
    const local = new Date(epochMs + offset)
    return {
      year: local.getUTCFullYear(),
      month: local.getUTCMonth() + 1,
      day: local.getUTCDate(),
      hour: local.getUTCHours(),
      minute: local.getUTCMinutes(),
      second: local.getUTCSeconds(),
      weekday: WEEKDAYS[local.getUTCDay()] as Weekday,
    }
  }

  /** Local minus UTC at an instant, in ms; undefined outside the years the fast path covers. */
  #offsetAt(epochMs: number): number | undefined {
    const t = this.#read(epochMs)
    if (t.year < 1000 || t.year > 9999) return undefined
    const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second)
    return wall - Math.floor(epochMs / 1000) * 1000
  }

  #read(epochMs: number): LocalTime {
    const parts: Record<string, string> = {}
    for (const p of this.#format.formatToParts(epochMs)) parts[p.type] = p.value
    return {
      year: Number(parts.year),
      month: Number(parts.month),
      day: Number(parts.day),
      hour: Number(parts.hour),
      minute: Number(parts.minute),
      second: Number(parts.second),
      weekday: (parts.weekday ?? '').toLowerCase() as Weekday,
    }
  }
}

const clocks = new Map<string, ZoneClock>()

function clockOf(timeZone: string): ZoneClock {
  let c = clocks.get(timeZone)
  if (c === undefined) {
    c = new ZoneClock(timeZone)
    clocks.set(timeZone, c)
  }
  return c
}

/** Throws a RangeError naming the zone if it is not a valid IANA time zone. */
export function checkTimeZone(timeZone: string): void {
  clockOf(timeZone)
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`)

export function temporalContext(epochMs: number, options: TemporalOptions = {}): TemporalContext {
  const timeZone = options.timeZone ?? 'Asia/Dhaka'
  const weekend = options.weekend ?? ['friday', 'saturday']
  const [open, close] = options.businessHours ?? [9, 17]
  const t = clockOf(timeZone).at(epochMs)
  const isWeekend = weekend.includes(t.weekday)
  return {
    hour: t.hour,
    day_of_week: t.weekday,
    month: t.month,
    season: seasonOf(t.month),
    is_business_hours: t.hour >= open && t.hour < close && !isWeekend,
    is_weekend: isWeekend,
    local_time: `${t.year}-${pad2(t.month)}-${pad2(t.day)}T${pad2(t.hour)}:${pad2(t.minute)}:${pad2(t.second)}`,
    time_zone: timeZone,
  }
}

/** `fri,sat` / `friday, saturday` → weekdays; undefined for an unknown name. */
export function parseWeekdays(list: readonly string[]): Weekday[] | undefined {
  const out: Weekday[] = []
  for (const item of list) {
    const d = WEEKDAYS.find((w) => w.startsWith(item.trim().toLowerCase()) && item.trim().length >= 2)
    if (d === undefined) return undefined
    out.push(d)
  }
  return out
}

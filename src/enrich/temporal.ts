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

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
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
    formatters.set(timeZone, f)
  }
  return f
}

/** Throws a RangeError naming the zone if it is not a valid IANA time zone. */
export function checkTimeZone(timeZone: string): void {
  formatter(timeZone)
}

export function temporalContext(epochMs: number, options: TemporalOptions = {}): TemporalContext {
  const timeZone = options.timeZone ?? 'Asia/Dhaka'
  const weekend = options.weekend ?? ['friday', 'saturday']
  const [open, close] = options.businessHours ?? [9, 17]
  const parts: Record<string, string> = {}
  for (const p of formatter(timeZone).formatToParts(epochMs)) parts[p.type] = p.value
  const hour = Number(parts.hour)
  const month = Number(parts.month)
  const day = (parts.weekday ?? '').toLowerCase() as Weekday
  return {
    hour,
    day_of_week: day,
    month,
    season: seasonOf(month),
    is_business_hours: hour >= open && hour < close && !weekend.includes(day),
    is_weekend: weekend.includes(day),
    local_time: `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`,
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

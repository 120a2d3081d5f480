/**
 * OpenWeatherMap's current-weather API (`GET {url}?lat=…&lon=…&appid=…&units=metric`), or anything that
 * answers in its shape. One call, with a timeout; the answer is reduced to the seed's fields.
 *
 * @example
 * const w = await fetchWeather({ url: 'https://api.openweathermap.org/data/2.5/weather', apiKey }, 'Dhaka')
 * // { city: 'Dhaka', temperature: 24.1, humidity: 61, conditions: 'Haze', wind_speed: 2.1, is_extreme_weather: false, … }
 */
import { CITIES, type City } from './cities.ts'

export interface WeatherApiOptions {
  readonly url: string
  readonly apiKey: string
  /** Per request. Default 3,000 ms. */
  readonly timeoutMs?: number
}

export interface Weather {
  readonly city: City
  /** °C */
  readonly temperature: number
  readonly feels_like: number | null
  /** % */
  readonly humidity: number
  readonly conditions: string
  readonly description: string | null
  /** m/s */
  readonly wind_speed: number
  readonly is_extreme_weather: boolean
  /** When the service measured it (ISO). */
  readonly observed_at: string | null
}

/** What the call failed with: the enricher puts it in `weather_error` and counts it. */
export class WeatherApiError extends Error {
  readonly reason: 'timeout' | 'http_error' | 'bad_response' | 'network'

  constructor(reason: WeatherApiError['reason'], message: string) {
    super(message)
    this.name = 'WeatherApiError'
    this.reason = reason
  }
}

const EXTREME_CONDITIONS = new Set(['Thunderstorm', 'Tornado', 'Squall', 'Ash', 'Dust', 'Sand'])

/** Heat above 38 °C, cold below 8 °C, wind above 17 m/s (gale) or a storm class of conditions. */
export function isExtreme(temperature: number, windSpeed: number, conditions: string): boolean {
  return temperature >= 38 || temperature <= 8 || windSpeed >= 17 || EXTREME_CONDITIONS.has(conditions)
}

interface OwmResponse {
  weather?: Array<{ main?: unknown; description?: unknown }>
  main?: { temp?: unknown; feels_like?: unknown; humidity?: unknown }
  wind?: { speed?: unknown }
  dt?: unknown
}

export async function fetchWeather(options: WeatherApiOptions, city: City): Promise<Weather> {
  const { lat, lon } = CITIES[city]
  const url = new URL(options.url)
  url.searchParams.set('lat', String(lat))
  url.searchParams.set('lon', String(lon))
  url.searchParams.set('appid', options.apiKey)
  url.searchParams.set('units', 'metric')
  const timeoutMs = options.timeoutMs ?? 3000
  let res: Response
  try {
    res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    })
  } catch (err) {
    const e = err as Error
    if (e.name === 'TimeoutError' || e.name === 'AbortError')
      throw new WeatherApiError('timeout', `weather API did not answer within ${timeoutMs} ms`)
    throw new WeatherApiError(
      'network',
      `weather API unreachable: ${(e.cause as Error | undefined)?.message ?? e.message}`,
    )
  }
  let body: OwmResponse
  try {
    if (!res.ok) {
      await res.body?.cancel()
      throw new WeatherApiError('http_error', `weather API answered HTTP ${res.status}`)
    }
    body = (await res.json()) as OwmResponse
  } catch (err) {
    if (err instanceof WeatherApiError) throw err
    const e = err as Error
    if (e.name === 'TimeoutError' || e.name === 'AbortError')
      throw new WeatherApiError('timeout', `weather API did not finish within ${timeoutMs} ms`)
    throw new WeatherApiError('bad_response', `weather API answered with unreadable JSON: ${e.message}`)
  }
  const temperature = body.main?.temp
  const humidity = body.main?.humidity
  const conditions = body.weather?.[0]?.main
  if (typeof temperature !== 'number' || typeof humidity !== 'number' || typeof conditions !== 'string')
    throw new WeatherApiError(
      'bad_response',
      'weather API answer lacks main.temp, main.humidity or weather[0].main',
    )
  const wind = typeof body.wind?.speed === 'number' ? body.wind.speed : 0
  const feels = body.main?.feels_like
  const description = body.weather?.[0]?.description
  return {
    city,
    temperature,
    feels_like: typeof feels === 'number' ? feels : null,
    humidity,
    conditions,
    description: typeof description === 'string' ? description : null,
    wind_speed: wind,
    is_extreme_weather: isExtreme(temperature, wind, conditions),
    observed_at: typeof body.dt === 'number' ? new Date(body.dt * 1000).toISOString() : null,
  }
}

/**
 * Weather for a city as the enricher needs it: from a short in-process memo, else the shared Redis cache
 * (30 minutes by default, so every instance shares one call per city), else one call to the API —
 * concurrent lookups of one city share it, calls are bounded by a limiter, cut by a timeout, and stopped
 * by a circuit breaker while the API keeps failing. It never throws: a failure gives `weather: null` and
 * a reason, so a record is never lost or held up by the weather.
 *
 * @example
 * const w = createWeatherService({ api: { url, apiKey }, cache: new RedisCache({ keyPrefix: 'mx:' }) })
 * const { weather, reason } = await w.lookup('Dhaka')
 */
import type { MetricsRegistry } from '../../core/metrics.ts'
import type { Logger } from '../../log/logger.ts'
import { CircuitBreaker } from '../breaker.ts'
import { Limiter } from '../limiter.ts'
import type { RedisCache } from '../redis-cache.ts'
import type { City } from './cities.ts'
import { fetchWeather, type Weather, WeatherApiError, type WeatherApiOptions } from './client.ts'

export type WeatherMissReason =
  | 'no_city'
  | 'no_api_key'
  | 'circuit_open'
  | 'timeout'
  | 'http_error'
  | 'bad_response'
  | 'network'

export interface WeatherLookup {
  readonly weather: Weather | null
  readonly reason?: WeatherMissReason
  readonly source?: 'memory' | 'redis' | 'api'
}

export interface WeatherServiceOptions {
  /** Without an API key every lookup is `no_api_key` (the enricher still runs). */
  readonly api: Omit<WeatherApiOptions, 'apiKey'> & { readonly apiKey: string | undefined }
  readonly cache?: RedisCache
  /** Seconds in Redis. Default 1,800 (the seed's 30 minutes). */
  readonly cacheTtlSeconds?: number
  /** Milliseconds in this process's memo in front of Redis. Default 10,000. */
  readonly memoryTtlMs?: number
  /** API calls at once. Default 4. */
  readonly maxConcurrency?: number
  readonly breaker?: { readonly failureThreshold?: number; readonly cooldownMs?: number }
  readonly metrics?: MetricsRegistry
  readonly logger?: Logger
  readonly now?: () => number
}

export interface WeatherStats {
  readonly lookups: number
  readonly cache_hits: number
  readonly cache_misses: number
  readonly cache_hit_rate: number
  readonly api_calls: number
  readonly api_errors: number
  readonly api_errors_by_reason: Readonly<Record<string, number>>
  readonly circuit_state: string
  readonly circuit_opens: number
  readonly cache_errors: number
}

export interface WeatherService {
  lookup(city: City | undefined): Promise<WeatherLookup>
  /**
   * The answer if it is known without waiting (no city, no API key, or the city in this process's memo),
   * else undefined: then `lookup` asks Redis or the API. Counted as a lookup only when it answers.
   */
  lookupNow(city: City | undefined): WeatherLookup | undefined
  stats(): WeatherStats
  readonly breaker: CircuitBreaker
}

const NO_CITY: WeatherLookup = Object.freeze({ weather: null, reason: 'no_city' })
const NO_API_KEY: WeatherLookup = Object.freeze({ weather: null, reason: 'no_api_key' })

export function createWeatherService(options: WeatherServiceOptions): WeatherService {
  const now = options.now ?? Date.now
  const ttl = options.cacheTtlSeconds ?? 1800
  const memoryTtl = options.memoryTtlMs ?? 10_000
  const limiter = new Limiter(options.maxConcurrency ?? 4)
  const breaker = new CircuitBreaker({
    failureThreshold: options.breaker?.failureThreshold ?? 5,
    cooldownMs: options.breaker?.cooldownMs ?? 30_000,
    now,
  })
  // Each entry keeps its answer ready: a hit allocates nothing.
  const memo = new Map<City, { answer: WeatherLookup; until: number }>()
  const inFlight = new Map<City, Promise<WeatherLookup>>()
  const m = options.metrics
  const lookupsC = m?.counter('weather_lookups_total', 'Weather lookups by where the answer came from')
  const apiCallsC = m?.counter('weather_api_calls_total', 'Calls to the weather API')
  const apiErrorsC = m?.counter('weather_api_errors_total', 'Failed weather API calls, by reason')
  let lookups = 0
  let hits = 0
  let misses = 0
  let apiCalls = 0
  let apiErrors = 0
  let cacheErrors = 0
  const errorsByReason: Record<string, number> = {}

  const counted = (r: WeatherLookup): WeatherLookup => {
    lookupsC?.inc({ source: r.source ?? r.reason ?? 'none' })
    return r
  }

  async function fromCache(city: City): Promise<Weather | undefined> {
    if (options.cache === undefined || !options.cache.connected) return undefined
    try {
      const text = await options.cache.get(`weather:${city.toLowerCase()}`)
      return text === undefined ? undefined : (JSON.parse(text) as Weather)
    } catch {
      cacheErrors++
      return undefined
    }
  }

  async function fromApi(city: City, apiKey: string): Promise<WeatherLookup> {
    if (!breaker.allow()) return { weather: null, reason: 'circuit_open' }
    apiCalls++
    apiCallsC?.inc()
    try {
      const weather = await limiter.run(() => fetchWeather({ ...options.api, apiKey }, city))
      breaker.success()
      memo.set(city, { answer: { weather, source: 'memory' }, until: now() + memoryTtl })
      if (options.cache?.connected)
        await options.cache.set(`weather:${city.toLowerCase()}`, JSON.stringify(weather), ttl).catch(() => {
          cacheErrors++
        })
      return { weather, source: 'api' }
    } catch (err) {
      breaker.failure()
      apiErrors++
      const reason = err instanceof WeatherApiError ? err.reason : 'network'
      errorsByReason[reason] = (errorsByReason[reason] ?? 0) + 1
      apiErrorsC?.inc({ reason })
      options.logger?.debug('weather API call failed', { city, reason, error: (err as Error).message })
      return { weather: null, reason }
    }
  }

  async function load(city: City, apiKey: string): Promise<WeatherLookup> {
    const cached = await fromCache(city)
    if (cached !== undefined) {
      hits++
      memo.set(city, { answer: { weather: cached, source: 'memory' }, until: now() + memoryTtl })
      return { weather: cached, source: 'redis' }
    }
    misses++
    return fromApi(city, apiKey)
  }

  const lookupNow = (city: City | undefined): WeatherLookup | undefined => {
    let answer: WeatherLookup | undefined
    if (city === undefined) answer = NO_CITY
    else {
      const mem = memo.get(city)
      if (mem !== undefined && mem.until > now()) {
        hits++
        answer = mem.answer
      } else if (!options.api.apiKey) answer = NO_API_KEY
    }
    if (answer === undefined) return undefined
    lookups++
    return counted(answer)
  }

  return {
    breaker,
    lookupNow,
    async lookup(city) {
      const known = lookupNow(city)
      if (known !== undefined) return known
      lookups++
      // lookupNow answered every lookup without a city or without a key.
      const c = city as City
      const apiKey = options.api.apiKey as string
      let p = inFlight.get(c)
      if (p === undefined) {
        p = load(c, apiKey).finally(() => inFlight.delete(c))
        inFlight.set(c, p)
      } else hits++ // shares a lookup already under way
      return counted(await p)
    },
    stats() {
      const looked = hits + misses
      return {
        lookups,
        cache_hits: hits,
        cache_misses: misses,
        cache_hit_rate: looked === 0 ? 0 : Math.round((10_000 * hits) / looked) / 100,
        api_calls: apiCalls,
        api_errors: apiErrors,
        api_errors_by_reason: { ...errorsByReason },
        circuit_state: breaker.state,
        circuit_opens: breaker.opens,
        cache_errors: cacheErrors,
      }
    },
  }
}

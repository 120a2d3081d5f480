/** Context enrichment parts (the MillionX context enricher's core): category, temporal context, weather. */
export { type BreakerOptions, type BreakerState, CircuitBreaker } from './breaker.ts'
export { type CategoryResult, classifyProduct, ENRICH_CATEGORIES, type EnrichCategory } from './category.ts'
export { Limiter } from './limiter.ts'
export { RedisCache, type RedisCacheOptions } from './redis-cache.ts'
export {
  checkTimeZone,
  parseWeekdays,
  type Season,
  seasonOf,
  type TemporalContext,
  type TemporalOptions,
  temporalContext,
  WEEKDAYS,
  type Weekday,
} from './temporal.ts'
export { CITIES, type City, findCity } from './weather/cities.ts'
export {
  fetchWeather,
  isExtreme,
  type Weather,
  WeatherApiError,
  type WeatherApiOptions,
} from './weather/client.ts'
export {
  createWeatherService,
  type WeatherLookup,
  type WeatherMissReason,
  type WeatherService,
  type WeatherServiceOptions,
  type WeatherStats,
} from './weather/service.ts'

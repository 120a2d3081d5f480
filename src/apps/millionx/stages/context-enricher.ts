/**
 * Stage: the context enricher (seed 004, port 6067). `enriched.{social,market}.anonymized` →
 * `enriched.{social,market}.contextualized`, each record with
 * - `product_context`: category (smartphone, laptop, fashion, electronics, home, general) by keywords,
 *   English, Bangla and Banglish, with a confidence;
 * - `weather`: the record's city's current weather from an OpenWeatherMap-shaped API, cached in Redis for
 *   WEATHER_CACHE_TTL (30 min) and shared by every instance; `null` with `weather_unavailable_reason`
 *   when there is no city, no key, or the API fails (timeout, circuit open): the record goes on regardless;
 * - `temporal_context`: hour, weekday, Bangladesh season, business hours, weekend (Friday–Saturday by
 *   default, WEEKEND_DAYS) in TIMEZONE (Asia/Dhaka).
 */
import { z } from 'zod'
import {
  envDuration,
  envInt,
  envList,
  envSecret,
  envString,
  envUrl,
  loadConfig,
} from '../../../config/index.ts'
import { ErrorCode, WeirError } from '../../../core/errors.ts'
import { bytes, json } from '../../../core/serde.ts'
import { pipeline } from '../../../dsl/stream.ts'
import {
  checkTimeZone,
  classifyProduct,
  createWeatherService,
  findCity,
  parseWeekdays,
  RedisCache,
  temporalContext,
  type WeatherLookup,
  type Weekday,
} from '../../../enrich/index.ts'
import { latencyMs } from '../../../ops/index.ts'
import type { AppContext, AppInstance, WeirApp } from '../../app.ts'
import { type SourceKind, STAGE_TOPICS } from '../domain/index.ts'
import { joinChain, stageCounts } from './chain.ts'
import { sharedEnvDocs, sharedEnvFields, stageKafka, stageRun, uptimeSeconds } from './common.ts'
import { enricherPanel, stageView } from './views.ts'

export const ENRICHMENT_VERSION = '1.0'

export const contextEnricherEnv = z
  .object({
    ...sharedEnvFields,
    REDIS_HOST: envString({ default: 'localhost' }),
    REDIS_PORT: envInt({ default: 6379, min: 1, max: 65535 }),
    REDIS_PASSWORD: envSecret({ optional: true }),
    REDIS_DB: envInt({ default: 0, min: 0, max: 15 }),
    CACHE_KEY_PREFIX: envString({ default: 'millionx:' }),
    WEATHER_API_URL: envUrl({
      default: 'https://api.openweathermap.org/data/2.5/weather',
      protocols: ['http:', 'https:'],
    }),
    WEATHER_API_KEY: envSecret({ optional: true }),
    WEATHER_CACHE_TTL: envDuration({ default: '30m', min: 1000, max: 86_400_000 }),
    WEATHER_TIMEOUT: envDuration({ default: '3s', min: 50, max: 60_000 }),
    WEATHER_MAX_CONCURRENCY: envInt({ default: 4, min: 1, max: 256 }),
    WEATHER_BREAKER_THRESHOLD: envInt({ default: 5, min: 1, max: 1000 }),
    WEATHER_BREAKER_COOLDOWN: envDuration({ default: '30s', min: 100, max: 3_600_000 }),
    TIMEZONE: envString({ default: 'Asia/Dhaka' }),
    WEEKEND_DAYS: envList({ default: ['fri', 'sat'] }),
    BUSINESS_HOURS: envString({
      default: '9-17',
      pattern: /^\d{1,2}-\d{1,2}$/,
      patternDescription: 'start-end hours like 9-17',
    }),
    ENRICH_CONCURRENCY: envInt({ default: 64, min: 1, max: 10_000 }),
    KAFKA_GROUP_ID: envString({ default: 'millionx-context-enricher' }),
    KAFKA_CLIENT_ID: envString({ default: 'millionx-context-enricher' }),
    DLQ_TOPIC: envString({ default: 'context-enricher-errors' }),
    WEB_PORT: envInt({ default: 6067, min: 0, max: 65535 }),
  })
  .superRefine((c, ctx) => {
    if (parseWeekdays(c.WEEKEND_DAYS) === undefined)
      ctx.addIssue({ code: 'custom', path: ['WEEKEND_DAYS'], message: 'expected weekday names like fri,sat' })
    try {
      checkTimeZone(c.TIMEZONE)
    } catch {
      ctx.addIssue({
        code: 'custom',
        path: ['TIMEZONE'],
        message: `expected an IANA time zone like Asia/Dhaka, got "${c.TIMEZONE}"`,
      })
    }
    const [open, close] = c.BUSINESS_HOURS.split('-').map(Number) as [number, number]
    if (!(open < close && close <= 24))
      ctx.addIssue({
        code: 'custom',
        path: ['BUSINESS_HOURS'],
        message: 'expected start < end ≤ 24, like 9-17',
      })
  })

type Json = Record<string, unknown>

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/** The text a category is read from: the product name of an order, the content and hashtags of a post. */
function productText(r: Json): string {
  const tags = Array.isArray(r.hashtags) ? r.hashtags.filter((t) => typeof t === 'string').join(' ') : ''
  return [str(r.product_name), str(r.category), str(r.content), tags].filter(Boolean).join(' ')
}

/** Event time: posted_at / order_date, else the Kafka timestamp. */
function eventTime(r: Json, fallback: number): number {
  const t = Date.parse(str(r.posted_at) ?? str(r.order_date) ?? '')
  return Number.isFinite(t) ? t : fallback
}

function create(ctx: AppContext): AppInstance {
  const config = loadConfig(contextEnricherEnv, ctx.env)
  const prefix = config.TOPIC_PREFIX
  const weekend = parseWeekdays(config.WEEKEND_DAYS) as Weekday[]
  const [open, close] = config.BUSINESS_HOURS.split('-').map(Number) as [number, number]
  const cache = new RedisCache(
    {
      host: config.REDIS_HOST,
      port: config.REDIS_PORT,
      password: config.REDIS_PASSWORD,
      db: config.REDIS_DB,
      keyPrefix: config.CACHE_KEY_PREFIX,
      name: 'millionx-context-enricher',
      // A cache that does not answer within a second is skipped (the API is asked), not waited on.
      flushTimeoutMs: 1000,
    },
    ctx.logger,
  )
  const weather = createWeatherService({
    api: {
      url: config.WEATHER_API_URL,
      apiKey: config.WEATHER_API_KEY?.reveal(),
      timeoutMs: config.WEATHER_TIMEOUT,
    },
    cache,
    cacheTtlSeconds: config.WEATHER_CACHE_TTL / 1000,
    maxConcurrency: config.WEATHER_MAX_CONCURRENCY,
    breaker: {
      failureThreshold: config.WEATHER_BREAKER_THRESHOLD,
      cooldownMs: config.WEATHER_BREAKER_COOLDOWN,
    },
    metrics: ctx.metrics,
    logger: ctx.logger,
  })
  if (config.WEATHER_API_KEY === undefined)
    ctx.logger.warn(
      'WEATHER_API_KEY is not set: records go on with weather null (weather_unavailable_reason: no_api_key)',
    )
  const latency = ctx.metrics.histogram(
    'enrichment_latency_seconds',
    'Time to enrich one record (weather lookup included)',
  )
  let enriched = 0
  const byCategory: Record<string, number> = {}
  const leaveChain = joinChain('context-enricher', stageCounts(ctx.metrics))

  const temporalOptions = { timeZone: config.TIMEZONE, weekend, businessHours: [open, close] as const }
  const p = pipeline('millionx-context-enricher')
  const kinds: SourceKind[] = ['social', 'market']
  for (const kind of kinds) {
    p.stream<unknown, Buffer | null>(prefix + STAGE_TOPICS.anonymized[kind], {
      key: bytes(),
      value: json<unknown>(),
      partitions: config.TOPIC_PARTITIONS,
    })
      .mapAsync(
        (value, record) => {
          if (value === null || typeof value !== 'object' || Array.isArray(value))
            throw new WeirError(ErrorCode.VALIDATION_FAILED, 'expected a JSON object')
          const started = performance.now()
          const r = value as Json
          const product = classifyProduct(productText(r))
          const city = findCity(
            str(r.shipping_city),
            str(r.location),
            str(r.shipping_address),
            str(r.content),
          )
          const finish = (w: WeatherLookup): Json => {
            const temporal = temporalContext(eventTime(r, record.timestamp), temporalOptions)
            latency.observe((performance.now() - started) / 1000)
            enriched++
            byCategory[product.category] = (byCategory[product.category] ?? 0) + 1
            // The value was parsed for this record alone (nothing else holds it): extend it, don't copy it.
            return Object.assign(r, {
              product_context: {
                category: product.category,
                confidence: product.confidence,
                keywords: product.matched,
              },
              city: city ?? null,
              weather: w.weather,
              ...(w.weather === null ? { weather_unavailable_reason: w.reason } : {}),
              temporal_context: temporal,
              _enriched: true,
              _enrichment_version: ENRICHMENT_VERSION,
              _enriched_at: new Date(ctx.clock.now()).toISOString(),
            })
          }
          // Most cities are in the weather memo: those records are enriched at once, with no promise.
          const known = weather.lookupNow(city)
          return known !== undefined ? finish(known) : weather.lookup(city).then(finish)
        },
        { name: `enrich-${kind}`, concurrency: config.ENRICH_CONCURRENCY, onError: () => 'dlq' },
      )
      .to(prefix + STAGE_TOPICS.contextualized[kind], {
        key: bytes(),
        partitions: config.TOPIC_PARTITIONS,
        name: `to-${kind}-contextualized`,
      })
  }

  return {
    pipeline: p,
    kafka: stageKafka(config, config.KAFKA_CLIENT_ID),
    http: { host: config.WEB_HOST, port: config.WEB_PORT, portVariable: 'WEB_PORT' },
    run: stageRun(config, {
      groupId: config.KAFKA_GROUP_ID,
      clientId: config.KAFKA_CLIENT_ID,
      deadLetterTopic: prefix + config.DLQ_TOPIC,
    }),
    components: () => ({
      redis: cache.connected
        ? { connected: true }
        : { connected: false, message: `redis ${cache.endpoint}: ${cache.lastError ?? 'connecting'}` },
      weather_api:
        weather.breaker.state === 'open'
          ? {
              connected: false,
              message: 'weather API circuit open after repeated failures; records go on with weather null',
            }
          : { connected: true },
    }),
    metricsJson(running) {
      const m = running.task.metrics
      const s = weather.stats()
      return {
        messages_enriched: enriched,
        cache_hit_rate: s.cache_hit_rate,
        weather_api_calls: s.api_calls,
        weather_api_errors: s.api_errors,
        enrichment_latency_ms: latencyMs(latency.summary()),
        weather: s,
        categories: { ...byCategory },
        redis_connected: cache.connected,
        dlq_sent: m.deadLettered.total(),
        messages_consumed: m.consumed.total(),
        messages_produced: m.produced.total(),
        consumer_lag: Object.fromEntries(running.lag()),
        state: running.status().state,
        uptime_seconds: uptimeSeconds(),
      }
    },
    views: [
      stageView('context-enricher', () =>
        enricherPanel(
          {
            enriched,
            redisConnected: cache.connected,
            latency: latency.summary(),
            categories: byCategory,
            weather: weather.stats(),
          },
          ctx.clock.now(),
        ),
      ),
    ],
    close: () => {
      leaveChain()
      return cache.close()
    },
  }
}

export const contextEnricherStage: WeirApp = {
  name: 'context-enricher',
  description:
    'MillionX context enricher (seed 004): enriched.*.anonymized → category, weather (Redis-cached), temporal context → enriched.*.contextualized',
  env: [
    ...sharedEnvDocs,
    { name: 'REDIS_HOST', default: 'localhost', description: 'Redis for the shared weather cache' },
    { name: 'REDIS_PORT', default: '6379', description: 'Redis port' },
    { name: 'REDIS_PASSWORD', description: 'Redis password, if it asks for one (or REDIS_PASSWORD_FILE)' },
    { name: 'REDIS_DB', default: '0', description: 'Redis database number' },
    {
      name: 'CACHE_KEY_PREFIX',
      default: 'millionx:',
      description: 'Prefix of the cache keys (weather:<city>)',
    },
    {
      name: 'WEATHER_API_URL',
      default: 'https://api.openweathermap.org/data/2.5/weather',
      description: 'OpenWeatherMap current-weather endpoint (or one answering in its shape)',
    },
    {
      name: 'WEATHER_API_KEY',
      description: 'OpenWeatherMap key (or WEATHER_API_KEY_FILE); unset: weather null',
    },
    { name: 'WEATHER_CACHE_TTL', default: '30m', description: 'How long a city’s weather stays in Redis' },
    { name: 'WEATHER_TIMEOUT', default: '3s', description: 'Per weather API call' },
    { name: 'WEATHER_MAX_CONCURRENCY', default: '4', description: 'Weather API calls at once' },
    {
      name: 'WEATHER_BREAKER_THRESHOLD',
      default: '5',
      description: 'Failures in a row that open the circuit',
    },
    {
      name: 'WEATHER_BREAKER_COOLDOWN',
      default: '30s',
      description: 'How long the circuit stays open before a trial',
    },
    { name: 'TIMEZONE', default: 'Asia/Dhaka', description: 'Time zone of the temporal context' },
    { name: 'WEEKEND_DAYS', default: 'fri,sat', description: 'Weekend days (Bangladesh: Friday–Saturday)' },
    { name: 'BUSINESS_HOURS', default: '9-17', description: 'Business hours, start-end (on weekdays)' },
    {
      name: 'ENRICH_CONCURRENCY',
      default: '64',
      description: 'Records enriched at once per stream (order kept)',
    },
    { name: 'KAFKA_GROUP_ID', default: 'millionx-context-enricher', description: 'Consumer group' },
    { name: 'KAFKA_CLIENT_ID', default: 'millionx-context-enricher', description: 'Client id' },
    {
      name: 'DLQ_TOPIC',
      default: 'context-enricher-errors',
      description: 'Records that are not JSON objects',
    },
    { name: 'WEB_PORT', default: '6067', description: 'Port of /health, /metrics and the dashboard' },
  ],
  create,
  // Posts and orders name people (before the privacy shield, and in what it may miss): no dead-letter
  // values on the dashboard unless OPS_SHOW_VALUES=true.
  personalData: true,
}

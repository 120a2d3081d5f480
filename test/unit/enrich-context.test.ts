import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import {
  CircuitBreaker,
  classifyProduct,
  createWeatherService,
  fetchWeather,
  findCity,
  Limiter,
  parseWeekdays,
  seasonOf,
  temporalContext,
  type WeatherApiError,
} from '../../src/enrich/index.ts'

describe('product category', () => {
  it('reads English, Bangla and Banglish terms, with a confidence', () => {
    assert.equal(classifyProduct('Samsung Galaxy A54 er dam koto?').category, 'smartphone')
    assert.equal(classifyProduct('নতুন ফোন কিনলাম').category, 'smartphone')
    assert.equal(classifyProduct('HP Pavilion 15 laptop, core i5').category, 'laptop')
    assert.equal(classifyProduct('Jamdani Saree for Eid').category, 'fashion')
    assert.equal(classifyProduct('পাঞ্জাবি sale').category, 'fashion')
    assert.equal(classifyProduct('JBL Tune 510BT headphones').category, 'electronics')
    assert.equal(classifyProduct('Miyako Rice Cooker 1.8L').category, 'home')
    const none = classifyProduct('Eid Mubarak everyone')
    assert.deepEqual(none, { category: 'general', confidence: 0.3, matched: [] })
  })

  it('is surer with strong, unanimous evidence than with a weak or mixed one', () => {
    const strong = classifyProduct('iPhone 15 smartphone, best mobile')
    const weak = classifyProduct('new watch')
    const mixed = classifyProduct('phone and laptop bundle')
    assert.ok(strong.confidence > weak.confidence)
    assert.ok(strong.confidence > mixed.confidence)
    assert.ok(strong.confidence < 1 && weak.confidence > 0)
  })
})

describe('temporal context', () => {
  it('is in Dhaka time; Friday and Saturday are the weekend by default', () => {
    // 2025-12-19 is a Friday; 04:00 UTC is 10:00 in Dhaka.
    const t = temporalContext(Date.parse('2025-12-19T04:00:00Z'))
    assert.equal(t.hour, 10)
    assert.equal(t.day_of_week, 'friday')
    assert.equal(t.season, 'winter')
    assert.equal(t.is_weekend, true)
    assert.equal(t.is_business_hours, false, 'not on the weekend')
    assert.equal(t.local_time, '2025-12-19T10:00:00')
    const sunday = temporalContext(Date.parse('2025-07-20T12:30:00Z'))
    assert.deepEqual(
      [sunday.day_of_week, sunday.hour, sunday.is_weekend, sunday.is_business_hours, sunday.season],
      ['sunday', 18, false, false, 'monsoon'],
    )
    const monday = temporalContext(Date.parse('2025-04-21T03:00:00Z'))
    assert.deepEqual([monday.hour, monday.is_business_hours, monday.season], [9, true, 'summer'])
  })

  it('reads the same wall clock as Intl in every zone, across offset changes', () => {
    // The offset is remembered per UTC hour; hours with a DST change in them (whole, half-hour and
    // 45-minute zones) and instants far apart must still read exactly what Intl reads.
    const zones = [
      'Asia/Dhaka',
      'America/New_York',
      'Europe/London',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'Pacific/Chatham',
      'America/St_Johns',
    ]
    const days = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']
    const instants: number[] = []
    let seed = 7
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let i = 0; i < 1500; i++)
      instants.push(Math.floor(Date.parse('1990-01-01T00:00:00Z') + random() * 45 * 365 * 86_400_000))
    // Every minute around 2025's transitions in these zones, and the instants either side of them.
    for (const around of [
      '2025-03-09T06:30:00Z',
      '2025-11-02T05:30:00Z',
      '2025-03-30T00:30:00Z',
      '2025-04-05T14:30:00Z',
      '2025-09-27T13:30:00Z',
    ])
      for (let m = -90; m <= 90; m++)
        instants.push(Date.parse(around) + m * 60_000 + (m % 2 === 0 ? 0 : 59_999))
    for (const timeZone of zones) {
      const intl = new Intl.DateTimeFormat('en-US', {
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
      for (const at of instants) {
        const p = Object.fromEntries(intl.formatToParts(at).map((x) => [x.type, x.value]))
        const t = temporalContext(at, { timeZone })
        const expected = `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`
        assert.equal(t.local_time, expected, `${timeZone} at ${new Date(at).toISOString()}`)
        assert.equal(t.day_of_week, p.weekday?.toLowerCase())
        assert.equal(t.hour, Number(p.hour))
        assert.ok(days.includes(t.day_of_week))
      }
    }
  })

  it('takes another weekend and business hours when configured', () => {
    const weekend = parseWeekdays(['sat', 'sun'])!
    const t = temporalContext(Date.parse('2025-12-19T04:00:00Z'), { weekend, businessHours: [8, 20] })
    assert.equal(t.is_weekend, false)
    assert.equal(t.is_business_hours, true)
    assert.equal(parseWeekdays(['fri', 'someday']), undefined)
  })

  it('uses Bangladesh’s four climate seasons', () => {
    assert.deepEqual(
      Array.from({ length: 12 }, (_, i) => seasonOf(i + 1)),
      [
        'winter',
        'winter',
        'summer',
        'summer',
        'summer',
        'monsoon',
        'monsoon',
        'monsoon',
        'monsoon',
        'autumn',
        'autumn',
        'winter',
      ],
    )
  })
})

describe('cities', () => {
  it('finds the five cities in English, older names and Bangla, first field first', () => {
    assert.equal(findCity('House 4, Road 2, Agrabad, Chattogram'), 'Chittagong')
    assert.equal(findCity(undefined, 'সিলেট শহর'), 'Sylhet')
    assert.equal(findCity('Khulna', 'Dhaka'), 'Khulna')
    assert.equal(findCity('Comilla'), undefined)
  })
})

describe('circuit breaker and limiter', () => {
  it('opens after the threshold, lets one trial through after the cooldown, closes on success', () => {
    let now = 0
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now })
    for (let i = 0; i < 3; i++) {
      assert.equal(b.allow(), true)
      b.failure()
    }
    assert.equal(b.state, 'open')
    assert.equal(b.allow(), false)
    now = 1000
    assert.equal(b.state, 'half-open')
    assert.equal(b.allow(), true)
    assert.equal(b.allow(), false, 'one trial at a time')
    b.failure()
    assert.equal(b.state, 'open')
    now = 2000
    assert.equal(b.allow(), true)
    b.success()
    assert.equal(b.state, 'closed')
    assert.equal(b.opens, 2)
  })

  it('runs at most max tasks at once', async () => {
    const limit = new Limiter(2)
    let running = 0
    let peak = 0
    await Promise.all(
      Array.from({ length: 10 }, () =>
        limit.run(async () => {
          running++
          peak = Math.max(peak, running)
          await new Promise((r) => setTimeout(r, 5))
          running--
        }),
      ),
    )
    assert.equal(peak, 2)
  })
})

/** An OpenWeatherMap-shaped server on a free port, answering with `reply`. */
async function server(t: { after(fn: () => unknown): void }, reply: (res: http.ServerResponse) => void) {
  let calls = 0
  const s = http.createServer((_req, res) => {
    calls++
    reply(res)
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  t.after(
    () =>
      new Promise<void>((r) => {
        s.closeAllConnections()
        s.close(() => r())
      }),
  )
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/data/2.5/weather`, calls: () => calls }
}

const owm = (temp: number, main = 'Clear', wind = 3) =>
  JSON.stringify({
    weather: [{ main, description: main.toLowerCase() }],
    main: { temp, humidity: 70, feels_like: temp },
    wind: { speed: wind },
    dt: 1_766_000_000,
  })

describe('weather client (HTTP, OpenWeatherMap shape)', () => {
  it('reads temperature, humidity, conditions and wind; flags extreme weather', async (t) => {
    const s = await server(t, (res) => res.writeHead(200).end(owm(39.5, 'Clear')))
    const w = await fetchWeather({ url: s.url, apiKey: 'k' }, 'Rajshahi')
    assert.deepEqual(
      [w.city, w.temperature, w.humidity, w.conditions, w.wind_speed, w.is_extreme_weather],
      ['Rajshahi', 39.5, 70, 'Clear', 3, true],
    )
  })

  it('names the failure: HTTP error, unreadable answer, timeout', async (t) => {
    const e500 = await server(t, (res) => res.writeHead(500).end('{}'))
    await assert.rejects(
      fetchWeather({ url: e500.url, apiKey: 'k' }, 'Dhaka'),
      (e: WeatherApiError) => e.reason === 'http_error',
    )
    const junk = await server(t, (res) => res.writeHead(200).end('{"main":{}}'))
    await assert.rejects(
      fetchWeather({ url: junk.url, apiKey: 'k' }, 'Dhaka'),
      (e: WeatherApiError) => e.reason === 'bad_response',
    )
    const hang = await server(t, () => {})
    await assert.rejects(
      fetchWeather({ url: hang.url, apiKey: 'k', timeoutMs: 100 }, 'Dhaka'),
      (e: WeatherApiError) => e.reason === 'timeout',
    )
  })

  it('the service shares one call among concurrent lookups of a city and never throws', async (t) => {
    const s = await server(t, (res) => setTimeout(() => res.writeHead(200).end(owm(25)), 20))
    const w = createWeatherService({ api: { url: s.url, apiKey: 'k' } })
    const results = await Promise.all(Array.from({ length: 50 }, () => w.lookup('Dhaka')))
    assert.equal(s.calls(), 1)
    assert.ok(results.every((r) => r.weather?.temperature === 25))
    assert.equal((await w.lookup('Dhaka')).source, 'memory')
    assert.deepEqual(await w.lookup(undefined), { weather: null, reason: 'no_city' })
    const keyless = createWeatherService({ api: { url: s.url, apiKey: undefined } })
    assert.deepEqual(await keyless.lookup('Sylhet'), { weather: null, reason: 'no_api_key' })
  })

  it('lookupNow answers without waiting only what is known: no city, no key, a city in the memo', async (t) => {
    const s = await server(t, (res) => res.writeHead(200).end(owm(31)))
    let now = 1_000_000
    const w = createWeatherService({ api: { url: s.url, apiKey: 'k' }, memoryTtlMs: 10_000, now: () => now })
    assert.equal(w.lookupNow('Khulna'), undefined, 'not asked yet: only lookup() can answer')
    assert.deepEqual(w.lookupNow(undefined), { weather: null, reason: 'no_city' })
    assert.equal((await w.lookup('Khulna')).source, 'api')
    const hit = w.lookupNow('Khulna')
    assert.equal(hit?.source, 'memory')
    assert.equal(hit?.weather?.temperature, 31)
    assert.equal(w.lookupNow('Khulna'), hit, 'a hit reuses its answer')
    now += 10_001
    assert.equal(w.lookupNow('Khulna'), undefined, 'expired: back to Redis or the API')
    assert.equal(w.stats().lookups, 4, 'counted when answered: no city, the API call, two hits')
    assert.equal(s.calls(), 1)
    const keyless = createWeatherService({ api: { url: s.url, apiKey: undefined } })
    assert.deepEqual(keyless.lookupNow('Sylhet'), { weather: null, reason: 'no_api_key' })
  })
})

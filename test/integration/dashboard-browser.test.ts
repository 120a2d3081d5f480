/**
 * The dashboard in a real browser (Debian's Chromium via playwright-core): the traffic demo on the
 * in-process transport behind OPS_AUTH_TOKEN, and the rideshare bridge on real Kafka and Redis. Each
 * page loads with no console error, its numbers move, the dead-letter view shows a dead letter, the
 * live map shows every driver within 2 s of its ping (counted from the page), and a screenshot of each
 * view lands in test/browser/artifacts/. Skipped loudly when /usr/bin/chromium is missing
 * (`bash scripts/browser.sh` installs it).
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { before, describe, it } from 'node:test'
import type { BrowserContext } from 'playwright-core'
import { millionxApp } from '../../src/apps/millionx/app.ts'
import { SOURCE_TOPICS, VALIDATED_TOPICS } from '../../src/apps/millionx/domain/index.ts'
import { rideshareApp } from '../../src/apps/rideshare/app.ts'
import { bridgeMessageJson, RIDESHARE_TOPICS } from '../../src/apps/rideshare/domain/index.ts'
import { LiveMap } from '../../src/apps/rideshare/live-map.ts'
import { streamPulseApp } from '../../src/apps/streampulse/app.ts'
import { streamPulseChangelogTopics } from '../../src/apps/streampulse/pipeline.ts'
import { trafficApp } from '../../src/apps/traffic/app.ts'
import { feed } from '../../src/cli/feed.ts'
import { kafkaTransport } from '../../src/connectors/kafka/index.ts'
import { MemoryBroker, memoryTransport } from '../../src/connectors/memory/index.ts'
import { millionxGenerator } from '../../src/generators/millionx.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { healthFrom } from '../../src/ops/health.ts'
import { createOpsServer } from '../../src/ops/http.ts'
import { startService } from '../../src/service/service.ts'
import { startStages } from '../../src/service/stages.ts'
import { browserMissing, launchBrowser, openPage, screenshot } from '../browser/helpers/browser.ts'
import { startApp, waitUntil } from './helpers/apps.ts'
import { createTopic, deleteTopics, kafkaBrokers, testKafka, uniqueName } from './helpers/kafka.ts'
import { suiteCleanup, testCleanup } from './helpers/services.ts'
import {
  dbQuery,
  events,
  expectedTables,
  produceEvents,
  streamPulseDb,
  streamPulseEnv,
} from './helpers/streampulse.ts'

const missing = browserMissing()
if (missing !== undefined)
  process.stderr.write(`\n*** SKIPPING the dashboard browser tests: ${missing} ***\n\n`)

// Run in the page (functions, not strings: the page's CSP forbids eval, and the test keeps it on).
declare const document: {
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>
  querySelector(
    selector: string,
  ): { textContent: string | null; innerText: string; getAttribute(name: string): string | null } | null
}
// Each is self-contained: Playwright sends its source to the page.
const cardAbove = ([id, min]: readonly [string, number]) =>
  Number(document.querySelector(`#${id} .value`)?.getAttribute('data-value') ?? Number.NaN) > min
const textChanged = ([selector, was]: readonly [string, string]) =>
  (document.querySelector(selector)?.textContent ?? '') !== was
/** Every node of the pipeline graph shows a rate (until two reads are in, it shows …). */
const allRated = () => {
  const rates = Array.from(document.querySelectorAll('#view-pipeline text.rate'))
  return rates.length > 0 && rates.every((r) => !(r.textContent ?? '').startsWith('\u2026'))
}
const hasText = ([selector, text]: readonly [string, string]) =>
  (document.querySelector(selector)?.textContent ?? '').includes(text)
const textOf = (selector: string) => document.querySelector(selector)?.textContent ?? ''
const mapCount = () => Number(document.querySelector('#map-count')?.getAttribute('data-count') ?? 0)

describe('dashboard in Chromium', { skip: missing }, () => {
  // One browser (a fresh profile) for the suite; each test opens its own page.
  const suite = suiteCleanup()
  let browser: BrowserContext
  before(async () => {
    if (missing === undefined) browser = await launchBrowser(suite)
  })
  it('the traffic demo behind OPS_AUTH_TOKEN: a token link logs in, numbers move, a dead letter shows, every view renders', async (t) => {
    const cleanup = testCleanup(t)
    const broker = new MemoryBroker({ retention: 10_000 })
    for (const topic of trafficApp.inputTopics ?? []) broker.createTopic(topic.name, topic.partitions)
    const token = 'browser-test-token'
    const service = await startService(trafficApp, {
      transport: () => memoryTransport(broker),
      env: { OPS_AUTH_TOKEN: token },
      logger: silentLogger,
      http: { host: '127.0.0.1', port: 0 },
      handleSignals: false,
    })
    cleanup(() => service.stop())
    const producer = memoryTransport(broker).sink({ clientId: 'browser-test-generator' })
    const abort = new AbortController()
    const feeding = feed(trafficApp.generator!({ seed: 7, invalidShare: 0.05 }), producer, {
      rate: 1000,
      count: 0,
      signal: abort.signal,
    })
    cleanup(async () => {
      abort.abort()
      await feeding
    })
    const url = service.address!.url

    const context = browser
    const { page, problems } = await openPage(context, cleanup)
    // Without the token: refused, with the challenge a client needs.
    const refused = await context.request.get(`${url}/`)
    assert.equal(refused.status(), 401)
    assert.match(refused.headers()['www-authenticate'] ?? '', /^Bearer/)
    assert.equal((await context.request.get(`${url}/health`)).status(), 200, '/health stays open')
    const opened = await page.goto(`${url}/?token=${token}#overview`)
    assert.equal(opened?.status(), 200)
    assert.equal(new URL(page.url()).searchParams.get('token'), null, 'the token leaves the address bar')

    await page.waitForFunction(cardAbove, ['card-in', 0] as const, { timeout: 15_000 })
    const first = await page.evaluate(textOf, '#card-in .sub')
    await page.waitForFunction(textChanged, ['#card-in .sub', first] as const, { timeout: 10_000 })
    // Lag per partition appears once the consumer has its partitions and end offsets.
    await page.waitForFunction(hasText, ['main', 'Lag, partition 0'] as const, { timeout: 10_000 })
    const labels = await page.evaluate(textOf, 'main')
    assert.match(labels, /Records in \/ s/)
    assert.match(labels, /Lag, partition 0/)
    assert.doesNotMatch(
      labels,
      /consumer_lag\.|messagesInvalid|lastMessageTime/,
      'no raw JSON keys as labels',
    )
    await screenshot(page, 'demo-overview')

    await page.goto(`${url}/#pipeline`)
    await page.waitForSelector('[data-node="validate"]', { timeout: 10_000 })
    await page.waitForFunction(allRated, null, { timeout: 10_000 })
    await screenshot(page, 'demo-pipeline')

    await page.goto(`${url}/#dead-letters`)
    await page.waitForSelector('#dead-letter-rows tr:nth-child(2)', { timeout: 15_000 })
    const dlq = await page.evaluate(textOf, '#view-dead-letters')
    assert.match(dlq, /VALIDATION_FAILED/)
    assert.match(dlq, /traffic-raw \[\d\] @\d+/, 'where the dead letter came from')
    assert.match(dlq, /"sensor_id"/, 'a preview of the value (traffic carries no personal data)')
    assert.match(dlq, /weir dlq replay traffic-raw-dlq/)
    await screenshot(page, 'demo-dead-letters')

    await page.goto(`${url}/#sensors`)
    await page.waitForSelector('#latest-sensors tr:nth-child(3)', { timeout: 10_000 })
    await page.click('#latest-sensors th:first-child')
    const sensors = await page.$$eval('#latest-sensors tr td:first-child', (cells) =>
      cells.map((c) => c.textContent ?? ''),
    )
    assert.ok(sensors.length > 10, `${sensors.length} sensors`)
    assert.deepEqual(
      sensors.slice(0, 10),
      [...sensors.slice(0, 10)].sort(),
      'sorted by sensor after a click on its heading',
    )
    await screenshot(page, 'demo-sensors', { fullPage: false })

    assert.deepEqual(problems, [])
  })

  it('rideshare on Kafka and Redis behind basic auth: drivers on the map within 2 s of their pings, a dead letter in its view', async (t) => {
    const cleanup = testCleanup(t)
    const base = uniqueName('rs-dash')
    const prefix = `${base}.`
    const env = {
      KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
      KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      KAFKA_GROUP_ID: `${base}-group`,
      KAFKA_AUTO_OFFSET_RESET: 'earliest',
      TOPIC_PREFIX: prefix,
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: '6379',
      PROCESSOR_TOPICS: RIDESHARE_TOPICS.join(','),
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      // Basic auth: the page, its polls and the map's event stream all need the login.
      OPS_BASIC_AUTH: 'ops:map-pass',
    }
    cleanup(async () => {
      await deleteTopics([...RIDESHARE_TOPICS.map((x) => prefix + x), `${prefix}stream-processor-dlq`])
      const admin = testKafka().admin()
      await admin.deleteGroups([env.KAFKA_GROUP_ID]).catch(() => {})
      await admin.close()
    })
    const service = await startApp(rideshareApp, env)
    cleanup(() => service.stop())
    const url = service.address!.url

    const { page, problems } = await openPage(browser, cleanup)
    // The login on every request of this page: the document, its polls and the map's event stream.
    await page.setExtraHTTPHeaders({
      authorization: `Basic ${Buffer.from('ops:map-pass').toString('base64')}`,
    })
    assert.equal((await page.request.get(`${url}/`, { headers: { authorization: '' } })).status(), 401)
    await page.goto(`${url}/#map`)
    await page.waitForSelector('#map-count', { timeout: 10_000 })
    // The map's event stream is open once its first frame is drawn.
    await page.waitForFunction(hasText, ['#view-map', 'drawn in'] as const, { timeout: 10_000 })

    const kafka = testKafka()
    const sink = kafka.sink({ clientId: 'browser-test-pings' })
    await sink.open()
    cleanup(() => sink.close())
    const drivers = 2000
    const now = Date.now()
    for (let i = 0; i < drivers; i++) {
      const ping = {
        event_id: `e-${i}`,
        driver_id: `d-${i}`,
        trip_id: null,
        lat: -23.7 + (0.25 * ((i * 7919) % drivers)) / drivers,
        lon: -46.78 + 0.26 * (i / drivers),
        heading: 0,
        speed: 30,
        accuracy: 5,
        timestamp: new Date(now).toISOString(),
      }
      sink.add({
        topic: `${prefix}gps_pings`,
        key: Buffer.from(ping.driver_id),
        value: Buffer.from(JSON.stringify(ping)),
        headers: {},
        timestamp: now,
      })
    }
    // A trip event that is not JSON: a dead letter.
    sink.add({
      topic: `${prefix}trips`,
      key: Buffer.from('t-bad'),
      value: Buffer.from('{not json'),
      headers: {},
      timestamp: now,
    })
    await sink.flush()
    const pinged = Date.now()
    // How much of it is the bridge itself (Kafka → GPS window → emitted), for the diagnostic.
    const login = { authorization: `Basic ${Buffer.from('ops:map-pass').toString('base64')}` }
    const emitted = (async () => {
      for (;;) {
        const res = await service.ops!.handle({ url: '/metrics', headers: login })
        const m = JSON.parse(String(res.body)) as { gps_updates_emitted_total: number }
        if (m.gps_updates_emitted_total >= drivers) return Date.now() - pinged
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    await page.waitForFunction(
      (n) => Number(document.querySelector('#map-count')?.getAttribute('data-count') ?? 0) >= n,
      drivers,
      { timeout: 30_000, polling: 50 },
    )
    const shownAfterMs = Date.now() - pinged
    t.diagnostic(`${drivers} drivers on the map ${shownAfterMs} ms after their pings were written`)
    t.diagnostic(`(the GPS window had emitted them ${await emitted} ms after they were written)`)
    await screenshot(page, 'rideshare-map')
    assert.equal(await page.evaluate(mapCount), drivers)
    assert.ok(
      shownAfterMs <= 2000,
      `the map showed ${drivers} drivers ${shownAfterMs} ms after their pings were written`,
    )

    await page.goto(`${url}/#dead-letters`)
    await page.waitForSelector('#dead-letter-rows tr:nth-child(2)', { timeout: 15_000 })
    const dlq = await page.evaluate(textOf, '#view-dead-letters')
    assert.match(dlq, new RegExp(`${prefix.replace(/\./g, '\\.')}trips \\[0\\] @0`))
    assert.match(dlq, /values hidden/, 'rideshare carries personal data: no value previews by default')
    assert.doesNotMatch(dlq, /\{not json/)
    await screenshot(page, 'rideshare-dead-letters')

    await page.goto(`${url}/#overview`)
    await page.waitForFunction(cardAbove, ['card-in', -1] as const, { timeout: 10_000 })
    await screenshot(page, 'rideshare-overview')
    await page.goto(`${url}/#pipeline`)
    await page.waitForSelector('[data-node="gps-window"]', { timeout: 10_000 })
    await page.waitForFunction(allRated, null, { timeout: 10_000 })
    await screenshot(page, 'rideshare-pipeline')

    assert.deepEqual(problems, [])
  })

  it('100,000 drivers over tiles an operator configured: the map draws each frame and the page keeps answering', async (t) => {
    const cleanup = testCleanup(t)
    // A tile server of our own (tiles are an optional layer; none can be fetched from the internet here).
    const tilesAsked: string[] = []
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
      'base64',
    )
    const tileServer = createServer((req, res) => {
      tilesAsked.push(req.url ?? '')
      res.writeHead(200, { 'content-type': 'image/png' }).end(png)
    })
    await new Promise<void>((resolve) => tileServer.listen(0, '127.0.0.1', resolve))
    cleanup(() => new Promise((resolve) => tileServer.close(resolve)))
    const tilePort = (tileServer.address() as AddressInfo).port
    const map = new LiveMap({ tiles: `http://127.0.0.1:${tilePort}/{z}/{x}/{y}.png` })
    const ops = createOpsServer({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      health: () => healthFrom({ kafka: { connected: true } }),
      metricsJson: () => ({}),
      prometheus: () => '',
      dashboard: { views: [map.view()] },
    })
    const { url } = await ops.start()
    cleanup(() => ops.close())
    const { page, problems } = await openPage(browser, cleanup)
    await page.goto(`${url}/#map`)
    await page.waitForFunction(hasText, ['#view-map', 'drawn in'] as const, { timeout: 10_000 })
    // The fleet, then a tenth of it moving every 250 ms while the page watches.
    const fleet = (shift: number) => (i: number) =>
      bridgeMessageJson(
        'gps_pings',
        `{"driver_id":"d-${i}","lat":${-23.7 + ((i % 500) / 500) * 0.25 + shift},"lon":${-46.78 + (i / 100_000) * 0.26}}`,
        { key: `d-${i}`, timestamp: 1 },
      )
    const at = fleet(0)
    for (let i = 0; i < 100_000; i++) map.observe(at(i))
    let tick = 0
    const moves = setInterval(() => {
      const next = fleet((tick % 20) * 0.0005)
      for (let i = tick % 10; i < 100_000; i += 10) map.observe(next(i))
      tick++
    }, 250)
    cleanup(() => clearInterval(moves))
    await page.waitForFunction(
      () => Number(document.querySelector('#map-count')?.getAttribute('data-count') ?? 0) === 100_000,
      null,
      { timeout: 30_000 },
    )
    const draws: number[] = []
    const answers: number[] = []
    for (let i = 0; i < 6; i++) {
      const asked = Date.now()
      const text = await page.evaluate(textOf, '#view-map')
      answers.push(Date.now() - asked)
      draws.push(Number(/drawn in ([\d.]+) ms/.exec(text)?.[1]))
      await new Promise((r) => setTimeout(r, 500))
    }
    await screenshot(page, 'rideshare-map-100k', { fullPage: false })
    assert.ok(tilesAsked.length >= 4, `tiles asked for: ${tilesAsked.join(' ')}`)
    assert.ok(
      tilesAsked.every((u) => /^\/1[0-4]\/\d+\/\d+\.png$/.test(u)),
      tilesAsked.join(' '),
    )
    t.diagnostic(
      `100,000 drivers: frame drawn in ${draws.join(', ')} ms; page answered in ${answers.join(', ')} ms`,
    )
    // Loose bounds (a shared, busy machine): a frozen page takes seconds, not these.
    assert.ok(Math.min(...draws) < 500, `drawn in ${draws.join(', ')} ms`)
    assert.ok(Math.min(...answers) < 1000, `answered in ${answers.join(', ')} ms`)
    assert.deepEqual(problems, [])
  })

  it('streampulse on Kafka and PostgreSQL: region health in red and amber, the same alerts as the alerts table, a late record counted', async (t) => {
    const cleanup = testCleanup(t)
    const db = await streamPulseDb(cleanup)
    const env = streamPulseEnv('sp-dash', db, { ALLOWED_LATENESS: '1s' })
    await createTopic(undefined, { name: env.KAFKA_TOPIC, partitions: 1 })
    cleanup(() => deleteTopics([env.KAFKA_TOPIC]))
    // 14 s of event time (7 windows of 2 s), then one event far too late. ap-south degrades for the first
    // 4 s of every 10 s of event time: starting on a 10 s boundary, its last two windows (10–14 s) are
    // degraded every run, so its newest window is red, and the seeded events fall into the same windows.
    const start = Math.floor((Date.now() - 30_000) / 10_000) * 10_000
    const input = events(1400, { start, stepMs: 10 })
    assert.ok(
      expectedTables(input, 2000).alerts.some((a) => a.includes('ap-south') && a.includes('CRITICAL')),
      'the degrading region breaks a rule (test data check)',
    )
    const late = { ...input[0]!, event_id: 'late-1', timestamp: input[0]!.timestamp - 60_000 }
    await produceEvents(testKafka(), env.KAFKA_TOPIC, [...input, late])
    const service = await startService(streamPulseApp, {
      env,
      logger: silentLogger,
      handleSignals: false,
      http: { host: '127.0.0.1', port: 0 },
      transport: (k) => kafkaTransport({ brokers: [...k.brokers], clientId: k.clientId }),
    })
    cleanup(() =>
      deleteTopics([env.DLQ_TOPIC, ...streamPulseChangelogTopics(env.KAFKA_GROUP_ID)]).catch(() => {}),
    )
    cleanup(() => service.stop())
    const { page, problems } = await openPage(browser, cleanup)
    await page.goto(`${service.address!.url}/#streampulse`)
    await page.waitForSelector('#table-streampulse-regions tr.bad', { timeout: 60_000 })
    await page.waitForFunction(cardAbove, ['card-streampulse-dlq-LATE_RECORD', 0] as const, {
      timeout: 30_000,
    })
    // What the tab shows (from memory) equals what the app wrote to PostgreSQL's alerts table.
    const panelAlerts = async () => {
      const res = await service.ops!.handle({ url: '/views/streampulse/panel.json' })
      const data = JSON.parse(String(res.body)) as {
        sections: Array<{ tables?: Array<{ id: string; rows: Array<Record<string, unknown>> }> }>
      }
      const rows = data.sections.flatMap((x) => x.tables ?? []).find((x) => x.id === 'alerts')!.rows
      return rows
        .map(
          (r) =>
            `${new Date(Number(r.window_start)).toISOString()} ${r.region} ${r.alert_type} ${r.severity}`,
        )
        .sort()
    }
    const tableAlerts = async () =>
      (
        await dbQuery<{ w: Date; region: string; alert_type: string; severity: string }>(
          db,
          'SELECT window_start AS w, region, alert_type, severity FROM alerts',
        )
      )
        .map((r) => `${r.w.toISOString()} ${r.region} ${r.alert_type} ${r.severity}`)
        .sort()
    await waitUntil(
      'the tab’s alerts to equal the alerts table',
      async () => JSON.stringify(await panelAlerts()) === JSON.stringify(await tableAlerts()),
      30_000,
    )
    const shown = await tableAlerts()
    assert.ok(
      shown.some((a) => a.endsWith('CRITICAL')),
      shown.join('\n'),
    )
    const text = await page.evaluate(textOf, '#view-streampulse')
    assert.match(text, /Rows written per table/)
    assert.match(text, /region_health/)
    assert.match(text, /Most downloaded/)
    await page.waitForFunction(hasText, ['#view-streampulse', 'CRITICAL'] as const, { timeout: 10_000 })
    await screenshot(page, 'streampulse-regions')
    assert.deepEqual(problems, [])
  })

  it('millionx validator and privacy shield on Kafka: failures by type, PII per type, the chain stage by stage, no values', async (t) => {
    const cleanup = testCleanup(t)
    const prefix = `${uniqueName('mx-dash')}.`
    const groups = { SCHEMA_VALIDATOR: `${prefix}validator`, PRIVACY_SHIELD: `${prefix}shield` }
    cleanup(async () => {
      await deleteTopics([
        ...SOURCE_TOPICS.map((x) => prefix + x),
        ...SOURCE_TOPICS.map((x) => prefix + VALIDATED_TOPICS[x]),
        `${prefix}schema-validation-errors`,
        `${prefix}privacy-shield-errors`,
        `${prefix}enriched.social.anonymized`,
        `${prefix}enriched.market.anonymized`,
      ])
      const admin = testKafka().admin()
      await admin.deleteGroups(Object.values(groups)).catch(() => {})
      await admin.close()
    })
    for (const x of SOURCE_TOPICS) await createTopic(undefined, { name: prefix + x, partitions: 3 })
    const sink = testKafka().sink({ clientId: 'mx-dash-producer' })
    await sink.open()
    try {
      for (const r of millionxGenerator({ seed: 5, invalidShare: 0.1 }).take(400))
        sink.add({
          topic: prefix + r.topic,
          key: Buffer.from(r.key ?? ''),
          value: Buffer.from(JSON.stringify(r.value)),
          headers: {},
          timestamp: r.timestamp,
        })
      await sink.flush()
    } finally {
      await sink.close()
    }
    const stages = await startStages(millionxApp, {
      env: {
        KAFKA_BOOTSTRAP_SERVERS: kafkaBrokers().join(','),
        TOPIC_PREFIX: prefix,
        PRIVACY_SALT: 'browser-test-salt',
        SCHEMA_VALIDATOR_KAFKA_GROUP_ID: groups.SCHEMA_VALIDATOR,
        PRIVACY_SHIELD_KAFKA_GROUP_ID: groups.PRIVACY_SHIELD,
        MILLIONX_STAGES: 'schema-validator,privacy-shield',
      },
      logger: silentLogger,
      handleSignals: false,
      http: { host: '127.0.0.1', port: 0 },
    })
    cleanup(() => stages.stop())
    const { page, problems } = await openPage(browser, cleanup)
    await page.goto(`${stages.services.get('schema-validator')!.address!.url}/#schema-validator`)
    await page.waitForSelector('#table-schema-validator-failure-types tr:nth-child(2)', { timeout: 60_000 })
    await page.waitForFunction(cardAbove, ['card-schema-validator-dlq-VALIDATION_FAILED', 0] as const, {
      timeout: 30_000,
    })
    // The chain: both stages of this process have read records; the others run elsewhere.
    await page.waitForFunction(
      () => {
        const rows = Array.from(document.querySelectorAll('#table-schema-validator-chain tr'))
        const shield = rows.find((r) => (r.textContent ?? '').startsWith('privacy-shield'))
        return (
          shield !== undefined &&
          /this process/.test(shield.textContent ?? '') &&
          !/^privacy-shield0/.test(shield.textContent ?? '')
        )
      },
      null,
      { timeout: 60_000 },
    )
    const validator = await page.evaluate(textOf, '#view-schema-validator')
    assert.match(validator, /Validation failures by type/)
    assert.match(validator, /context-enricher.*not in this process/)
    await screenshot(page, 'millionx-schema-validator')

    await page.goto(`${stages.services.get('privacy-shield')!.address!.url}/#privacy-shield`)
    await page.waitForSelector('#table-privacy-shield-pii-types tr:nth-child(2)', { timeout: 30_000 })
    await page.waitForFunction(cardAbove, ['card-privacy-shield-pii-found', 0] as const, { timeout: 30_000 })
    const shield = await page.evaluate(textOf, '#view-privacy-shield')
    assert.match(shield, /PII found per type/)
    // Personal data: nothing of a record on the page (the generator's phone numbers start 01).
    assert.doesNotMatch(shield, /\+?8801\d{9}|\b01[3-9]\d{8}\b/)
    await screenshot(page, 'millionx-privacy-shield')
    assert.deepEqual(problems, [])
  })
})

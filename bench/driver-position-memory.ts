/**
 * Memory of seed 000's driver-position store at N drivers (default 100,000): the store alone, fed one
 * driver_status event and `--pings` GPS pings per driver, checkpointed (changelog records handed to a
 * producer that drops them, as Kafka would take them away), then measured after a full GC.
 *
 *   node --expose-gc bench/driver-position-memory.ts [--drivers 100000] [--pings 3]
 */
import { parseArgs } from 'node:util'
import { DriverPositionStore } from '../src/apps/rideshare/driver-position.ts'
import { JsonText } from '../src/apps/rideshare/json-text.ts'
import type { RecordSink } from '../src/connectors/contract.ts'
import { systemClock } from '../src/core/clock.ts'
import { silentLogger } from '../src/log/logger.ts'
import { createMetrics } from '../src/ops/metrics.ts'
import type { AnyRecord } from '../src/runtime/processor.ts'

const { values } = parseArgs({
  options: { drivers: { type: 'string', default: '100000' }, pings: { type: 'string', default: '3' } },
})
const drivers = Number(values.drivers)
const pings = Number(values.pings)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')

let changelogRecords = 0
const dropping: RecordSink = {
  id: 'dropping',
  open: async () => {},
  add: () => {
    changelogRecords++
  },
  flush: async () => {},
  backlog: () => 0,
  close: async () => {},
  status: () => ({ connected: true }),
}

function measure() {
  gc?.()
  gc?.()
  const m = process.memoryUsage()
  return { rssMB: m.rss / 2 ** 20, heapMB: m.heapUsed / 2 ** 20 }
}

const store = new DriverPositionStore({
  name: 'driver-position',
  gpsTopic: 'gps_pings',
  statusTopic: 'driver_status',
  changelog: 'rideshare-driver-position-changelog',
})
await store.init({
  appName: 'rideshare',
  clock: systemClock,
  logger: silentLogger,
  metrics: createMetrics({ processMetrics: false }),
  emit: () => {},
  fail: () => {},
  producer: dropping,
  processing: 'at-least-once',
  quiet: () => false,
  readPartition: async function* () {},
})
await store.assigned([
  { topic: 'gps_pings', partition: 0 },
  { topic: 'driver_status', partition: 0 },
])

const before = measure()
const t0 = Date.now() - 3_600_000
let offset = 0
const record = (topic: string, value: unknown): AnyRecord => ({
  key: null,
  value: new JsonText('', value),
  headers: {},
  timestamp: Date.now(),
  topic,
  partition: 0,
  offset: offset++,
})
const started = performance.now()
for (let d = 0; d < drivers; d++) {
  const id = `driver-${String(d).padStart(6, '0')}`
  store.process(
    record('driver_status', {
      event_id: `s-${d}`,
      driver_id: id,
      previous_status: 'offline',
      new_status: 'online',
      trigger: 'shift_start',
      lat: -23.5,
      lon: -46.6,
      timestamp: new Date(t0).toISOString(),
    }),
  )
}
for (let i = 1; i <= pings; i++) {
  for (let d = 0; d < drivers; d++) {
    store.process(
      record('gps_pings', {
        event_id: `g-${d}-${i}`,
        driver_id: `driver-${String(d).padStart(6, '0')}`,
        trip_id: d % 3 === 0 ? `trip-${d}` : null,
        lat: -23.5 - i / 1000,
        lon: -46.6 + d / 1e6,
        heading: (d * 7) % 360,
        speed: 30,
        accuracy: 5,
        timestamp: new Date(t0 + i * 1000).toISOString(),
      }),
    )
  }
  store.flushState()
}
const ms = performance.now() - started
const after = measure()
const page = store.stores()[0]?.range({ limit: 1 })
console.log(
  JSON.stringify({
    drivers,
    pingsPerDriver: pings,
    records: offset,
    recordsPerSecond: Math.round(offset / (ms / 1000)),
    changelogRecords,
    heapMB: Number((after.heapMB - before.heapMB).toFixed(1)),
    rssMB: Number((after.rssMB - before.rssMB).toFixed(1)),
    bytesPerDriver: Math.round(((after.heapMB - before.heapMB) * 2 ** 20) / drivers),
    sample: page?.entries[0],
  }),
)

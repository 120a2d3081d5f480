/**
 * StreamPulse download events (seed 003): popular and long-tail content (Zipf-like), regions with their
 * own speed and failure profiles, device types with OS versions, and a region that degrades on a
 * schedule of event time (success rate ~0.75, speed ~6 Mbps) so the alert rules fire. Chosen shares of
 * events are late beyond the allowed lateness (dead letters), late within it (straggling into a window
 * already written) or malformed (bytes that are not Avro).
 *
 * @example
 * const g = streamPulseGenerator({ seed: 1, now: () => Date.now() })
 * const r = g.next() // { topic: 'content-downloads', key: event_id, value: DownloadEvent, timestamp }
 */
import type { DownloadEvent } from '../apps/streampulse/domain.ts'
import { createRng, cumulative } from './rng.ts'
import { checkCount, checkShare, type Generated, type RecordGenerator, takeFrom } from './types.ts'

export interface StreamPulseGeneratorOptions {
  readonly seed?: number
  /** Event time of the next event. Default: the wall clock. */
  readonly now?: () => number
  /** Distinct content ids (default 2,000). */
  readonly contents?: number
  /** Share of events later than `lateMs` (default 0). */
  readonly lateShare?: number
  /** Share of events 5–90 % of `lateMs` behind (default 0). */
  readonly stragglerShare?: number
  /** Share of records that are not Avro at all (default 0). */
  readonly malformedShare?: number
  /** The allowed lateness the late shares are measured against (default 5 minutes). */
  readonly lateMs?: number
  /** The region that degrades, for `degradeForMs` of every `degradeEveryMs` of event time. */
  readonly degradedRegion?: string
  readonly degradeEveryMs?: number
  readonly degradeForMs?: number
  readonly topic?: string
}

export type StreamPulseDefect = 'malformed'
export type StreamPulseRecord = Generated<DownloadEvent, StreamPulseDefect>

/** Regions with their speed profile (mean, sd in Mbps) and failure rate. */
export const REGIONS = [
  { region: 'us-east', mean: 85, sd: 25, fail: 0.02 },
  { region: 'us-west', mean: 80, sd: 25, fail: 0.02 },
  { region: 'eu-west', mean: 70, sd: 20, fail: 0.03 },
  { region: 'eu-central', mean: 65, sd: 20, fail: 0.03 },
  { region: 'ap-south', mean: 35, sd: 15, fail: 0.05 },
  { region: 'ap-northeast', mean: 90, sd: 30, fail: 0.02 },
  { region: 'sa-east', mean: 30, sd: 12, fail: 0.06 },
  { region: 'af-south', mean: 18, sd: 8, fail: 0.07 },
] as const

const DEVICES = [
  { device: 'mobile', os: ['android-13', 'android-14', 'ios-17', 'ios-18'], weight: 50 },
  { device: 'tablet', os: ['ipados-17', 'android-14'], weight: 12 },
  { device: 'desktop', os: ['windows-11', 'macos-14', 'ubuntu-24.04'], weight: 20 },
  { device: 'smart_tv', os: ['tizen-7', 'webos-23', 'android-tv-12'], weight: 13 },
  { device: 'console', os: ['ps5-8', 'xbox-10'], weight: 5 },
] as const

const TYPES = [
  { type: 'movie', prefix: 'mov', mb: [700, 4000] },
  { type: 'series', prefix: 'ser', mb: [300, 1500] },
  { type: 'music', prefix: 'mus', mb: [3, 12] },
  { type: 'game', prefix: 'gam', mb: [2000, 60000] },
  { type: 'app', prefix: 'app', mb: [20, 400] },
  { type: 'podcast', prefix: 'pod', mb: [20, 120] },
  { type: 'ebook', prefix: 'ebk', mb: [1, 10] },
] as const

const ERRORS = [
  'NETWORK_TIMEOUT',
  'CDN_5XX',
  'STORAGE_FULL',
  'DRM_LICENSE_FAILED',
  'CHECKSUM_MISMATCH',
] as const

export function streamPulseGenerator(
  options: StreamPulseGeneratorOptions = {},
): RecordGenerator<StreamPulseRecord> {
  const rng = createRng(options.seed ?? 1)
  const now = options.now ?? Date.now
  const topic = options.topic ?? 'content-downloads'
  const contents = checkCount('contents', options.contents ?? 2000, 1, 10_000_000)
  const lateShare = checkShare('lateShare', options.lateShare ?? 0)
  const stragglerShare = checkShare('stragglerShare', options.stragglerShare ?? 0)
  const malformedShare = checkShare('malformedShare', options.malformedShare ?? 0)
  const lateMs = options.lateMs ?? 300_000
  const degraded = options.degradedRegion ?? 'ap-south'
  const degradeEvery = options.degradeEveryMs ?? 300_000
  const degradeFor = options.degradeForMs ?? 60_000
  // Popularity ~ 1/rank: a few titles take most downloads, the rest are a long tail.
  const popularity = cumulative(Array.from({ length: contents }, (_, i) => 1 / (i + 1)))
  const deviceWeights = cumulative(DEVICES.map((d) => d.weight))
  const regionWeights = cumulative(REGIONS.map((_, i) => (i < 2 ? 3 : 2)))
  let seq = 0

  const next = (): StreamPulseRecord => {
    const t = now()
    const timestamp = t
    if (malformedShare > 0 && rng.chance(malformedShare)) {
      const bytes = Buffer.from(Array.from({ length: rng.int(1, 24) }, () => rng.int(0, 255)))
      return {
        topic,
        key: `malformed-${seq++}`,
        value: bytes,
        timestamp,
        defect: { kind: 'malformed', field: '' },
      }
    }
    let eventTime = t
    if (lateShare > 0 && rng.chance(lateShare)) eventTime = t - lateMs - rng.int(60_000, 600_000)
    else if (stragglerShare > 0 && rng.chance(stragglerShare))
      eventTime = t - Math.round(lateMs * rng.float(0.05, 0.9))
    const rank = pickSorted(popularity, rng.next() * popularity[popularity.length - 1]!)
    const kind = TYPES[rank % TYPES.length]!
    const r = REGIONS[rng.weighted(regionWeights)]!
    const d = DEVICES[rng.weighted(deviceWeights)]!
    const degrading = r.region === degraded && eventTime % degradeEvery < degradeFor
    const failed = rng.chance(degrading ? 0.25 : r.fail)
    const speed = Math.max(0.5, degrading ? rng.normal(6, 2) : rng.normal(r.mean, r.sd))
    const sizeMb = rng.float(kind.mb[0], kind.mb[1])
    const bytes = Math.round(sizeMb * 1_048_576 * (failed ? rng.float(0.01, 0.9) : 1))
    const event: DownloadEvent = {
      event_id: rng.uuid(),
      user_id: `user_${rng.int(1, 500_000)}`,
      content_id: `${kind.prefix}_${String(rank + 1).padStart(5, '0')}`,
      content_type: kind.type,
      region: r.region,
      device_type: d.device,
      os_version: rng.pick(d.os),
      status: failed ? 'failed' : 'success',
      error_code: failed ? rng.pick(ERRORS) : null,
      bytes,
      download_speed_mbps: Math.round(speed * 1000) / 1000,
      duration_seconds: Math.round(((bytes * 8) / (speed * 1_000_000)) * 1000) / 1000,
      timestamp: eventTime,
    }
    seq++
    return { topic, key: event.event_id, value: event, timestamp }
  }
  return { next, take: (n) => takeFrom(next, n) }
}

/** The first index whose running sum exceeds `x` (binary search: the popularity list is long). */
function pickSorted(sums: readonly number[], x: number): number {
  let lo = 0
  let hi = sums.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sums[mid]! > x) hi = mid
    else lo = mid + 1
  }
  return lo
}

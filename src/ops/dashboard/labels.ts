/**
 * Labels and number formats a person reads without the code: `consumer_lag.traffic-raw:0` → "Lag,
 * traffic-raw partition 0", `messagesInvalid` → "Invalid records", 1234567 → "1,234,567", bytes as MiB.
 * These functions run in the browser too: the page embeds their source (`Function#toString`), so they
 * are self-contained (no imports, no outer names) and written in plain JavaScript plus types.
 */

/** A key of a metrics object → { label, unit }; unit is '', 'bytes', 'ms', 's', '/s', '×', 'time' or '%'. */
export function humanLabel(key: string): { label: string; unit: string } {
  const KNOWN: Record<string, [string, string]> = {
    messagesProcessed: ['Records processed', ''],
    messagesInvalid: ['Invalid records (dead-lettered)', ''],
    messagesValid: ['Valid records', ''],
    lastMessageTime: ['Last record at', 'time'],
    messages_per_sec: ['Records in / s', '/s'],
    messages_consumed: ['Records in', ''],
    messages_produced: ['Records out', ''],
    messages_consumed_total: ['Records in', ''],
    messages_consumed_per_sec: ['Records in / s', '/s'],
    messages_published_total: ['Messages published', ''],
    messages_published_per_sec: ['Messages published / s', '/s'],
    records_consumed_total: ['Records in', ''],
    records_produced_total: ['Records out', ''],
    records_consumed_per_sec: ['Records in / s', '/s'],
    records_produced_per_sec: ['Records out / s', '/s'],
    records_dead_lettered_total: ['Dead letters', ''],
    processing_errors_total: ['Processing errors', ''],
    gps_aggregation_ratio: ['GPS pings per update', '×'],
    gps_pings_received_total: ['GPS pings received', ''],
    gps_updates_emitted_total: ['GPS updates sent', ''],
    publish_errors: ['Publish errors', ''],
    publish_errors_per_sec: ['Publish errors / s', '/s'],
    redis_backlog: ['Waiting for Redis', ''],
    memory_rss_bytes: ['Memory (RSS)', 'bytes'],
    uptime_seconds: ['Up for', 's'],
    kafka_connected: ['Kafka connected', ''],
    redis_connected: ['Redis connected', ''],
    checkpoint_error: ['Last checkpoint error', ''],
    last_checkpoint_at: ['Last checkpoint', 'time'],
    record_latency: ['Record latency', 'ms'],
    record_latency_ms: ['Record latency', 'ms'],
    redis_publish_latency: ['Redis publish latency', 'ms'],
    consumer_lag: ['Lag', ''],
    state: ['State', ''],
    timestamp: ['Server time', 'time'],
  }
  const known = KNOWN[key]
  if (known !== undefined) return { label: known[0], unit: known[1] }
  const lag = /^consumer_lag\.(.+):(\d+)$/.exec(key)
  if (lag !== null) return { label: `Lag, ${lag[1]} partition ${lag[2]}`, unit: '' }
  const dot = key.lastIndexOf('.')
  if (dot > 0) {
    const head = humanLabel(key.slice(0, dot))
    const tail = humanLabel(key.slice(dot + 1))
    // A latency object's unit (ms) belongs to its quantiles, not to its count.
    const quantile = /^(p\d+|avg|mean|min|max|median|sum)$/.test(key.slice(dot + 1))
    return {
      label: `${head.label}: ${tail.label.charAt(0).toLowerCase()}${tail.label.slice(1)}`,
      unit: tail.unit || (quantile ? head.unit : ''),
    }
  }
  let unit = ''
  let words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase()
  const suffix = (re: RegExp, u: string, replacement = '') => {
    if (unit === '' && re.test(words)) {
      words = words.replace(re, replacement).trim()
      unit = u
    }
  }
  suffix(/ per (sec|second|s)$/, '/s', ' / s')
  suffix(/ bytes$/, 'bytes')
  suffix(/ (ms|millis)$/, 'ms')
  suffix(/ (seconds|secs)$/, 's')
  suffix(/ ratio$/, '×', ' ratio')
  suffix(/ (percent|pct)$/, '%')
  suffix(/ (at|time)$/, 'time', ' at')
  words = words
    .replace(/ total$/, '')
    .replace(/\bdlq\b/g, 'dead letters')
    .replace(/\bp(\d\d)\b/g, 'p$1')
  return { label: words.charAt(0).toUpperCase() + words.slice(1), unit }
}

/** A number for people: thousands separators, a unit, bytes in KiB/MiB/GiB, times as ages. */
export function formatValue(value: unknown, unit: string): string {
  if (value === null || value === undefined) return '—'
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (unit === 'time') {
    const t = typeof value === 'number' ? (value < 1e11 ? value * 1000 : value) : Date.parse(String(value))
    if (!Number.isFinite(t)) return String(value)
    const age = Math.max(0, (Date.now() - t) / 1000)
    return age < 1
      ? 'just now'
      : age < 90
        ? `${Math.round(age)} s ago`
        : age < 5400
          ? `${Math.round(age / 60)} min ago`
          : new Date(t).toISOString().replace('T', ' ').slice(0, 19)
  }
  if (typeof value !== 'number') return String(value)
  if (!Number.isFinite(value)) return String(value)
  const plain = (v: number) => {
    const a = Math.abs(v)
    const digits = a === 0 || a >= 100 || Number.isInteger(v) ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3
    return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
  }
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
    let v = value
    let i = 0
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024
      i++
    }
    return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
  }
  if (unit === 's' && value >= 60) {
    const d = Math.floor(value / 86400)
    const h = Math.floor((value % 86400) / 3600)
    const m = Math.floor((value % 3600) / 60)
    return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(value % 60)}s`
  }
  if (unit === 'ms' || unit === 's' || unit === '%') return `${plain(value)} ${unit}`
  if (unit === '×') return `${plain(value)}×`
  if (unit === '/s') return `${plain(value)} / s`
  return plain(value)
}

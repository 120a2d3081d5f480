/**
 * Process metrics under the names every Prometheus client uses (`process_*`, `nodejs_*`), so stock
 * dashboards and alerts work unchanged; uptime is Weir's own (`<prefix>uptime_seconds`).
 */
import { familyHeader, formatValue } from './exposition.ts'

export interface ProcessStats {
  resident_memory_bytes: number
  heap_used_bytes: number
  heap_total_bytes: number
  external_memory_bytes: number
  cpu_seconds_total: number
  start_time_seconds: number
  uptime_seconds: number
}

export function readProcessStats(): ProcessStats {
  const mem = process.memoryUsage()
  const cpu = process.cpuUsage()
  const uptime = process.uptime()
  return {
    resident_memory_bytes: mem.rss,
    heap_used_bytes: mem.heapUsed,
    heap_total_bytes: mem.heapTotal,
    external_memory_bytes: mem.external,
    cpu_seconds_total: (cpu.user + cpu.system) / 1e6,
    start_time_seconds: Math.round(Date.now() / 1000 - uptime),
    uptime_seconds: Math.round(uptime * 10) / 10,
  }
}

export function renderProcessStats(stats: ProcessStats, prefix: string): string {
  const family = (name: string, help: string, type: 'counter' | 'gauge', value: number) =>
    `${familyHeader(name, help, type)}${name} ${formatValue(value)}\n`
  return [
    family(
      'process_cpu_seconds_total',
      'Total user and system CPU time spent in seconds.',
      'counter',
      stats.cpu_seconds_total,
    ),
    family(
      'process_resident_memory_bytes',
      'Resident memory size in bytes.',
      'gauge',
      stats.resident_memory_bytes,
    ),
    family(
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      'gauge',
      stats.start_time_seconds,
    ),
    family(
      'nodejs_heap_size_used_bytes',
      'Process heap size used from Node.js in bytes.',
      'gauge',
      stats.heap_used_bytes,
    ),
    family(
      'nodejs_heap_size_total_bytes',
      'Process heap size from Node.js in bytes.',
      'gauge',
      stats.heap_total_bytes,
    ),
    family(
      'nodejs_external_memory_bytes',
      'Node.js external memory size in bytes.',
      'gauge',
      stats.external_memory_bytes,
    ),
    family(`${prefix}uptime_seconds`, 'Seconds since the process started.', 'gauge', stats.uptime_seconds),
  ].join('')
}

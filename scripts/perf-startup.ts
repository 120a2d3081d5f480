/**
 * Where a Weir process's memory goes before its first record: RSS, V8 heap and Buffer memory after each
 * layer is imported (Node alone, the Kafka client, zod, Weir's runtime, an app, the whole CLI), then after
 * a full GC. Each layer includes the ones before it.
 *
 *   node --expose-gc scripts/perf-startup.ts
 */
const mb = (x: number) => Math.round(x / 2 ** 20)
const rows: string[] = []
function snap(label: string): void {
  const m = process.memoryUsage()
  rows.push(
    `| ${label} | ${mb(m.rss)} | ${mb(m.heapTotal)} | ${mb(m.heapUsed)} | ${mb(m.external)} | ${mb(m.arrayBuffers)} |`,
  )
}
snap('node alone')
const layers: Array<[string, () => Promise<unknown>]> = [
  ['+ @platformatic/kafka', () => import('@platformatic/kafka')],
  ['+ zod', () => import('zod')],
  ['+ src/runtime/runner.ts', () => import('../src/runtime/runner.ts')],
  ['+ src/connectors/kafka', () => import('../src/connectors/kafka/index.ts')],
  ['+ src/ops (metrics, health, HTTP, dashboard)', () => import('../src/ops/index.ts')],
  ['+ src/apps/traffic/app.ts', () => import('../src/apps/traffic/app.ts')],
  ['+ src/apps/rideshare/app.ts', () => import('../src/apps/rideshare/app.ts')],
  ['+ src/connectors/redis', () => import('../src/connectors/redis/index.ts')],
]
for (const [label, load] of layers) {
  await load()
  snap(label)
}
const gc = (globalThis as { gc?: () => void }).gc
if (gc) {
  gc()
  snap('after a full GC')
}
process.stdout.write(
  `| loaded | RSS MB | V8 heap total MB | heap used MB | external MB | Buffers MB |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
)

import { loadApp } from '../../apps/index.ts'
import { silentLogger } from '../../log/logger.ts'
import { createMetrics } from '../../ops/index.ts'
import { systemClock } from '../../core/clock.ts'
import { serviceEnvDocs } from '../../service/service.ts'
import type { parseArgs } from '../args.ts'

export default async function describe({ positional }: ReturnType<typeof parseArgs>): Promise<number> {
  const app = await loadApp(positional[0])
  process.stdout.write(`${app.name}: ${app.description}\n\nEnvironment variables:\n`)
  const vars = [...app.env, ...serviceEnvDocs]
  const width = Math.max(...vars.map((v) => v.name.length)) + 2
  for (const v of vars) process.stdout.write(`  ${v.name.padEnd(width)} ${(v.default ?? '').padEnd(24)} ${v.description}\n`)
  const instance = await app.create({ env: process.env, logger: silentLogger, metrics: createMetrics(), clock: systemClock })
  process.stdout.write(`\nPipeline graph:\n${instance.pipeline.topology.describe().replace(/^/gm, '  ')}\n`)
  await instance.close?.()
  return 0
}

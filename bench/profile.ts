/**
 * Top self-time functions of a V8 .cpuprofile (as written by `node --cpu-prof` or the inspector's
 * Profiler.stop). Idle time and the profiler's own frames (node:inspector, which serializes the
 * profile when it stops) are left out of the shares.
 */

const skipped = (f: { functionName: string; url: string }) =>
  f.functionName === '(idle)' || f.functionName === '(program)' || f.url === 'node:inspector'

interface CpuProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}
interface CpuProfile {
  nodes: CpuProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileEntry {
  readonly name: string
  readonly where: string
  readonly selfMs: number
  readonly selfPct: number
}

export function topSelfTime(profile: CpuProfile, n: number, root: string): ProfileEntry[] {
  const byId = new Map<number, CpuProfileNode>()
  for (const node of profile.nodes) byId.set(node.id, node)
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const agg = new Map<string, { name: string; where: string; us: number }>()
  let totalUs = 0
  for (const [id, us] of self) {
    const f = byId.get(id)?.callFrame
    if (!f) continue
    if (skipped(f)) continue
    totalUs += us
    const url = f.url.replace(`file://${root}/`, '')
    const where = url ? `${url}:${f.lineNumber + 1}` : ''
    const name = f.functionName || '(anonymous)'
    const key = `${name}@${where}`
    const e = agg.get(key) ?? { name, where, us: 0 }
    e.us += us
    agg.set(key, e)
  }
  return [...agg.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, selfPct: (100 * e.us) / totalUs }))
}

/** Self time rolled up by where the code lives: Weir (src/), the Kafka client, other packages, Node, GC. */
export function selfTimeByArea(profile: CpuProfile): Record<string, number> {
  const byId = new Map<number, CpuProfileNode>()
  for (const node of profile.nodes) byId.set(node.id, node)
  const areas: Record<string, number> = {}
  let totalUs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const f = byId.get(profile.samples[i] as number)?.callFrame
    if (!f || skipped(f)) continue
    const us = profile.timeDeltas[i] ?? 0
    totalUs += us
    const u = f.url
    const area =
      f.functionName === '(garbage collector)'
        ? 'garbage collector'
        : u.includes('/node_modules/@platformatic/kafka/')
          ? '@platformatic/kafka (client)'
          : u.includes('/node_modules/')
            ? 'other packages'
            : u.includes('/src/')
              ? 'Weir src/'
              : u.startsWith('node:')
                ? 'Node.js internals'
                : 'native / V8 builtins'
    areas[area] = (areas[area] ?? 0) + us
  }
  for (const k of Object.keys(areas)) areas[k] = (100 * (areas[k] as number)) / totalUs
  return areas
}

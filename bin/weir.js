#!/usr/bin/env node
// The `weir` command. An installed package runs the compiled dist/; a checkout of the repository runs
// the TypeScript sources directly (Node 24 strips the types).
import { existsSync, readFileSync } from 'node:fs'
import { totalmem } from 'node:os'
import { setFlagsFromString } from 'node:v8'

// This file stays plain JavaScript so that an older node reaches this line and says what to do.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(
    `weir needs Node.js 24 or newer; this is Node ${process.versions.node}. In a checkout, \`npm ci\` installs Node 24 ` +
      'as a devDependency: run weir as `npx weir …` or `npm run weir -- …` (or install Node 24 LTS).\n',
  )
  process.exit(1)
}

// V8 moves the short-lived per-record objects of a stream processor to the old generation after a few
// minor GCs ("allocation-site pretenuring"), which makes every minor GC slow. Without it: ~15 % more
// records/s, ~18 % less CPU and ~80 MB less RSS on bench workload 1 (see BENCHMARKS.md). Set before any
// of Weir is loaded; embedders get the same with NODE_OPTIONS=--no-allocation-site-pretenuring.
setFlagsFromString('--no-allocation-site-pretenuring')

// V8 sizes its heap for the machine, not for the job: on a 24 GB host it lets the old generation grow to
// ~180 MB before collecting a demo that uses 40 MB. Heap limits can only be set when the process starts,
// so when a size applies and none was given, the process replaces itself (same pid, execve) with the flags:
// - a container memory limit (cgroup v2 or v1): old space at 60 % of it, leaving room for buffers and code,
//   and semi-spaces of 1/32 of it (8 MB under 256 MB). Node 24's V8 otherwise lets each semi-space grow
//   to 64 MB under allocation pressure, so V8's own heap limit under a 256 MB container was 345 MB
//   (v8.getHeapStatistics().heap_size_limit) and nothing stopped the heap outgrowing the container;
//   with the cap it is 177 MB. 8 MB rather than 4: the records of a fetch survive fewer minor GCs, for
//   +21 % records/s on traffic and +12 % on rideshare at 7–12 MB more peak RSS (BENCHMARKS.md "Memory
//   under a limit");
// - `weir demo`: a small heap, so a demo left running for hours stays under 200 MB RSS.
// Both also get one malloc arena: glibc's default is 8 per core, and the threads' arenas (zlib, the
// libuv pool, V8's helpers) held ~23 MB of the demo's RSS (209–211 MB with them, 180–188 MB with one, over
// 10 minutes at 2,000 records/s) and ~20 MB of the MillionX stages' under 256 MB (privacy shield 222 →
// 202 MB, context enricher 236 → 215 MB, schema validator 198 → 175 MB), at no cost in records/s.
// Heap flags given by the user (execArgv, NODE_OPTIONS) win, but the one malloc arena still applies: without
// it, runs with their own heap flags peaked ~20 MB higher (the enricher 211 MB, rideshare 207–212 MB, where
// the same runs sized by this file stayed at 187–195 and 176–190).
const limitMb = containerMemoryLimitMb()
const heapFlags = v8HeapFlags(limitMb)
const oneArena =
  (limitMb !== undefined || process.argv[2] === 'demo') && process.env.MALLOC_ARENA_MAX === undefined
if (
  (heapFlags.length > 0 || oneArena) &&
  process.env.WEIR_V8_SIZED === undefined &&
  typeof process.execve === 'function'
) {
  const argv = [process.execPath, ...heapFlags, ...process.execArgv, ...process.argv.slice(1)]
  const malloc = oneArena ? { MALLOC_ARENA_MAX: '1' } : {}
  process.execve(process.execPath, argv, { ...process.env, ...malloc, WEIR_V8_SIZED: heapFlags.join(' ') })
}

function v8HeapFlags(limitMb) {
  const given = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`
  if (/--max-old-space-size|--max-semi-space-size/.test(given)) return []
  if (limitMb !== undefined)
    return [
      `--max-semi-space-size=${Math.min(64, Math.max(1, Math.floor(limitMb / 32)))}`,
      `--max-old-space-size=${Math.max(64, Math.floor(limitMb * 0.6))}`,
    ]
  if (process.argv[2] === 'demo') return ['--max-semi-space-size=4', '--max-old-space-size=160']
  return []
}

function containerMemoryLimitMb() {
  let limit
  for (const file of memoryLimitFiles()) {
    try {
      const bytes = Number(readFileSync(file, 'utf8').trim())
      // "max" (v2) or a huge number (v1, no limit) mean unlimited.
      if (Number.isFinite(bytes) && bytes > 0 && bytes < totalmem()) limit = Math.min(limit ?? bytes, bytes)
    } catch {}
  }
  return limit === undefined ? undefined : limit / 1024 / 1024
}

// The cgroup root (a container with its own cgroup namespace sees its limit there), and the process's own
// cgroup from /proc/self/cgroup (a cgroup made on a host without a namespace, e.g. by systemd or by hand).
function memoryLimitFiles() {
  const files = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']
  try {
    for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [, controllers, ...rest] = line.split(':')
      const path = rest.join(':')
      if (!path || path === '/') continue
      if (controllers === '') files.push(`/sys/fs/cgroup${path}/memory.max`)
      else if (controllers.split(',').includes('memory'))
        files.push(`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`)
    }
  } catch {}
  return files
}

const compiled = new URL('../dist/cli/main.js', import.meta.url)
await import(existsSync(compiled) ? compiled.href : new URL('../src/cli/main.ts', import.meta.url).href)

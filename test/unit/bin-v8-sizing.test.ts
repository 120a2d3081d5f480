/**
 * `bin/weir.js` sizes V8 from the memory limit of the cgroup it runs in: the process is started inside a
 * real cgroup v1 memory group with a 256 MB limit (needs root and a writable
 * /sys/fs/cgroup/memory; skipped otherwise) and reports V8's own heap limit from a preload, which
 * NODE_OPTIONS carries across bin/weir.js's re-exec.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { accessSync, constants, mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const WEIR = fileURLToPath(new URL('../../bin/weir.js', import.meta.url))
const CGROUP_ROOT = '/sys/fs/cgroup/memory'
const run = promisify(execFile)

function cgroupV1Writable(): boolean {
  try {
    accessSync(CGROUP_ROOT, constants.W_OK)
    return process.getuid?.() === 0
  } catch {
    return false
  }
}

/** Prints, at exit, V8's heap limit, the flags the process runs with and its malloc arena setting. */
const PRELOAD = `data:text/javascript,${encodeURIComponent(
  "import v8 from 'node:v8'; process.on('exit', () => process.stderr.write('\\nV8 ' + JSON.stringify({ limitMb: v8.getHeapStatistics().heap_size_limit / 2 ** 20, execArgv: process.execArgv, arenas: process.env.MALLOC_ARENA_MAX ?? null }) + '\\n'))",
)}`

async function heapOf(
  prefix: readonly string[],
  nodeFlags: readonly string[] = [],
): Promise<{ limitMb: number; execArgv: string[]; arenas: string | null }> {
  const { stderr } = await run(
    prefix[0] ?? process.execPath,
    [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), ...nodeFlags, WEIR, 'apps'],
    {
      // Not WEIR_V8_SIZED: that says the flags are already set, and the process would not re-exec.
      env: {
        ...process.env,
        NODE_OPTIONS: `--import=${PRELOAD}`,
        WEIR_V8_SIZED: undefined,
        MALLOC_ARENA_MAX: undefined,
      },
    },
  )
  const line = stderr.split('\n').find((l) => l.startsWith('V8 '))
  assert.ok(line, `no heap report in: ${stderr}`)
  return JSON.parse(line.slice(3))
}

test('under a 256 MB cgroup limit, V8 is started with 8 MB semi-spaces and 153 MB of old space (its heap limit fits the container) and one malloc arena', {
  skip: !cgroupV1Writable() && 'needs root and cgroup v1 (/sys/fs/cgroup/memory)',
}, async (t) => {
  const cgroup = join(CGROUP_ROOT, `weir-test-v8-${process.pid}`)
  mkdirSync(cgroup)
  t.after(() => rmdirSync(cgroup))
  writeFileSync(join(cgroup, 'memory.limit_in_bytes'), String(256 * 2 ** 20))
  const inside = await heapOf(['sh', '-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$0" "$@"`])
  assert.ok(inside.execArgv.includes('--max-semi-space-size=8'), inside.execArgv.join(' '))
  assert.ok(inside.execArgv.includes('--max-old-space-size=153'), inside.execArgv.join(' '))
  assert.ok(inside.limitMb < 200, `V8 heap limit ${inside.limitMb} MB under a 256 MB limit`)
  assert.equal(inside.arenas, '1')
  // Heap flags of one's own win, and the one malloc arena still applies.
  const own = await heapOf(
    ['sh', '-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$0" "$@"`],
    ['--max-semi-space-size=16'],
  )
  assert.ok(own.execArgv.includes('--max-semi-space-size=16'), own.execArgv.join(' '))
  assert.ok(!own.execArgv.includes('--max-semi-space-size=8'), own.execArgv.join(' '))
  assert.equal(own.arenas, '1')
})

test('weir demo runs with a small heap and one malloc arena (its memory stays under 200 MB RSS)', async () => {
  const preload = `data:text/javascript,${encodeURIComponent(
    "process.on('exit', () => process.stderr.write('\\nENV ' + JSON.stringify({ arenas: process.env.MALLOC_ARENA_MAX ?? null, execArgv: process.execArgv }) + '\\n'))",
  )}`
  const { stderr } = await run(
    process.execPath,
    [WEIR, 'demo', '--port', '0', '--duration', '1', '--rate', '10'],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: `--import=${preload}`,
        WEIR_V8_SIZED: undefined,
        MALLOC_ARENA_MAX: undefined,
      },
      timeout: 30_000,
    },
  )
  const line = stderr.split('\n').find((l) => l.startsWith('ENV '))
  assert.ok(line, `no report in: ${stderr}`)
  const seen = JSON.parse(line.slice(4)) as { arenas: string | null; execArgv: string[] }
  assert.equal(seen.arenas, '1')
  assert.ok(seen.execArgv.includes('--max-old-space-size=160'), seen.execArgv.join(' '))
})

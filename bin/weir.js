#!/usr/bin/env node
// The `weir` command. An installed package runs the compiled dist/; a checkout of the repository runs
// the TypeScript sources directly (Node 24 strips the types).
import { existsSync } from 'node:fs'
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

const compiled = new URL('../dist/cli/main.js', import.meta.url)
await import(existsSync(compiled) ? compiled.href : new URL('../src/cli/main.ts', import.meta.url).href)

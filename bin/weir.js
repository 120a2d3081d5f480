#!/usr/bin/env node
// The `weir` command. An installed package runs the compiled dist/; a checkout of the repository runs
// the TypeScript sources directly (Node 24 strips the types).
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/cli/main.js', import.meta.url)
await import(existsSync(compiled) ? compiled.href : new URL('../src/cli/main.ts', import.meta.url).href)

// A node:test reporter that prints, after the run, the test files that took longest (the sum of their
// top-level tests and suites), so a slow file shows in every CI log before it makes the suite slow.
// It prints on the run's own summary event (the one without a file): with --test-force-exit the process
// may exit before the event stream ends.
import { relative } from 'node:path'

export default async function* slowestFiles(source) {
  const perFile = new Map()
  for await (const event of source) {
    if (event.type === 'test:pass' || event.type === 'test:fail') {
      const { nesting, file, details } = event.data
      if (nesting !== 0 || !file) continue
      const name = relative(process.cwd(), file)
      perFile.set(name, (perFile.get(name) ?? 0) + (details?.duration_ms ?? 0))
    } else if (event.type === 'test:summary' && !event.data.file) {
      yield report(perFile)
    }
  }
}

function report(perFile) {
  const rows = [...perFile].sort((a, b) => b[1] - a[1])
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0)
  const lines = rows.slice(0, 15).map(([name, ms]) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${name}`)
  return `\nslowest test files (${rows.length} files, ${(total / 1000).toFixed(0)} s of tests in all):\n${lines.join('\n')}\n\n`
}

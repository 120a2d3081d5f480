// Preloaded into every test file's process by scripts/test.sh, instead of --test-force-exit: that flag
// exits the moment the last test ends and can drop the verdicts still on their way to the runner
// (nodejs/node#64833: a file's last tests, even a failure's error, vanish and the count just shrinks).
// Here a file ends on its own once its tests are done; one that still holds its event loop open (a
// leaked socket or timer) is ended 10 s after its last test, with a line naming it, so it cannot hang
// the suite. Children a test spawns are killed by the helpers' own `after` hooks and exit handlers.
import { after } from 'node:test'
import { relative } from 'node:path'

const GRACE_MS = 10_000

after(() => {
  setTimeout(() => {
    const file = relative(process.cwd(), process.argv[1] ?? '?')
    process.stderr.write(`[test] ${file} still held its event loop open ${GRACE_MS / 1000} s after its last test; ending it\n`)
    process.exit()
  }, GRACE_MS).unref()
})

// npm's postinstall: applies patches/ (patch-package) to the installed dependencies: the Kafka client's
// record batch encoder (@platformatic/kafka: one Buffer per batch) and its 64-bit varints
// (@platformatic/dynamic-buffer: timestamps weeks apart); each patch says why at the lines it changes.
// A checkout's `npm ci` has patch-package (a devDependency) and fails loudly when a patch no longer
// applies, e.g. after the client is upgraded. Installed as a dependency of another project, Weir has no
// patches/ and no patch-package: nothing to do, and the client runs unpatched.
// Plain JavaScript: it may run under whatever node the installing project uses.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'

const root = new URL('..', import.meta.url)
let cli
try {
  cli = createRequire(new URL('package.json', root)).resolve('patch-package/index.js')
} catch {}
if (cli === undefined || !existsSync(new URL('patches', root))) process.exit(0)
const run = spawnSync(process.execPath, [cli, '--error-on-fail'], { cwd: root, stdio: 'inherit' })
process.exit(run.status ?? 1)

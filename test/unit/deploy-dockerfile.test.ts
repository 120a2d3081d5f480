/**
 * The Dockerfile, checked without a container engine (the image itself is built and run by hand:
 * `bash scripts/image.sh --test`): parsed with dockerfile-ast for what the image must be, its build
 * step run in a clean folder, and its health check script run against real HTTP servers.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type Dockerfile, DockerfileParser, type Instruction } from 'dockerfile-ast'
import { APPS } from '../../scripts/k8s-manifests.ts'
import { appNames } from '../../src/apps/index.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const run = promisify(execFile)
const source = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
const dockerfile: Dockerfile = DockerfileParser.parse(source)
const all = dockerfile.getInstructions()
const froms = dockerfile.getFROMs()
/** The runtime stage: everything after the last FROM. */
const final = all.filter((i) => i.getRange().start.line > froms.at(-1)!.getRange().start.line)
const keyword = (i: Instruction) => i.getKeyword()
/** An instruction's whole text, flags included (getArgumentsContent leaves out --from= and the like). */
const text = (i: Instruction) => {
  const { start, end } = i.getRange()
  return source
    .split('\n')
    .slice(start.line, end.line + 1)
    .join('\n')
    .slice(start.character)
}
const only = (kw: string) => {
  const found = final.filter((i) => keyword(i) === kw)
  assert.equal(found.length, 1, `one ${kw} in the runtime stage`)
  return found[0]!
}
const jsonArgs = (i: Instruction) =>
  (i as unknown as { getJSONStrings(): Array<{ getJSONValue(): string }> })
    .getJSONStrings()
    .map((s) => s.getJSONValue())

describe('Dockerfile', () => {
  test('is multi-stage on Node 24 slim, every stage from the same base', () => {
    assert.ok(froms.length >= 2, 'a build stage and a runtime stage')
    const base = dockerfile.getInitialARGs().find((a) => a.getProperty()?.getName() === 'NODE_IMAGE')
    assert.match(base?.getProperty()?.getValue() ?? '', /^(docker\.io\/library\/)?node:24[.\w-]*-slim$/)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ARG reference, verbatim
    for (const f of froms) assert.equal(f.getImage(), '${NODE_IMAGE}')
    assert.equal(froms.at(-1)!.getBuildStage(), null, 'the runtime stage is the last, unnamed one')
  })

  test('the runtime stage runs weir under tini as a numeric non-root user, with a health check', () => {
    assert.match(only('USER').getArgumentsContent() ?? '', /^[1-9]\d*:[1-9]\d*$/)
    assert.deepEqual(jsonArgs(only('ENTRYPOINT')), ['/usr/bin/tini', '--', 'weir'])
    assert.equal(jsonArgs(only('CMD'))[0], 'run')
    assert.equal(only('STOPSIGNAL').getArgumentsContent(), 'SIGTERM')
    const hc = text(only('HEALTHCHECK'))
    assert.match(hc, /CMD \["weir-healthcheck"\]/)
    assert.match(hc, /--start-period=\d+s/)
  })

  test('exposes the port of every app the manifests deploy', () => {
    const exposed = new Set((only('EXPOSE').getArgumentsContent() ?? '').split(/\s+/).map(Number))
    for (const app of APPS) {
      if (app.name === 'streampulse') continue // 9249: set by its manifests; EXPOSE lists the seeds' ports
      assert.ok(exposed.has(app.port), `EXPOSE ${app.port} (${app.name})`)
    }
  })

  test('the runtime stage installs no build tools and copies no sources or tests', () => {
    const installs = final
      .filter((i) => keyword(i) === 'RUN')
      .flatMap((i) => (i.getArgumentsContent() ?? '').match(/apt-get install ([^&]*)/g) ?? [])
      .flatMap((cmd) =>
        cmd
          .split(/\s+/)
          .slice(2)
          .filter((w) => w !== '' && !w.startsWith('-') && w !== '\\'),
      )
    assert.deepEqual(installs.sort(), ['tini', 'wget'])
    for (const copy of final.filter((i) => keyword(i) === 'COPY')) {
      const args = copy.getArgumentsContent() ?? ''
      assert.doesNotMatch(args, /(^|\s)(\S*\/)?(src|test)(\/|\s)/, `runtime COPY ${args}`)
    }
    const fromBuild = final.filter((i) => keyword(i) === 'COPY' && /--from=/.test(text(i))).map(text)
    assert.ok(
      fromBuild.some((c) => /--from=build \S*\/dist /.test(c)),
      'dist/ from the build stage',
    )
    assert.ok(
      fromBuild.some((c) => /--from=deps .*node_modules/.test(c)),
      'production node_modules',
    )
    const depsInstall = all.find(
      (i) => keyword(i) === 'RUN' && /npm ci --omit=dev/.test(i.getArgumentsContent() ?? ''),
    )
    assert.ok(depsInstall, 'the deps stage installs production dependencies only')
  })

  test('every file copied from the context exists and is let through by .dockerignore', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''))
    assert.ok(ignore.includes('*'), '.dockerignore starts from nothing')
    for (const copy of all.filter((i) => keyword(i) === 'COPY' && !/--from=/.test(text(i)))) {
      const sources = (copy.getArgumentsContent() ?? '').split(/\s+/).slice(0, -1)
      for (const src of sources) {
        assert.ok(existsSync(join(ROOT, src)), `${src} exists`)
        assert.ok(
          allowed.some((a) => src === a || src.startsWith(`${a}/`)),
          `${src} is in the build context`,
        )
      }
    }
  })

  test('the build step compiles in a clean folder, and the compiled CLI runs from it', async (t) => {
    // What the build stage does after `npm ci`: sources + tsconfigs + dependencies → tsc → dist/.
    const dir = mkdtempSync(join(tmpdir(), 'weir-docker-build-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json'])
      cpSync(join(ROOT, f), join(dir, f))
    cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true })
    cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: dir })
    rmSync(join(dir, 'src'), { recursive: true })
    // bin/weir.js prefers dist/ (what the image has); with src/ gone it cannot fall back to the sources.
    const { stdout } = await run(process.execPath, [join(dir, 'bin/weir.js'), 'apps'], { cwd: dir })
    for (const name of appNames()) assert.match(stdout, new RegExp(`\\b${name}\\b`))
  })
})

describe('deploy/healthcheck.sh (the image HEALTHCHECK)', () => {
  const script = join(ROOT, 'deploy/healthcheck.sh')

  async function server(t: { after(fn: () => unknown): void }, status: number): Promise<number> {
    const s = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? status : 404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ status: status === 200 ? 'healthy' : 'unhealthy' }))
    })
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    t.after(() => new Promise((r) => s.close(r)))
    return (s.address() as AddressInfo).port
  }

  async function check(env: Record<string, string>): Promise<number> {
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
    try {
      await run('sh', [script], { env: { ...base, ...env } })
      return 0
    } catch (err) {
      return (err as { code: number }).code
    }
  }

  test('passes on a 200 /health and fails on a 503 one', async (t) => {
    const up = await server(t, 200)
    const down = await server(t, 503)
    assert.equal(await check({ HEALTH_PORT: String(up) }), 0)
    assert.notEqual(await check({ HEALTH_PORT: String(down) }), 0)
    assert.equal(await check({ API_PORT: String(up) }), 0)
    assert.equal(await check({ WEB_PORT: String(up) }), 0)
    assert.notEqual(
      await check({ WEIR_HEALTH_PORT: String(down), HEALTH_PORT: String(up) }),
      0,
      'WEIR_HEALTH_PORT wins',
    )
  })

  test("finds the app's default port from PID 1's command line when no port is set", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-hc-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    // The script with its last line turned into an echo prints the URL it would check.
    const cmdline = join(dir, 'cmdline')
    const cases: Record<string, string> = {
      'run traffic': '3001',
      'run traffic-windows': '3002',
      'run rideshare': '8080',
      'run millionx': '6069',
      'run millionx --stage privacy-shield': '6066',
      'run millionx --stage context-enricher': '6067',
      'run millionx --stage embedding-service': '6068',
      'run streampulse': '9249',
    }
    for (const [args, port] of Object.entries(cases)) {
      writeFileSync(cmdline, ['/usr/bin/tini', '--', 'weir', ...args.split(' ')].join('\0'))
      const { stdout } = await run('sh', ['-c', `sed 's/exec wget/echo/' "${script}" | sh`], {
        env: { PATH: process.env.PATH ?? '', WEIR_HEALTH_CMDLINE: cmdline },
      })
      assert.match(stdout, new RegExp(`http://127\\.0\\.0\\.1:${port}/health`), args)
    }
  })
})

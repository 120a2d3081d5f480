/**
 * Debian's Chromium driven by playwright-core (it cannot download its own browser here): headless, no
 * sandbox (root in a container), no network chatter of its own, a fresh profile per launch. Every page
 * records console errors, failed requests and uncaught exceptions, so a test can assert there were none.
 * Screenshots go to test/browser/artifacts/ (git-ignored).
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import type { Cleanup } from '../../integration/helpers/services.ts'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `${CHROMIUM} is missing: run \`bash scripts/browser.sh\` (apt-get install chromium) to run the dashboard's browser tests`
}

export interface WatchedPage {
  readonly page: Page
  /** Console errors, page errors and failed requests seen so far. */
  readonly problems: string[]
}

/** A fresh browser with its own profile; `httpCredentials` answers a basic-auth challenge. */
export async function launchBrowser(
  cleanup: Cleanup,
  options: { httpCredentials?: { username: string; password: string } } = {},
): Promise<BrowserContext> {
  const profile = await mkdtemp(join(tmpdir(), 'weir-chromium-'))
  cleanup(() => rm(profile, { recursive: true, force: true }))
  // Playwright takes the profile (--user-data-dir) as launchPersistentContext's first argument.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ...options,
  })
  cleanup(() => context.close())
  return context
}

export async function openPage(context: BrowserContext, cleanup: Cleanup): Promise<WatchedPage> {
  const page = await context.newPage()
  cleanup(() => page.close())
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('requestfailed', (r) => {
    // An EventSource or fetch cut by navigation or by the test closing the page is not a page problem.
    const reason = r.failure()?.errorText ?? ''
    if (!/ERR_ABORTED/.test(reason)) problems.push(`request failed: ${r.url()} ${reason}`)
  })
  return { page, problems }
}

/** Saves a PNG of the page (the whole page unless `fullPage: false`) as test/browser/artifacts/<name>.png. */
export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path, fullPage: options.fullPage ?? true })
  return path
}

/**
 * Optional protection for the ops port: everything but `/health` (kept open for probes) needs either
 * the bearer token `OPS_AUTH_TOKEN` or the basic-auth login `OPS_BASIC_AUTH` (`user:password`; both also
 * from `<VAR>_FILE`). A browser cannot send a bearer header when it opens a page, so `/?token=<token>`
 * answers with an HttpOnly session cookie (a hash of the token, never the token) and a redirect that
 * drops the token from the address bar, as Jupyter does.
 *
 * @example
 * const access = opsAccessFromEnv(process.env, { personalData: true })
 * createOpsServer({ ..., auth: access.auth, showValues: access.showValues })
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { envBool, envSecret, loadConfig } from '../config/index.ts'
import type { Secret } from '../config/secret.ts'
import type { OpsResponse } from './router.ts'

export interface OpsAuth {
  /** `Authorization: Bearer <token>`. */
  readonly token?: Secret
  /** `Authorization: Basic …` with `user:password`. */
  readonly basic?: Secret
}

export interface OpsAccess {
  readonly auth: OpsAuth | undefined
  /** Whether dead-letter previews show key and value bytes. */
  readonly showValues: boolean
}

/**
 * The session cookie's name: one per token, since cookies ignore the port and two apps on one host
 * (each with its own token) would otherwise overwrite each other's session.
 */
export function sessionCookieName(token: string): string {
  return `weir_ops_${sessionOf(token).slice(0, 8)}`
}

/** What `weir describe` lists for these variables. */
export const OPS_ACCESS_ENV_DOCS: ReadonlyArray<{
  readonly name: string
  readonly default?: string
  readonly description: string
}> = [
  {
    name: 'OPS_AUTH_TOKEN',
    description:
      'bearer token the ops port asks for on everything but /health (or OPS_AUTH_TOKEN_FILE); a browser opens /?token=<token> once',
  },
  {
    name: 'OPS_BASIC_AUTH',
    description:
      'user:password for basic auth on the ops port, everything but /health (or OPS_BASIC_AUTH_FILE)',
  },
  {
    name: 'OPS_SHOW_VALUES',
    default: 'true',
    description:
      'dead-letter previews on the dashboard show key and value bytes (default false for apps with personal data)',
  },
]

const accessEnv = z
  .object({
    OPS_AUTH_TOKEN: envSecret({ optional: true }),
    OPS_BASIC_AUTH: envSecret({ optional: true }),
    OPS_SHOW_VALUES: envBool({ optional: true }),
  })
  .superRefine((c, ctx) => {
    const basic = c.OPS_BASIC_AUTH?.reveal()
    if (basic !== undefined && (!basic.includes(':') || basic.startsWith(':') || basic.endsWith(':'))) {
      ctx.addIssue({ code: 'custom', path: ['OPS_BASIC_AUTH'], message: 'expected user:password' })
    }
  })

/** Reads OPS_AUTH_TOKEN, OPS_BASIC_AUTH and OPS_SHOW_VALUES; a bad value names the variable. */
export function opsAccessFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  app: { readonly personalData?: boolean } = {},
): OpsAccess {
  const c = loadConfig(accessEnv, env)
  const auth =
    c.OPS_AUTH_TOKEN === undefined && c.OPS_BASIC_AUTH === undefined
      ? undefined
      : {
          ...(c.OPS_AUTH_TOKEN && { token: c.OPS_AUTH_TOKEN }),
          ...(c.OPS_BASIC_AUTH && { basic: c.OPS_BASIC_AUTH }),
        }
  return { auth, showValues: c.OPS_SHOW_VALUES ?? app.personalData !== true }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b))
}

/** The cookie value for a token: a hash, so the cookie jar never holds the token itself. */
function sessionOf(token: string): string {
  return createHash('sha256').update(`weir-ops-session\u0000${token}`).digest('base64url')
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

interface AuthRequest {
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: Readonly<Record<string, string | undefined>>
}

/**
 * `undefined` when the request may pass; otherwise the answer: 401 with `WWW-Authenticate`, or for a
 * right `?token=` the redirect that sets the session cookie.
 */
export function checkAccess(auth: OpsAuth, req: AuthRequest): OpsResponse | undefined {
  const header = req.headers.authorization ?? ''
  const space = header.indexOf(' ')
  const scheme = space > 0 ? header.slice(0, space).toLowerCase() : ''
  const credentials = space > 0 ? header.slice(space + 1).trim() : ''
  const token = auth.token?.reveal()
  const basic = auth.basic?.reveal()
  if (token !== undefined) {
    if (scheme === 'bearer' && same(credentials, token)) return undefined
    const session = cookie(req.headers.cookie, sessionCookieName(token))
    if (session !== undefined && same(session, sessionOf(token))) return undefined
    const given = req.query.get('token')
    if (given !== null && same(given, token)) {
      const rest = new URLSearchParams(req.query)
      rest.delete('token')
      const location = `.${req.path.slice(req.path.lastIndexOf('/'))}${rest.size > 0 ? `?${rest}` : ''}`
      return {
        status: 303,
        headers: {
          location,
          'set-cookie': `${sessionCookieName(token)}=${sessionOf(token)}; HttpOnly; SameSite=Strict; Path=/`,
        },
        body: '',
      }
    }
  }
  if (basic !== undefined && scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8')
    if (same(decoded, basic)) return undefined
  }
  const challenges = [
    ...(basic !== undefined ? ['Basic realm="weir ops", charset="UTF-8"'] : []),
    ...(token !== undefined ? ['Bearer realm="weir ops"'] : []),
  ]
  const how = [
    ...(token !== undefined
      ? ['Authorization: Bearer <OPS_AUTH_TOKEN> (a browser: open /?token=<OPS_AUTH_TOKEN>)']
      : []),
    ...(basic !== undefined ? ['basic auth with the OPS_BASIC_AUTH login'] : []),
  ]
  return {
    status: 401,
    headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': challenges.join(', ') },
    body: JSON.stringify({ error: 'unauthorized', message: `This ops port needs ${how.join(' or ')}` }),
  }
}

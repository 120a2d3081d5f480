/**
 * Dotted field paths (`coordinates.latitude`, `items.0.price`), split once at compile time into a
 * getter. A missing step anywhere gives `undefined`; a path never reads through the prototype chain's
 * special names.
 */
export type Getter = (record: unknown) => unknown

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor'])

/** Why a path is unusable, or undefined when it is fine. */
export function pathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'a field path must be a non-empty string'
  const segments = path.split('.')
  for (const s of segments) {
    if (s.length === 0) return `field path "${path}" has an empty segment`
    if (FORBIDDEN.has(s)) return `field path "${path}" uses the reserved name "${s}"`
  }
  return undefined
}

function step(o: unknown, key: string): unknown {
  return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined
}

/** Compiles a dotted path into a getter. Call `pathProblem` first; this one trusts its input. */
export function compilePath(path: string): Getter {
  const s = path.split('.')
  const [a, b, c] = s as [string, string, string]
  switch (s.length) {
    case 1:
      return (o) => step(o, a)
    case 2:
      return (o) => step(step(o, a), b)
    case 3:
      return (o) => step(step(step(o, a), b), c)
    default:
      return (o) => {
        let cur = o
        for (let i = 0; i < s.length && cur !== undefined; i++) cur = step(cur, s[i]!)
        return cur
      }
  }
}

/** Absent means `undefined` or `null`: both are what a missing JSON field looks like. */
export function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null
}

/**
 * `Accept` header negotiation for /metrics: JSON unless the client prefers Prometheus text.
 * Prometheus sends `application/openmetrics-text;...,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1` → text;
 * browsers and curl send `*\/*` or `text/html,...` → JSON.
 */
interface Range {
  type: string
  subtype: string
  q: number
}

function parseAccept(header: string): Range[] {
  const out: Range[] = []
  for (const part of header.split(',')) {
    const [media = '', ...params] = part.split(';')
    const [type = '', subtype = ''] = media.trim().toLowerCase().split('/')
    if (type === '' || subtype === '') continue
    let q = 1
    for (const p of params) {
      const [k, v] = p.split('=')
      if (k?.trim().toLowerCase() === 'q') {
        const n = Number(v?.trim())
        q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0
      }
    }
    out.push({ type, subtype, q })
  }
  return out
}

/** The q-value of a media type under the most specific matching range (RFC 9110 §12.5.1); 0 if none. */
function qualityOf(ranges: readonly Range[], media: string): number {
  const [type, subtype] = media.split('/')
  let best = -1
  let q = 0
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype
        ? 2
        : r.type === type && r.subtype === '*'
          ? 1
          : r.type === '*'
            ? 0
            : -1
    if (specificity > best) {
      best = specificity
      q = r.q
    }
  }
  return q
}

export function prefersPrometheus(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return false
  const ranges = parseAccept(accept)
  const json = qualityOf(ranges, 'application/json')
  const text = Math.max(qualityOf(ranges, 'text/plain'), qualityOf(ranges, 'application/openmetrics-text'))
  return text > json
}

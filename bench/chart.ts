/** A hand-written SVG bar chart: throughput as a ratio of the Kafka ceiling, with min–max whiskers. */

export interface Bar {
  readonly label: string
  readonly ratio: { median: number; min: number; max: number }
  readonly note: string
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function renderChart(bars: readonly Bar[], title: string): string {
  const left = 250
  const width = 760
  const plotW = width - left - 40
  const rowH = 44
  const top = 50
  const height = top + bars.length * rowH + 50
  const maxRatio = Math.max(1, ...bars.map((b) => (Number.isFinite(b.ratio.max) ? b.ratio.max : 0)))
  const x = (r: number) => left + (Math.min(r, maxRatio) / maxRatio) * plotW
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ]
  for (const tick of [0, 0.25, 0.5, 0.75, 1].filter((t) => t <= maxRatio)) {
    const tx = x(tick)
    parts.push(
      `<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${height - 40}" stroke="${tick === 0.5 ? '#c00' : '#ddd'}" stroke-dasharray="${tick === 0.5 ? '4 3' : ''}"/>`,
      `<text x="${tx}" y="${height - 24}" text-anchor="middle" fill="#555">${Math.round(tick * 100)} %</text>`,
    )
  }
  parts.push(`<text x="${x(0.5) + 4}" y="${top - 10}" fill="#c00" font-size="11">workload 1 target</text>`)
  bars.forEach((b, i) => {
    const y = top + i * rowH
    const w = Math.max(1, x(b.ratio.median) - left)
    parts.push(
      `<text x="${left - 8}" y="${y + 18}" text-anchor="end">${esc(b.label)}</text>`,
      `<text x="${left - 8}" y="${y + 33}" text-anchor="end" fill="#777" font-size="11">of ${esc(b.note)} ceiling</text>`,
      `<rect x="${left}" y="${y + 6}" width="${w.toFixed(1)}" height="26" fill="#3a7bd5"/>`,
      `<line x1="${x(b.ratio.min).toFixed(1)}" y1="${y + 19}" x2="${x(b.ratio.max).toFixed(1)}" y2="${y + 19}" stroke="#111" stroke-width="2"/>`,
      `<text x="${(x(b.ratio.max) + 6).toFixed(1)}" y="${y + 24}">${(b.ratio.median * 100).toFixed(0)} %</text>`,
    )
  })
  parts.push(
    `<text x="${left}" y="${height - 6}" fill="#777" font-size="11">bar: median; line: min–max over runs; c+p = 1/(1/produce + 1/consume)</text>`,
    '</svg>',
  )
  return `${parts.join('\n')}\n`
}

/**
 * How a long replay shows its progress: a bar redrawn in place on a terminal, a line every few seconds
 * otherwise (logs, CI).
 *
 * @example
 * const bar = progressReporter({ stream: process.stderr, label: 'replay' })
 * await replayDeadLetters({ ..., onProgress: bar.update })
 * bar.done()
 */
import type { ReplayProgress } from './replay.ts'

export interface ProgressReporterOptions {
  readonly stream: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number }
  /** Redraws at most this often on a terminal. Default 100 ms. */
  readonly ttyEveryMs?: number
  /** A line at most this often otherwise. Default 5000 ms. */
  readonly lineEveryMs?: number
  readonly now?: () => number
}

export interface ProgressReporter {
  update(progress: ReplayProgress): void
  /** Draws the final state and ends the line. */
  done(): void
}

const n = (x: number) => x.toLocaleString('en-US')

/** `[██████░░░░]  60% 6,000/10,000 · replayed 5,400 · skipped 600 · 2,300/s` */
export function formatProgress(p: ReplayProgress, width = 24): string {
  const ratio = p.total === 0 ? 1 : Math.min(1, p.position / p.total)
  const filled = Math.round(ratio * width)
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`
  const rate = p.elapsedMs > 0 ? Math.round((p.position * 1000) / p.elapsedMs) : 0
  const parts = [
    `${bar} ${String(Math.floor(ratio * 100)).padStart(3)}% ${n(p.position)}/${n(p.total)}`,
    `replayed ${n(p.replayed)}`,
    `skipped ${n(p.skipped)}`,
  ]
  if (p.unroutable > 0) parts.push(`unroutable ${n(p.unroutable)}`)
  parts.push(`${n(rate)}/s`)
  return parts.join(' · ')
}

export function progressReporter(options: ProgressReporterOptions): ProgressReporter {
  const tty = options.stream.isTTY === true
  const every = tty ? (options.ttyEveryMs ?? 100) : (options.lineEveryMs ?? 5000)
  const now = options.now ?? (() => performance.now())
  let last: ReplayProgress | undefined
  let drawnAt = Number.NEGATIVE_INFINITY
  let drawnLast: ReplayProgress | undefined
  const draw = (p: ReplayProgress) => {
    drawnAt = now()
    drawnLast = p
    const line = formatProgress(p)
    options.stream.write(tty ? `\r${line}\u001b[K` : `${line}\n`)
  }
  return {
    update(p) {
      last = p
      if (now() - drawnAt >= every) draw(p)
    },
    done() {
      if (last !== undefined && (drawnLast === undefined || !sameCounts(last, drawnLast))) draw(last)
      if (tty && drawnLast !== undefined) options.stream.write('\n')
    },
  }
}

function sameCounts(a: ReplayProgress, b: ReplayProgress): boolean {
  return (
    a.position === b.position &&
    a.total === b.total &&
    a.replayed === b.replayed &&
    a.skipped === b.skipped &&
    a.unroutable === b.unroutable
  )
}

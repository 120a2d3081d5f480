import type { MetricsRegistry } from '../../core/metrics.ts'

/** What a window operator reports of its event-time progress when metrics are scraped. */
export interface WindowProgress {
  readonly operator: string
  /** The watermark the operator last closed windows at (ms); −∞ before the first record. */
  watermark(): number
  /** Per input partition, the time windows are closed through (ms; persisted with the state). */
  closedThrough(): Iterable<{ readonly partition: number; readonly time: number }>
}

const byRegistry = new WeakMap<MetricsRegistry, Set<WindowProgress>>()

/**
 * `weir_window_watermark_seconds{operator}` and `weir_window_closed_through_seconds{operator,partition}`
 * (Unix time, as Flink's currentInputWatermark): how far event time has carried each window operator.
 * A watermark that stops while records flow, or stands still once input ends, is why results are late.
 * Returns the unregister function.
 */
export function registerWindowProgress(registry: MetricsRegistry, source: WindowProgress): () => void {
  const sources = progressSources(registry)
  sources.add(source)
  return () => sources.delete(source)
}

/** The operators registered with `registry`; its two gauges (one reader each) are set up with the first. */
function progressSources(registry: MetricsRegistry): Set<WindowProgress> {
  const known = byRegistry.get(registry)
  if (known !== undefined) return known
  const sources = new Set<WindowProgress>()
  byRegistry.set(registry, sources)
  registry.collect(
    'weir_window_watermark_seconds',
    'Event-time watermark of each window operator (Unix time)',
    () => {
      const out: Array<{ labels: Record<string, string>; value: number }> = []
      for (const s of sources) {
        const wm = s.watermark()
        if (Number.isFinite(wm)) out.push({ labels: { operator: s.operator }, value: wm / 1000 })
      }
      return out
    },
  )
  registry.collect(
    'weir_window_closed_through_seconds',
    'Time through which windows are closed, per window operator and input partition (Unix time)',
    () => {
      const out: Array<{ labels: Record<string, string>; value: number }> = []
      for (const s of sources)
        for (const p of s.closedThrough())
          if (Number.isFinite(p.time))
            out.push({
              labels: { operator: s.operator, partition: String(p.partition) },
              value: p.time / 1000,
            })
      return out
    },
  )
  return sources
}

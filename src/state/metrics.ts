import type { Counter, Histogram, MetricsRegistry } from '../core/metrics.ts'

/** What a state owner reports when metrics are scraped. */
export interface StateSource {
  readonly operator: string
  partitions(): Iterable<{ readonly partition: number; readonly size: number; estimateBytes(): number }>
}

/**
 * State metrics, shared by every stateful operator of a registry (a computed gauge has one reader, so
 * the reader walks every registered source):
 * `weir_state_keys{operator,partition}`, `weir_state_bytes{operator}` (estimate),
 * `weir_state_restore_seconds{operator}`, `weir_state_restored_records_total{operator}`,
 * `weir_state_changelog_writes_total{operator}`, `weir_state_replay_skipped_total{operator}`,
 * `weir_state_evicted_total{operator,reason}`.
 */
export interface StateMetrics {
  readonly restoreSeconds: Histogram
  readonly restoredRecords: Counter
  readonly changelogWrites: Counter
  readonly replaySkipped: Counter
  readonly evicted: Counter
  register(source: StateSource): () => void
}

const byRegistry = new WeakMap<MetricsRegistry, StateMetrics>()

export function stateMetrics(registry: MetricsRegistry): StateMetrics {
  const existing = byRegistry.get(registry)
  if (existing !== undefined) return existing
  const sources = new Set<StateSource>()
  registry.collect('weir_state_keys', 'Keys held in state, per operator and input partition', () => {
    const out: Array<{ labels: Record<string, string>; value: number }> = []
    for (const s of sources) {
      for (const p of s.partitions())
        out.push({ labels: { operator: s.operator, partition: String(p.partition) }, value: p.size })
    }
    return out
  })
  registry.collect('weir_state_bytes', 'Estimated serialized size of state, per operator', () =>
    [...sources].map((s) => {
      let value = 0
      for (const p of s.partitions()) value += p.estimateBytes()
      return { labels: { operator: s.operator }, value }
    }),
  )
  const m: StateMetrics = {
    restoreSeconds: registry.histogram(
      'weir_state_restore_seconds',
      'Time to restore a partition of state from its changelog',
    ),
    restoredRecords: registry.counter(
      'weir_state_restored_records_total',
      'Changelog records read while restoring state',
    ),
    changelogWrites: registry.counter(
      'weir_state_changelog_writes_total',
      'Records written to state changelogs',
    ),
    replaySkipped: registry.counter(
      'weir_state_replay_skipped_total',
      'Input records skipped after a restore because the restored state already included them',
    ),
    evicted: registry.counter(
      'weir_state_evicted_total',
      'Keys dropped from state to bound memory, by reason (ttl, max-keys)',
    ),
    register(source) {
      sources.add(source)
      return () => sources.delete(source)
    },
  }
  byRegistry.set(registry, m)
  return m
}

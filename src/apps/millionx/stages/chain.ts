/**
 * Stage-by-stage throughput of the MillionX chain, where a stage can see it: the stages running in this
 * process (`weir run millionx` runs them all) register their runtime counters here, and each stage's
 * dashboard shows every registered stage. A stage run elsewhere (`--stage`, another pod) is listed as
 * such: its numbers are on its own port.
 */
import type { MetricsRegistry } from '../../../core/metrics.ts'
import { sumByLabel } from '../../../ops/dashboard/summary.ts'
import { MILLIONX_STAGE_IDS } from './index.ts'

export interface StageCounts {
  readonly consumed: number
  readonly produced: number
  readonly deadLettered: number
  /** Dead letters by error code. */
  readonly deadLettersByCode: Readonly<Record<string, number>>
}

export interface ChainRow {
  readonly stage: string
  readonly where: string
  readonly records_in: number | null
  readonly records_out: number | null
  readonly dead_letters: number | null
  readonly dead_letter_codes: string
}

const probes = new Map<string, () => StageCounts>()

/** The runtime's counters of one stage's registry (the same metrics the runtime increments). */
export function stageCounts(registry: MetricsRegistry): () => StageCounts {
  const consumed = registry.counter('weir_records_consumed_total', 'Records read from input topics')
  const produced = registry.counter('weir_records_produced_total', 'Records written to output topics')
  const dead = registry.counter('weir_records_dead_lettered_total', 'Records sent to the dead-letter topic')
  const snapshot = (registry as Partial<{ snapshot(): Record<string, unknown> }>).snapshot
  return () => ({
    consumed: consumed.total(),
    produced: produced.total(),
    deadLettered: dead.total(),
    deadLettersByCode:
      snapshot === undefined
        ? {}
        : sumByLabel(snapshot.call(registry).weir_records_dead_lettered_total, 'code'),
  })
}

/** A stage joins the chain view; the returned function leaves it (on close). */
export function joinChain(stage: string, counts: () => StageCounts): () => void {
  probes.set(stage, counts)
  return () => {
    if (probes.get(stage) === counts) probes.delete(stage)
  }
}

/** One row per MillionX stage, in pipeline order; null numbers for stages not in this process. */
export function chainRows(): ChainRow[] {
  return MILLIONX_STAGE_IDS.map((stage) => {
    const probe = probes.get(stage)
    if (probe === undefined)
      return {
        stage,
        where: 'not in this process (see its own port)',
        records_in: null,
        records_out: null,
        dead_letters: null,
        dead_letter_codes: '',
      }
    const c = probe()
    return {
      stage,
      where: 'this process',
      records_in: c.consumed,
      records_out: c.produced,
      dead_letters: c.deadLettered,
      dead_letter_codes: Object.entries(c.deadLettersByCode)
        .sort((a, b) => b[1] - a[1])
        .map(([code, n]) => `${code} ${n.toLocaleString('en-US')}`)
        .join(', '),
    }
  })
}

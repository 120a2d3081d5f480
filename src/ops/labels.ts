/**
 * Series lookup by label set. `observe()` and `inc()` run per record, so the common paths avoid work:
 * no labels hits a dedicated slot, and a labelled call costs one string concatenation plus one Map lookup.
 * Label sets are canonicalised (names sorted) once, when a series is first seen.
 */
import type { Labels } from '../core/metrics.ts'
import { braces, renderLabelPairs } from './exposition.ts'

export interface SeriesEntry<T> {
  readonly labels: Labels
  /** `a=1,b=x` (names sorted): the key in the JSON snapshot; `''` for the unlabelled series. */
  readonly jsonKey: string
  /** `{a="1",b="x"}` ready for the exposition; `''` for the unlabelled series. */
  readonly rendered: string
  /** The label pairs without braces, for appending `le`. */
  readonly pairs: string
  readonly cell: T
}

/** Label sets beyond the cap share this series, so a label with unbounded values cannot exhaust memory. */
export const OVERFLOW_LABELS: Labels = Object.freeze({ overflow: 'true' })

function fastKey(labels: Labels): string {
  let key = ''
  for (const name in labels) key += `${name}\u0000${labels[name]}\u0001`
  return key
}

function entry<T>(labels: Labels, cell: T): SeriesEntry<T> {
  const copy: Record<string, string> = {}
  for (const name of Object.keys(labels).sort()) copy[name] = String(labels[name])
  const pairs = renderLabelPairs(copy)
  const jsonKey = Object.entries(copy)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
  return { labels: Object.freeze(copy), jsonKey, rendered: braces(pairs), pairs, cell }
}

export class SeriesTable<T> {
  readonly #create: () => T
  readonly #maxSeries: number
  #unlabelled: SeriesEntry<T> | undefined
  readonly #byFastKey = new Map<string, SeriesEntry<T>>()
  readonly #byCanonical = new Map<string, SeriesEntry<T>>()

  constructor(create: () => T, maxSeries: number) {
    this.#create = create
    this.#maxSeries = maxSeries
  }

  /** The cell for these labels, created on first use. */
  get(labels: Labels | undefined): T {
    if (labels === undefined) return this.#unlabelledCell()
    const key = fastKey(labels)
    if (key === '') return this.#unlabelledCell()
    const hit = this.#byFastKey.get(key)
    if (hit !== undefined) return hit.cell
    return this.#slow(key, labels).cell
  }

  /** The cell for these labels if the series exists; never creates one. */
  peek(labels: Labels | undefined): T | undefined {
    if (labels === undefined) return this.#unlabelled?.cell
    const key = fastKey(labels)
    if (key === '') return this.#unlabelled?.cell
    const hit = this.#byFastKey.get(key)
    if (hit !== undefined) return hit.cell
    return this.#byCanonical.get(entry(labels, undefined).jsonKey)?.cell
  }

  get size(): number {
    return (this.#unlabelled === undefined ? 0 : 1) + this.#byCanonical.size
  }

  *entries(): IterableIterator<SeriesEntry<T>> {
    if (this.#unlabelled !== undefined) yield this.#unlabelled
    yield* this.#byCanonical.values()
  }

  #unlabelledCell(): T {
    if (this.#unlabelled === undefined) this.#unlabelled = entry({}, this.#create())
    return this.#unlabelled.cell
  }

  #slow(key: string, labels: Labels): SeriesEntry<T> {
    const probe = entry(labels, undefined)
    let found = this.#byCanonical.get(probe.jsonKey)
    if (found === undefined) {
      if (this.#byCanonical.size >= this.#maxSeries) return this.#overflow()
      found = { ...probe, cell: this.#create() }
      this.#byCanonical.set(found.jsonKey, found)
    }
    // The same label set in another key order is another fast key; bound those too.
    if (this.#byFastKey.size < this.#maxSeries * 4) this.#byFastKey.set(key, found)
    return found
  }

  #overflow(): SeriesEntry<T> {
    const probe = entry(OVERFLOW_LABELS, undefined)
    let found = this.#byCanonical.get(probe.jsonKey)
    if (found === undefined) {
      found = { ...probe, cell: this.#create() }
      this.#byCanonical.set(found.jsonKey, found)
    }
    return found
  }
}

/**
 * Series lookup by label set. `observe()` and `inc()` run per record, so a hit allocates nothing: no
 * labels goes to a dedicated slot, and a labelled call walks a trie of Maps keyed by each label name and
 * value in the caller's key order (strings the caller already holds, so no key string is built).
 * Label sets are canonicalised (names sorted) once, when a series is first seen; the same set given in
 * another key order is another trie path to the same series.
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

interface TrieNode<T> {
  next: Map<string, Map<string, TrieNode<T>>> | undefined
  found: SeriesEntry<T> | undefined
}

const newNode = <T>(): TrieNode<T> => ({ next: undefined, found: undefined })

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
  readonly #root: TrieNode<T> = newNode()
  #paths = 0
  readonly #byCanonical = new Map<string, SeriesEntry<T>>()

  constructor(create: () => T, maxSeries: number) {
    this.#create = create
    this.#maxSeries = maxSeries
  }

  /** The cell for these labels, created on first use. */
  get(labels: Labels | undefined): T {
    if (labels === undefined) return this.#unlabelledCell()
    let node = this.#root
    let empty = true
    for (const name in labels) {
      empty = false
      const child = node.next?.get(name)?.get(labels[name]!)
      if (child === undefined) return this.#slow(labels).cell
      node = child
    }
    if (empty) return this.#unlabelledCell()
    return (node.found ?? this.#slow(labels)).cell
  }

  /** The cell for these labels if the series exists; never creates one. */
  peek(labels: Labels | undefined): T | undefined {
    if (labels === undefined || Object.keys(labels).length === 0) return this.#unlabelled?.cell
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

  #slow(labels: Labels): SeriesEntry<T> {
    const probe = entry(labels, undefined)
    let found = this.#byCanonical.get(probe.jsonKey)
    if (found === undefined) {
      if (this.#byCanonical.size >= this.#maxSeries) return this.#overflow()
      found = { ...probe, cell: this.#create() }
      this.#byCanonical.set(found.jsonKey, found)
    }
    // Remember this key order's path; bounded so permutations cannot grow it without limit.
    if (this.#paths < this.#maxSeries * 4) {
      this.#paths++
      let node = this.#root
      for (const name in labels) {
        node.next ??= new Map()
        let byValue = node.next.get(name)
        if (byValue === undefined) {
          byValue = new Map()
          node.next.set(name, byValue)
        }
        const value = labels[name]!
        let child = byValue.get(value)
        if (child === undefined) {
          child = newNode()
          byValue.set(value, child)
        }
        node = child
      }
      node.found = found
    }
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

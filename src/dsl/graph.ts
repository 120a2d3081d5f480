import type { Sink } from '../connectors/contract.ts'
import { ErrorCode, WeirError } from '../core/errors.ts'
import type { Serde } from '../core/serde.ts'
import type { ErrorPolicy, RetryOptions } from '../runtime/error-policy.ts'
import type { AnyRecord, Processor } from '../runtime/processor.ts'

/** Per-operator error handling; unset fields fall back to the pipeline's. */
export interface ErrorHandling {
  readonly onError?: ErrorPolicy
  readonly retry?: Partial<RetryOptions>
}

export interface SourceNode {
  readonly kind: 'source'
  readonly id: number
  readonly name: string
  readonly topic: string
  readonly key: Serde<unknown>
  readonly value: Serde<unknown>
}

export interface ProcessorNode {
  readonly kind: 'processor'
  readonly id: number
  readonly name: string
  readonly parents: readonly number[]
  readonly create: () => Processor
  readonly errors: ErrorHandling
  /**
   * For nodes with a second output (validate's invalid branch): the node id of the branch whose
   * records this node produces; set on the branch node itself.
   */
  readonly port?: { readonly of: number; readonly name: string }
}

export interface TopicSinkNode {
  readonly kind: 'topic-sink'
  readonly id: number
  readonly name: string
  readonly parents: readonly number[]
  readonly topic: string
  readonly key: Serde<unknown>
  readonly value: Serde<unknown>
  readonly errors: ErrorHandling
}

export interface ExternalSinkNode {
  readonly kind: 'external-sink'
  readonly id: number
  readonly name: string
  readonly parents: readonly number[]
  readonly sink: Sink<unknown>
  readonly toItem: (record: AnyRecord) => unknown
  readonly errors: ErrorHandling
}

export type GraphNode = SourceNode | ProcessorNode | TopicSinkNode | ExternalSinkNode

/** Declared topics the runtime creates at start. */
export interface TopicDeclaration {
  readonly name: string
  readonly role: 'input' | 'output' | 'internal'
  readonly partitions?: number
  /**
   * Internal topics: created with the partition count of the widest of these topics (a repartition
   * topic takes its source's count, or the table's it is joined with), not the pipeline's widest input.
   */
  readonly partitionsLike?: readonly string[]
  readonly config?: Readonly<Record<string, string>>
}

/** A repartition already in the graph: asking again for the same topic from the same place reuses it. */
export interface RepartitionEntry {
  readonly parent: number
  readonly key: unknown
  readonly source: number
}

/**
 * The logical graph of a pipeline. Append-only: DSL calls add nodes and return new streams, nothing is
 * ever changed or removed, so two branches taken from one stream can never affect each other.
 * It is compiled to executors once, when the pipeline starts.
 */
export class Topology {
  readonly name: string
  readonly #nodes: GraphNode[] = []
  readonly #names = new Set<string>()
  readonly #counters = new Map<string, number>()
  readonly #topics = new Map<string, TopicDeclaration>()
  readonly #repartitions = new Map<string, RepartitionEntry>()

  constructor(name: string) {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) {
      throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `pipeline name "${name}" must match [A-Za-z0-9._-]+`)
    }
    this.name = name
  }

  /** A deterministic name for an unnamed operator: `map-1`, `filter-2`, … in call order. */
  nameFor(kind: string, given: string | undefined): string {
    if (given !== undefined) {
      if (this.#names.has(given)) {
        throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `two operators are named "${given}"; names must be unique`)
      }
      return given
    }
    const n = (this.#counters.get(kind) ?? 0) + 1
    this.#counters.set(kind, n)
    return `${kind}-${n}`
  }

  add<N extends GraphNode>(make: (id: number) => N): N {
    const node = make(this.#nodes.length)
    if (this.#names.has(node.name)) {
      throw new WeirError(ErrorCode.TOPOLOGY_INVALID, `two operators are named "${node.name}"; names must be unique`)
    }
    this.#names.add(node.name)
    this.#nodes.push(node)
    return node
  }

  declareTopic(decl: TopicDeclaration): void {
    const prev = this.#topics.get(decl.name)
    if (prev === undefined || (prev.role !== 'input' && decl.role === 'input')) this.#topics.set(decl.name, decl)
  }

  /**
   * The source reading repartition topic `topic`: built by `make` the first time, reused when the same
   * stream re-keyed by the same function asks again (two aggregations of one named grouping), refused
   * when anything else asks for the same topic.
   */
  repartition(topic: string, parent: number, key: unknown, make: () => number): number {
    const prev = this.#repartitions.get(topic)
    if (prev !== undefined) {
      if (prev.parent === parent && prev.key === key) return prev.source
      throw new WeirError(
        ErrorCode.TOPOLOGY_INVALID,
        `two different streams repartition through "${topic}"; give the groupings or joins different names`,
      )
    }
    const source = make()
    this.#repartitions.set(topic, { parent, key, source })
    return source
  }

  nodes(): readonly GraphNode[] {
    return this.#nodes
  }

  topics(): readonly TopicDeclaration[] {
    return [...this.#topics.values()]
  }

  inputTopics(): string[] {
    return this.#nodes.filter((n): n is SourceNode => n.kind === 'source').map((n) => n.topic)
  }

  /** Children of each node, derived from parents. */
  children(): Map<number, number[]> {
    const out = new Map<number, number[]>()
    for (const n of this.#nodes) {
      if (n.kind === 'source') continue
      for (const p of n.parents) {
        const list = out.get(p) ?? []
        list.push(n.id)
        out.set(p, list)
      }
    }
    return out
  }

  /** A readable outline of the graph (for `weir describe` and logs). */
  describe(): string {
    const kids = this.children()
    return this.#nodes
      .map((n) => {
        const what = n.kind === 'source' || n.kind === 'topic-sink' ? `${n.kind} ${n.topic}` : n.kind
        const to = (kids.get(n.id) ?? []).map((c) => this.#nodes[c]!.name)
        return `${n.name} (${what})${to.length ? ` -> ${to.join(', ')}` : ''}`
      })
      .join('\n')
  }
}

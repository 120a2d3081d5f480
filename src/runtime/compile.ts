import type { Sink } from '../connectors/contract.ts'
import type { GraphNode, ProcessorNode, SourceNode, Topology } from '../dsl/graph.ts'
import {
  isPromise,
  type AnyRecord,
  type Emit,
  type Outputs,
  type Processor,
  type RecordContext,
} from './processor.ts'

/** How the compiled graph reaches the task: error handling and the writes that leave the graph. */
export interface CompileHooks {
  /** Wraps a stage so its errors go through the error policy; `run` is called again on retry. */
  guard(node: GraphNode, run: (record: AnyRecord, ctx: RecordContext) => void | Promise<void>): Step
  /** Serializes and writes a record to a topic. */
  toTopic(node: Extract<GraphNode, { kind: 'topic-sink' }>): Step
  /** Adds a record to an external sink. */
  toSink(node: Extract<GraphNode, { kind: 'external-sink' }>): Step
}

export type Step = (record: AnyRecord, ctx: RecordContext) => void | Promise<void>

export interface CompiledGraph {
  /** Entry steps per input topic (one per `stream()` on that topic). */
  readonly roots: ReadonlyMap<string, ReadonlyArray<{ node: SourceNode; step: Step }>>
  readonly processors: readonly Processor[]
  readonly sinks: ReadonlyArray<Sink<unknown>>
  /** Emit functions of each processor, for records it emits on its own (timers). */
  readonly emitters: ReadonlyMap<Processor, Emit>
}

const noop: Step = () => undefined

/** Calls each step with the record; a promise only if some step returned one. */
function fanOut(steps: readonly Step[]): Step {
  if (steps.length === 0) return noop
  if (steps.length === 1) return steps[0]!
  return (record, ctx) => {
    let pending: Promise<void>[] | undefined
    for (const s of steps) {
      const r = s(record, ctx)
      if (r !== undefined && isPromise<void>(r)) {
        pending ??= []
        pending.push(r)
      }
    }
    if (pending) return Promise.all(pending).then(() => undefined)
  }
}

/**
 * Turns the logical graph into executors, once, at start: each node becomes a step that runs its
 * processor and hands results to its children's steps.
 */
export function compile(topology: Topology, hooks: CompileHooks): CompiledGraph {
  const nodes = topology.nodes()
  const children = topology.children()
  const steps = new Map<number, Step>()
  const processors: Processor[] = []
  const emitters = new Map<Processor, Emit>()
  const sinks = new Set<Sink<unknown>>()

  // Parents always have lower ids than their children, so building from the end sees children first.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!
    const kids = (children.get(node.id) ?? []).map((c) => nodes[c]!)
    const main = fanOut(kids.filter((k) => !(k.kind === 'processor' && k.port)).map((k) => steps.get(k.id)!))
    switch (node.kind) {
      case 'source':
        steps.set(node.id, main)
        break
      case 'topic-sink':
        steps.set(node.id, hooks.toTopic(node))
        break
      case 'external-sink':
        sinks.add(node.sink)
        steps.set(node.id, hooks.toSink(node))
        break
      case 'processor': {
        const proc = node.create()
        processors.push(proc)
        emitters.set(proc, main)
        const outputs = portsOf(kids, steps, children)
        steps.set(
          node.id,
          hooks.guard(node, (record, ctx) => proc.process(record, ctx, main, outputs)),
        )
        break
      }
    }
  }

  const roots = new Map<string, Array<{ node: SourceNode; step: Step }>>()
  for (const node of nodes) {
    if (node.kind !== 'source') continue
    const list = roots.get(node.topic) ?? []
    list.push({ node, step: steps.get(node.id)! })
    roots.set(node.topic, list)
  }
  return { roots, processors: processors.reverse(), sinks: [...sinks], emitters }
}

function portsOf(
  kids: readonly GraphNode[],
  steps: ReadonlyMap<number, Step>,
  children: ReadonlyMap<number, readonly number[]>,
): Outputs {
  const ports = new Map<string, Step>()
  for (const k of kids) {
    const port = k.kind === 'processor' ? (k as ProcessorNode).port : undefined
    // A port with nothing downstream is unconsumed: validate then hands invalid records to the error policy.
    if (port && (children.get(k.id)?.length ?? 0) > 0) ports.set(port.name, steps.get(k.id)!)
  }
  return { port: (name) => ports.get(name) }
}

/**
 * A ModelSession in a worker thread. onnxruntime-node runs a model synchronously on the calling thread,
 * so two sessions on one thread take turns and block its event loop (Kafka fetches, store writes and
 * /health wait behind every run). One worker per core runs them side by side; the tokenizer runs in the
 * worker too. A worker that dies fails its pending sub-batches (the caller keeps the records and tries
 * again) and is started afresh on the next call. An idle worker does not keep the process alive.
 *
 * @example
 * const worker = await ModelWorker.start({ onnx, tokenizer, maxLength: 256 })
 * const { vectors, dims } = await worker.embed(['A man is eating food.'])
 * await worker.close()
 */
import { Worker } from 'node:worker_threads'
import { ErrorCode, WeirError } from '../core/errors.ts'
import type { ModelSessionOptions, SubBatchVectors } from './model-session.ts'

export type ToWorker = { kind: 'embed'; id: number; texts: readonly string[] } | { kind: 'close' }
export type FromWorker =
  | { kind: 'ready'; inputNames: string[] }
  | { kind: 'failed'; message: string }
  | { kind: 'done'; id: number; result: SubBatchVectors }
  | { kind: 'error'; id: number; message: string }

// A checkout runs the TypeScript sources, an installed package the compiled dist/.
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './embed-worker.ts' : './embed-worker.js',
  import.meta.url,
)

interface Pending {
  resolve(v: SubBatchVectors): void
  reject(e: Error): void
}

export class ModelWorker {
  readonly inputNames: readonly string[]
  readonly #options: ModelSessionOptions
  #worker: Worker | undefined
  #starting: Promise<Worker> | undefined
  readonly #pending = new Map<number, Pending>()
  #nextId = 0
  #closed = false

  private constructor(options: ModelSessionOptions, worker: Worker, inputNames: readonly string[]) {
    this.#options = options
    this.#worker = worker
    this.inputNames = inputNames
    this.#watch(worker)
  }

  /** Starts the thread and waits until its model is loaded (a bad model fails here, with its reason). */
  static async start(options: ModelSessionOptions): Promise<ModelWorker> {
    const { worker, inputNames } = await spawn(options)
    return new ModelWorker(options, worker, inputNames)
  }

  async embed(texts: readonly string[]): Promise<SubBatchVectors> {
    if (this.#closed) throw new WeirError(ErrorCode.SINK_UNAVAILABLE, 'the embedding worker is closed')
    const worker = this.#worker ?? (await this.#restart())
    const id = this.#nextId++
    const done = new Promise<SubBatchVectors>((resolve, reject) => this.#pending.set(id, { resolve, reject }))
    if (this.#pending.size === 1) this.#busy(worker, true)
    worker.postMessage({ kind: 'embed', id, texts } satisfies ToWorker)
    return done
  }

  /** Releases the session and ends the thread; sub-batches still running fail. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const worker = this.#worker ?? (await this.#starting?.catch(() => undefined))
    this.#worker = undefined
    if (worker === undefined) return
    const exited = new Promise((resolve) => worker.once('exit', resolve))
    worker.postMessage({ kind: 'close' } satisfies ToWorker)
    // The worker ends once its port is closed; terminate is the backstop for a stuck run.
    const timer = setTimeout(() => void worker.terminate(), 5000)
    await exited
    clearTimeout(timer)
  }

  readonly #onMessage = (m: FromWorker) => {
    if (m.kind !== 'done' && m.kind !== 'error') return
    const p = this.#pending.get(m.id)
    if (p === undefined) return
    this.#pending.delete(m.id)
    if (this.#pending.size === 0 && this.#worker !== undefined) this.#busy(this.#worker, false)
    if (m.kind === 'done') p.resolve(m.result)
    else p.reject(new WeirError(ErrorCode.SINK_UNAVAILABLE, `embedding model run failed: ${m.message}`))
  }

  /**
   * A busy worker keeps the process alive, an idle one does not. `unref()` covers the thread and its
   * message port, but attaching a 'message' listener refs the port again: so the listener is attached
   * only while runs are pending, and always before `ref()` / removed before `unref()`.
   */
  #busy(worker: Worker, busy: boolean): void {
    if (busy) {
      worker.ref()
      worker.on('message', this.#onMessage)
    } else {
      worker.off('message', this.#onMessage)
      worker.unref()
    }
  }

  #watch(worker: Worker): void {
    worker.unref()
    const lost = (reason: string) => {
      if (this.#worker === worker) this.#worker = undefined
      if (this.#pending.size > 0) this.#busy(worker, false)
      const failed = [...this.#pending.values()]
      this.#pending.clear()
      for (const p of failed)
        p.reject(new WeirError(ErrorCode.SINK_UNAVAILABLE, `embedding worker stopped: ${reason}`))
    }
    worker.on('error', (err) => lost(err.message))
    worker.on('exit', (code) => lost(`exit code ${code}`))
  }

  #restart(): Promise<Worker> {
    this.#starting ??= spawn(this.#options).then(
      ({ worker }) => {
        this.#starting = undefined
        if (this.#closed) {
          void worker.terminate()
          throw new WeirError(ErrorCode.SINK_UNAVAILABLE, 'the embedding worker is closed')
        }
        this.#worker = worker
        this.#watch(worker)
        return worker
      },
      (err: unknown) => {
        this.#starting = undefined
        throw err
      },
    )
    return this.#starting
  }
}

function spawn(options: ModelSessionOptions): Promise<{ worker: Worker; inputNames: string[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: options, name: 'weir-embedding' })
    // Only our own listeners come off: Worker keeps internal ones (they ref its message port).
    const settle = () => {
      worker.off('message', onMessage)
      worker.off('error', fail)
      worker.off('exit', onExit)
    }
    const fail = (err: Error) => {
      settle()
      void worker.terminate()
      reject(err)
    }
    const onMessage = (m: FromWorker) => {
      if (m.kind === 'ready') {
        settle()
        resolve({ worker, inputNames: m.inputNames })
      } else if (m.kind === 'failed') fail(new WeirError(ErrorCode.CONFIG_INVALID, m.message))
      else fail(new WeirError(ErrorCode.CONFIG_INVALID, `embedding worker answered ${m.kind} at start`))
    }
    const onExit = (code: number) =>
      fail(new WeirError(ErrorCode.CONFIG_INVALID, `embedding worker exited at start (code ${code})`))
    worker.on('message', onMessage)
    worker.on('error', fail)
    worker.on('exit', onExit)
  })
}

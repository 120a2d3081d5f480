/**
 * The body of one embedding worker thread (see model-worker.ts): opens a ModelSession from
 * `workerData` and answers `{ id, texts }` with the sub-batch's vectors, handing their buffer over
 * instead of copying it.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { ModelSession, type ModelSessionOptions } from './model-session.ts'
import type { FromWorker, ToWorker } from './model-worker.ts'

const port = parentPort!
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer)

let session: ModelSession
try {
  session = await ModelSession.open(workerData as ModelSessionOptions)
  post({ kind: 'ready', inputNames: [...session.inputNames] })
} catch (err) {
  post({ kind: 'failed', message: (err as Error).message })
  process.exit(0)
}

port.on('message', async (m: ToWorker) => {
  if (m.kind === 'close') {
    await session.release()
    port.close()
    return
  }
  try {
    const result = await session.embed(m.texts)
    post({ kind: 'done', id: m.id, result }, [result.vectors.buffer as ArrayBuffer])
  } catch (err) {
    post({ kind: 'error', id: m.id, message: (err as Error).message })
  }
})

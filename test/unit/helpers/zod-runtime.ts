/**
 * Counts how often a zod schema's runtime parser runs. `z.compile` keeps the schema's own `run` as the
 * fallback behind its generated fast path, so a count of 0 after a valid input means the fast path decided.
 */
import type { z } from 'zod'

export function countRuntimeRuns(schema: z.ZodType): () => number {
  const internals = schema._zod as { run: (...args: never[]) => unknown }
  const runtime = internals.run
  let runs = 0
  internals.run = (...args) => {
    runs++
    return runtime(...args)
  }
  return () => runs
}

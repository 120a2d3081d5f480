import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'

/**
 * Where archive files go. A file becomes visible under its final name only by `publish`, and only
 * whole: the same two steps as an S3 multipart upload (parts, then complete) or Flink's
 * RecoverableWriter, so an S3 destination can implement this too. Paths are relative, with `/`.
 */
export interface ArchiveFileSystem {
  /** For logs and /health, e.g. `/data/archive`. */
  readonly description: string
  /**
   * Writes `chunks` as one file at `path`: first to an in-progress file next to it, synced, then
   * renamed over `path` (replacing a file of that name: a replay rewrites the same file).
   */
  publish(path: string, chunks: readonly Uint8Array[]): Promise<void>
  /** Small bookkeeping files (the last archived offset per source partition), replaced atomically. */
  readState(path: string): Promise<string | undefined>
  writeState(path: string, text: string): Promise<void>
  /** Names of the state files under a directory ([] when there is none). */
  listState(dir: string): Promise<string[]>
}

/** In-progress files start with a dot: Hive, Spark, DuckDB's globs and pyarrow datasets skip them. */
export function inProgressName(path: string): string {
  const slash = path.lastIndexOf('/')
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.inprogress`
}

/**
 * A local directory, or a mounted HDFS/NFS path. Each file is written, fsynced, renamed and its
 * directory fsynced, so a published file survives a power cut.
 */
export function localFileSystem(root: string): ArchiveFileSystem {
  const base = resolve(root)
  const at = (path: string): string => {
    const full = resolve(base, path)
    if (full !== base && !full.startsWith(base + sep)) throw new Error(`archive path ${path} leaves ${base}`)
    return full
  }
  const createdDirs = new Set<string>()
  const ensureDir = async (dir: string): Promise<void> => {
    if (createdDirs.has(dir)) return
    await mkdir(dir, { recursive: true })
    createdDirs.add(dir)
  }
  const syncDir = async (dir: string): Promise<void> => {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
  const writeAtomically = async (path: string, chunks: readonly Uint8Array[]): Promise<void> => {
    const full = at(path)
    const dir = dirname(full)
    const temp = at(inProgressName(path))
    try {
      await ensureDir(dir)
    } catch (err) {
      createdDirs.delete(dir)
      throw err
    }
    const handle = await open(temp, 'w')
    try {
      for (const chunk of chunks) await handle.write(chunk)
      await handle.sync()
    } catch (err) {
      await handle.close().catch(() => {})
      await rm(temp, { force: true }).catch(() => {})
      throw err
    }
    await handle.close()
    await rename(temp, full)
    await syncDir(dir)
  }
  return {
    description: base,
    publish: writeAtomically,
    async readState(path) {
      try {
        return await readFile(at(path), 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw err
      }
    },
    writeState: (path, text) => writeAtomically(path, [Buffer.from(text, 'utf8')]),
    async listState(dir) {
      try {
        const names = await readdir(at(dir))
        return names
          .filter((n) => !n.startsWith('.'))
          .map((n) =>
            relative(base, join(at(dir), n))
              .split(sep)
              .join('/'),
          )
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw err
      }
    },
  }
}

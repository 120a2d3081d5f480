/**
 * Parquet archives in tests: a private tmpfs that a test can fill to make the disk full (and empty
 * again), and an independent reader (hyparquet) for what a sink published.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import type { Cleanup } from './services.ts'

const run = promisify(execFile)

export async function tempDir(cleanup: Cleanup, prefix = 'weir-archive-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  cleanup(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export interface SmallDisk {
  readonly dir: string
  /** Fills every free byte: writes then fail with ENOSPC. */
  fill(): Promise<void>
  /** Frees the space again. */
  free(): Promise<void>
}

/** Whether this process may mount a tmpfs (root, or CAP_SYS_ADMIN): needed for the disk-full cases. */
export async function canMount(): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-mount-probe-'))
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir])
    await run('umount', [dir])
    return true
  } catch {
    return false
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A private tmpfs of `sizeMb`, unmounted by the cleanup. */
export async function smallDisk(cleanup: Cleanup, sizeMb = 16): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-disk-'))
  cleanup(() => rm(dir, { recursive: true, force: true }))
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir])
  cleanup(() => run('umount', ['-l', dir]))
  const filler = join(dir, '.filler')
  return {
    dir,
    async fill() {
      // dd stops at ENOSPC with a non-zero status: that is the point.
      await run('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k']).catch(() => {})
    },
    free: () => rm(filler, { force: true }),
  }
}

/** Every `.parquet` file under `dir` (relative paths, sorted), skipping hidden and `_` entries. */
export async function parquetFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    let entries: import('node:fs').Dirent[]
    try {
      entries = await readdir(d, { withFileTypes: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue
      const full = join(d, e.name)
      if (e.isDirectory()) await walk(full)
      else if (e.name.endsWith('.parquet')) out.push(relative(dir, full))
    }
  }
  await walk(dir)
  return out.sort()
}

/** Every row of one file, read by hyparquet (an implementation independent of the writer). */
export async function readParquet(path: string): Promise<Record<string, unknown>[]> {
  const buf = await readFile(path)
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer
  return (await parquetReadObjects({ file, compressors })) as Record<string, unknown>[]
}

/** Rows of every file under `dir`, in file-name order, each with the file it came from. */
export async function readArchive(
  dir: string,
): Promise<Array<{ file: string; row: Record<string, unknown> }>> {
  const out: Array<{ file: string; row: Record<string, unknown> }> = []
  for (const file of await parquetFiles(dir)) {
    for (const row of await readParquet(join(dir, file))) out.push({ file, row })
  }
  return out
}

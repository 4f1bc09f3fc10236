/**
 * Where a download may write, decided before a byte is written: the file
 * name inside a directory, an existing file that must not be overwritten,
 * and whether the item fits (a size limit and the free disk space).
 *
 * Rules:
 * - An output path that is an existing directory means "save inside it",
 *   under the manifest's file name (like `cp FILE DIR` and `curl -O`).
 * - An existing file at the output is never replaced unless the caller
 *   says so (`get --force`); a file that already is the complete item
 *   (every piece verifies) is not an obstacle, it is the result.
 * - An item larger than the configured maximum, or larger than the free
 *   space left where it goes (minus what a resumed download already holds
 *   on disk), is refused before the partial file is preallocated.
 */
import { open, stat, statfs } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { VerifiedManifest } from '../core/content/manifest.js'
import { pieceLengthAt, verifyPiece } from '../core/content/pieces.js'

/** Default largest item a client downloads: 1 TiB (a validly signed manifest can claim any size). */
export const DEFAULT_MAX_ITEM_SIZE_BYTES = 1024 ** 4

/** An output file exists and overwriting it was not allowed. */
export class OutputExistsError extends Error {
  override name = 'OutputExistsError'
  readonly code = 'ERR_OUTPUT_EXISTS'
}

/** The output can't be created where it was asked (a parent is a file, the folder is missing, the output is a directory). */
export class OutputPathError extends Error {
  override name = 'OutputPathError'
  readonly code = 'ERR_OUTPUT_PATH'
}

/** The item is larger than the allowed maximum item size. */
export class ItemTooLargeError extends Error {
  override name = 'ItemTooLargeError'
  readonly code = 'ERR_ITEM_TOO_LARGE'
}

/** The disk where the item goes has less free space than the item needs. */
export class DiskSpaceError extends Error {
  override name = 'DiskSpaceError'
  readonly code = 'ERR_DISK_SPACE'
}

/** The file name an item is saved under: the manifest's name (which has no path separators), else its content id. */
export function itemFileName (manifest: Pick<VerifiedManifest, 'name' | 'contentId'>): string {
  const name = manifest.name
  // A signed manifest can't hold "/" but could say "." or "..": never a path out of the folder.
  return name === '.' || name === '..' || name.length === 0 ? manifest.contentId : name
}

/** `requested`, or the item's file name inside it when `requested` is an existing directory. */
export async function resolveOutputPath (requested: string, manifest: Pick<VerifiedManifest, 'name' | 'contentId'>): Promise<string> {
  const st = await stat(requested).catch(() => undefined)
  return st?.isDirectory() === true ? join(requested, itemFileName(manifest)) : requested
}

/**
 * Checks that `path` can be a new output file: its folder exists and is a
 * folder, and nothing is at `path` unless `overwrite`. Throws
 * OutputPathError or OutputExistsError (with `hint` appended).
 */
export async function assertOutputWritable (path: string, init: { overwrite?: boolean, hint?: string } = {}): Promise<void> {
  const dir = dirname(path)
  const d = await stat(dir).catch((err: NodeJS.ErrnoException) => err)
  if (d instanceof Error) {
    if (d.code === 'ENOTDIR') throw new OutputPathError(`cannot write ${path}: part of ${dir} is a file, not a directory`)
    throw new OutputPathError(`cannot write ${path}: directory ${dir} does not exist`)
  }
  if (!d.isDirectory()) throw new OutputPathError(`cannot write ${path}: ${dir} is not a directory`)
  const st = await stat(path).catch(() => undefined)
  if (st == null) return
  if (st.isDirectory()) throw new OutputPathError(`cannot write ${path}: it is a directory`)
  if (init.overwrite !== true) throw new OutputExistsError(`${path} exists${init.hint != null ? `; ${init.hint}` : ''}`)
}

/** True when `path` is a file holding exactly the item (same length, every piece verifies). */
export async function isCompleteCopy (path: string, manifest: VerifiedManifest): Promise<boolean> {
  const st = await stat(path).catch(() => undefined)
  if (st?.isFile() !== true || st.size !== manifest.lengthBytes) return false
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(manifest.pieceSizeBytes)
    for (let i = 0; i < manifest.pieceCount; i++) {
      const length = pieceLengthAt(i, manifest.lengthBytes, manifest.pieceSizeBytes)
      let got = 0
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, i * manifest.pieceSizeBytes + got)
        if (bytesRead === 0) return false
        got += bytesRead
      }
      try { verifyPiece(manifest, i, buf.subarray(0, length)) } catch { return false }
    }
    return true
  } finally {
    await fh.close()
  }
}

/** Options for assertRoomForItem. */
export interface RoomCheckInit {
  /** Largest item allowed, bytes. Default DEFAULT_MAX_ITEM_SIZE_BYTES. */
  maxItemSizeBytes?: number
  /** Bytes of the item already on disk (a resumed download's verified pieces). Default 0. */
  presentBytes?: number
}

/** Throws ItemTooLargeError or DiskSpaceError unless the item fits next to `path`. */
export async function assertRoomForItem (path: string, manifest: Pick<VerifiedManifest, 'name' | 'lengthBytes'>, init: RoomCheckInit = {}): Promise<void> {
  const max = init.maxItemSizeBytes ?? DEFAULT_MAX_ITEM_SIZE_BYTES
  if (manifest.lengthBytes > max) {
    throw new ItemTooLargeError(`${manifest.name} is ${formatBytes(manifest.lengthBytes)}, more than the maximum item size ${formatBytes(max)} (raise it with --max-item-size)`)
  }
  const fs = await statfs(dirname(path))
  const freeBytes = Number(fs.bavail) * Number(fs.bsize)
  const neededBytes = manifest.lengthBytes - (init.presentBytes ?? 0)
  if (neededBytes > freeBytes) {
    throw new DiskSpaceError(`${manifest.name} needs ${formatBytes(neededBytes)} but ${dirname(path)} has ${formatBytes(freeBytes)} free`)
  }
}

/** What the file-system errors a user can cause mean, for one-line messages. */
const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EISDIR: 'it is a directory',
  ENOTDIR: 'part of the path is a file, not a directory',
  ENOENT: 'its folder does not exist (any more)',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files'
}

/** A raw file-system error (EACCES, ENOSPC, ...) while preparing or writing `path`, as an OutputPathError; anything else unchanged. */
export function outputError (err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code == null || !(code in FS_REASONS) || (err as Error).name !== 'Error') return err
  return new OutputPathError(`cannot write ${path}: ${FS_REASONS[code]}`, { cause: err })
}

/** Bytes in binary units for messages (1.5 GiB). */
export function formatBytes (bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = bytes
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return u === 0 ? `${bytes} bytes` : `${v.toFixed(1)} ${units[u]}`
}

/**
 * Publishing: hash a file into pieces, sign its manifest, add it to a
 * seeder's content store.
 */
import { open, stat } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import type { KeyObject } from 'node:crypto'
import mime from 'mime-types'
import { buildSignedManifest, type VerifiedManifest } from '../src/core/content/manifest.js'
import { assertPieceSize, DEFAULT_PIECE_SIZE_BYTES, hashPiece, pieceCount, pieceLengthAt, PIECE_HASH_BYTES } from '../src/core/content/pieces.js'
import type { ContentStore } from '../src/store/content-store.js'

/** Options for publishFile. */
export interface PublishFileInit {
  /** Piece size in bytes, a power of two from 16 KiB to 16 MiB. Default 1 MiB. */
  pieceSizeBytes?: number
  /** Name in the manifest. Default: the file's base name. */
  name?: string
  /** Media type. Default: guessed from the extension (mime-types), else application/octet-stream. */
  mediaType?: string
  /** Called after each piece is hashed, for progress. */
  onPieceHashed?: (doneBytes: number, totalBytes: number) => void
}

/** A source file that can't be published (missing, not a regular file). */
export class PublishSourceError extends Error {
  override name = 'PublishSourceError'
  readonly code = 'ERR_PUBLISH_SOURCE'
}

/** Hashes `path` piece by piece and returns its signed manifest (no copy made). */
export async function manifestForFile (path: string, key: KeyObject, init: PublishFileInit = {}): Promise<VerifiedManifest> {
  const pieceSizeBytes = init.pieceSizeBytes ?? DEFAULT_PIECE_SIZE_BYTES
  assertPieceSize(pieceSizeBytes)
  let st
  try {
    st = await stat(path)
  } catch (err) {
    throw new PublishSourceError((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${(err as Error).message}`)
  }
  if (!st.isFile()) throw new PublishSourceError(`${path} is not a regular file`)
  const lengthBytes = st.size
  const count = pieceCount(lengthBytes, pieceSizeBytes)
  const pieceHashes = new Uint8Array(count * PIECE_HASH_BYTES)
  const fh = await open(path, 'r')
  try {
    const buf = new Uint8Array(pieceSizeBytes)
    for (let i = 0; i < count; i++) {
      const length = pieceLengthAt(i, lengthBytes, pieceSizeBytes)
      let got = 0
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, i * pieceSizeBytes + got)
        if (bytesRead === 0) throw new PublishSourceError(`${path} shrank while it was being read`)
        got += bytesRead
      }
      pieceHashes.set(hashPiece(buf.subarray(0, length)), i * PIECE_HASH_BYTES)
      init.onPieceHashed?.(i * pieceSizeBytes + length, lengthBytes)
    }
  } finally {
    await fh.close()
  }
  const name = init.name ?? basename(path)
  const mediaType = init.mediaType ?? (mime.lookup(extname(path)) || 'application/octet-stream')
  return buildSignedManifest({ name, mediaType, lengthBytes, pieceSizeBytes, pieceHashes }, key)
}

/** Publishes `path` into `store` and returns its verified manifest (with the content id). */
export async function publishFile (store: ContentStore, path: string, key: KeyObject, init: PublishFileInit = {}): Promise<VerifiedManifest> {
  const manifest = await manifestForFile(path, key, init)
  await store.addFile(path, manifest)
  return manifest
}

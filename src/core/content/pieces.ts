/**
 * Fixed-size pieces: an item of `lengthBytes` is cut into pieces of
 * `pieceSizeBytes` (a power of two), the last one possibly shorter; each is
 * named by its SHA-256.
 */
import { createHash } from 'node:crypto'
import { InvalidPieceSizeError, PieceHashMismatchError } from './content-errors.js'

/** Default piece size: 1 MiB, large enough to keep per-piece overhead small. */
export const DEFAULT_PIECE_SIZE_BYTES = 1024 * 1024
/** Smallest piece size accepted (16 KiB, BitTorrent's block size). */
export const MIN_PIECE_SIZE_BYTES = 16 * 1024
/** Largest piece size accepted; bounds every piece message on the wire. */
export const MAX_PIECE_SIZE_BYTES = 16 * 1024 * 1024
/** Length of a piece hash (SHA-256), in bytes. */
export const PIECE_HASH_BYTES = 32

/** Throws InvalidPieceSizeError unless `pieceSizeBytes` is a power of two within bounds. */
export function assertPieceSize (pieceSizeBytes: number): void {
  if (!Number.isInteger(pieceSizeBytes) || pieceSizeBytes < MIN_PIECE_SIZE_BYTES ||
      pieceSizeBytes > MAX_PIECE_SIZE_BYTES || (pieceSizeBytes & (pieceSizeBytes - 1)) !== 0) {
    throw new InvalidPieceSizeError(`piece size must be a power of two from ${MIN_PIECE_SIZE_BYTES} to ${MAX_PIECE_SIZE_BYTES} bytes, got ${pieceSizeBytes}`)
  }
}

/** Number of pieces an item of `lengthBytes` has (0 for an empty item). */
export function pieceCount (lengthBytes: number, pieceSizeBytes: number): number {
  return Math.ceil(lengthBytes / pieceSizeBytes)
}

/** Length of piece `index`: `pieceSizeBytes` except for a shorter last piece. */
export function pieceLengthAt (index: number, lengthBytes: number, pieceSizeBytes: number): number {
  const start = index * pieceSizeBytes
  return Math.max(0, Math.min(pieceSizeBytes, lengthBytes - start))
}

/**
 * A piece's bytes: one buffer, or its chunks in order as they came off the
 * network (hashed and written as they are, so a piece is never copied
 * into one buffer just to be checked).
 */
export type PieceBytes = Uint8Array | readonly Uint8Array[]

/** Total length of a piece's bytes. */
export function pieceBytesLength (bytes: PieceBytes): number {
  if (bytes instanceof Uint8Array) return bytes.byteLength
  let n = 0
  for (const b of bytes) n += b.byteLength
  return n
}

/** SHA-256 of one piece. */
export function hashPiece (bytes: PieceBytes): Uint8Array {
  const h = createHash('sha256')
  if (bytes instanceof Uint8Array) h.update(bytes)
  else for (const b of bytes) h.update(b)
  return new Uint8Array(h.digest())
}

/** The geometry and hashes a piece is checked against. */
export interface PieceLayout {
  lengthBytes: number
  pieceSizeBytes: number
  /** 32 bytes per piece, in order. */
  pieceHashes: Uint8Array
}

/**
 * Throws PieceHashMismatchError unless `bytes` is exactly piece `index` of
 * the layout. Called before any byte is written, served or played.
 */
export function verifyPiece (layout: PieceLayout, index: number, bytes: PieceBytes): void {
  const count = layout.pieceHashes.length / PIECE_HASH_BYTES
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new PieceHashMismatchError(index, `piece ${index} does not exist (item has ${count} pieces)`)
  }
  const expectedLength = pieceLengthAt(index, layout.lengthBytes, layout.pieceSizeBytes)
  const length = pieceBytesLength(bytes)
  if (length !== expectedLength) {
    throw new PieceHashMismatchError(index, `piece ${index} is ${length} bytes, expected ${expectedLength}`)
  }
  const actual = hashPiece(bytes)
  const off = index * PIECE_HASH_BYTES
  for (let i = 0; i < PIECE_HASH_BYTES; i++) {
    if (actual[i] !== layout.pieceHashes[off + i]) {
      throw new PieceHashMismatchError(index, `piece ${index} does not match its hash in the manifest`)
    }
  }
}

/**
 * The worker thread of piece-verifier.ts: hashes a piece that the main
 * thread copied into a shared buffer and answers with its SHA-256.
 */
import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'

/** A request from piece-verifier.ts: hash bytes 0..lengthBytes of `buffer`. */
export interface PieceHashRequest {
  id: number
  buffer: SharedArrayBuffer
  lengthBytes: number
}

/** The answer: the SHA-256 of the requested bytes. */
export interface PieceHashAnswer {
  id: number
  digest: Uint8Array
}

parentPort?.on('message', (req: PieceHashRequest) => {
  const digest = createHash('sha256').update(new Uint8Array(req.buffer, 0, req.lengthBytes)).digest()
  const answer: PieceHashAnswer = { id: req.id, digest: new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength) }
  parentPort!.postMessage(answer)
})

/**
 * Piece verification off the main thread: the same checks as core's
 * verifyPiece, with the SHA-256 computed on a worker thread.
 *
 * Why: on the downloader's main thread SHA-256 cost ~1 s of CPU per GiB,
 * serialized with Noise decryption on the same thread. On a worker the
 * hash of one piece overlaps the decryption of the next, so a 2-core
 * machine uses both cores. The piece is copied once into a reused
 * SharedArrayBuffer slot (a memcpy of warm memory, ~5x cheaper than the
 * hash). Not WebCrypto's `subtle.digest` on the threadpool: it wants one
 * buffer and copies it again into fresh memory, and the page faults of two
 * new 1 MiB allocations per piece cost more main-thread time than the hash
 * (measured: 250 ms vs 160 ms CPU per 256 MiB).
 */
import { Worker } from 'node:worker_threads'
import { PieceHashMismatchError } from '../core/content/content-errors.js'
import { PIECE_HASH_BYTES, pieceBytesLength, pieceLengthAt, type PieceBytes, type PieceLayout } from '../core/content/pieces.js'
import type { PieceHashAnswer, PieceHashRequest } from './piece-hash-worker.js'

/** Pieces being hashed at once (shared buffers of one piece each): bounds the verifier's memory to this many pieces. */
export const PIECE_HASH_SLOTS = 4

/**
 * Resolves once `bytes` proved to be exactly piece `index` of the layout;
 * rejects with PieceHashMismatchError otherwise (same rules and messages as
 * core's verifyPiece), or with the signal's reason if it aborts first.
 */
export async function verifyPieceOffThread (layout: PieceLayout, index: number, bytes: PieceBytes, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  const count = layout.pieceHashes.length / PIECE_HASH_BYTES
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new PieceHashMismatchError(index, `piece ${index} does not exist (item has ${count} pieces)`)
  }
  const expectedLength = pieceLengthAt(index, layout.lengthBytes, layout.pieceSizeBytes)
  const length = pieceBytesLength(bytes)
  if (length !== expectedLength) {
    throw new PieceHashMismatchError(index, `piece ${index} is ${length} bytes, expected ${expectedLength}`)
  }
  const actual = await hasher.hash(bytes instanceof Uint8Array ? [bytes] : bytes, length, signal)
  const off = index * PIECE_HASH_BYTES
  for (let i = 0; i < PIECE_HASH_BYTES; i++) {
    if (actual[i] !== layout.pieceHashes[off + i]) {
      throw new PieceHashMismatchError(index, `piece ${index} does not match its hash in the manifest`)
    }
  }
}

interface Pending {
  slot: SharedArrayBuffer
  resolve: (digest: Uint8Array) => void
  reject: (err: Error) => void
}

/** One lazily started worker, shared by every download of the process; it keeps the process alive only while it owes an answer. */
class PieceHasher {
  private worker: Worker | undefined
  private readonly freeSlots: SharedArrayBuffer[] = []
  private slotsCreated = 0
  private readonly slotWaiters: Array<() => void> = []
  private readonly pending = new Map<number, Pending>()
  private nextId = 0

  async hash (chunks: readonly Uint8Array[], lengthBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
    const slot = await this.takeSlot(lengthBytes, signal)
    const view = new Uint8Array(slot)
    let off = 0
    for (const c of chunks) { view.set(c, off); off += c.byteLength }
    const id = this.nextId++
    const answer = new Promise<Uint8Array>((resolve, reject) => { this.pending.set(id, { slot, resolve, reject }) })
    const worker = this.start()
    if (this.pending.size === 1) worker.ref()
    const req: PieceHashRequest = { id, buffer: slot, lengthBytes }
    worker.postMessage(req)
    // On abort the slot still returns to the pool when the worker answers.
    return signal == null ? await answer : await raceAbort(answer, signal)
  }

  private start (): Worker {
    if (this.worker != null) return this.worker
    const worker = new Worker(new URL('./piece-hash-worker.js', import.meta.url))
    worker.unref()
    worker.on('message', (a: PieceHashAnswer) => {
      const p = this.pending.get(a.id)
      if (p == null) return
      this.settle(a.id, p)
      p.resolve(a.digest)
    })
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined
      for (const [id, p] of this.pending) { this.settle(id, p); p.reject(err) }
    }
    worker.on('error', fail)
    worker.on('exit', code => { fail(new Error(`piece hash worker exited with code ${code}`)) })
    this.worker = worker
    return worker
  }

  private settle (id: number, p: Pending): void {
    this.pending.delete(id)
    if (this.pending.size === 0) this.worker?.unref()
    this.freeSlots.push(p.slot)
    this.slotWaiters.shift()?.()
  }

  private async takeSlot (lengthBytes: number, signal?: AbortSignal): Promise<SharedArrayBuffer> {
    while (true) {
      const k = this.freeSlots.findIndex(s => s.byteLength === lengthBytes)
      if (k >= 0) return this.freeSlots.splice(k, 1)[0]
      if (this.slotsCreated < PIECE_HASH_SLOTS) { this.slotsCreated++; return new SharedArrayBuffer(lengthBytes) }
      // Every slot exists: replace a free one of the wrong size, or wait for one.
      if (this.freeSlots.length > 0) { this.freeSlots.pop(); return new SharedArrayBuffer(lengthBytes) }
      const freed = new Promise<void>(resolve => { this.slotWaiters.push(resolve) })
      await (signal == null ? freed : raceAbort(freed, signal))
    }
  }
}

const hasher = new PieceHasher()

async function raceAbort<T> (p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort!: () => void
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([p, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Received pieces held until they are written, hashed on a worker thread,
 * so the thread that reads the network and dispatches the writes does not
 * also hash every byte (~0.5 s of a 512 MiB download's main thread with
 * SHA-NI, measured with perf; more on CPUs without it).
 *
 * Rules: hold() copies a piece into one of a fixed number of shared
 * buffers (slots) of the piece size and gives it back with a promise of its
 * SHA-256, computed by a worker from the slot; the caller checks the digest
 * against the manifest before it writes the slot's bytes, so "verify before
 * write" holds as before, then releases the slot. hold() waits while every
 * slot is taken: the slots bound what a download holds between receiving a
 * piece and writing it (`slots x pieceSizeBytes`, 4 MiB with the defaults),
 * allocated on first use and reused. The network's chunks are dropped as
 * soon as they are copied: holding them for the length of a hash and a
 * write got them promoted out of V8's young generation, and a 512 MiB
 * download then ran ~45 full garbage collections instead of 1-2.
 *
 * Pieces larger than HASH_WORKER_MAX_PIECE_BYTES, every piece of a pool
 * with no workers, and every piece once a worker failed or the pool closed,
 * are hashed on the calling thread, in place (still one slot's worth of
 * holding each): the same answer, only slower. Workers are unref'd, so they
 * never keep a process alive.
 *
 * The worker is a few lines of source evaluated in the thread (`eval`), not
 * a file of its own, so the CLI bundle (scripts/bundle-cli.js) needs no
 * worker entry point.
 */
import { Worker } from 'node:worker_threads'
import { hashPiece, pieceBytesLength, type PieceBytes } from '../core/content/pieces.js'

/** Default worker threads: one takes the hashing off a download's main thread; SHA-256 on one core outruns a loopback transfer. */
export const DEFAULT_HASH_WORKERS = 1
/** Default bytes of pieces held between receipt and write (at least two pieces): one hashed, one written, one copied in, one spare at 1 MiB pieces. */
export const DEFAULT_HELD_BYTES = 4 * 1024 * 1024
/** Larger pieces are hashed on the calling thread: their slots would cost more memory than the hashing costs time. */
export const HASH_WORKER_MAX_PIECE_BYTES = 4 * 1024 * 1024

/** Options for PieceHashPool. */
export interface PieceHashPoolInit {
  /** Worker threads, started on the first piece; 0 hashes every piece on the calling thread. Default DEFAULT_HASH_WORKERS. */
  workers?: number
  /** Bytes of pieces held at once, rounded down to whole pieces, at least two. Default DEFAULT_HELD_BYTES. */
  heldBytes?: number
}

/** A piece held by the pool until release(). */
export interface HeldPiece {
  /** The piece's bytes: valid until release(). */
  bytes: PieceBytes
  /** Its SHA-256 (never rejects). */
  digest: Promise<Uint8Array>
  /** Frees the piece's slot for the next one; call once, after the bytes were written or dropped. */
  release: () => void
}

/** The worker: the digest of the first `lengthBytes` of a shared slot. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
parentPort.on('message', ({ id, slot, lengthBytes }) => {
  parentPort.postMessage({ id, digest: createHash('sha256').update(new Uint8Array(slot, 0, lengthBytes)).digest() })
})`

interface Job { slot: SharedArrayBuffer, lengthBytes: number, resolve: (digest: Uint8Array) => void }

/** Pieces held between receipt and write, hashed off the calling thread (see the file's rules). */
export class PieceHashPool {
  private readonly workerCount: number
  private readonly slotCount: number
  private readonly workers: Worker[] = []
  private readonly freeSlots: SharedArrayBuffer[] = []
  private slotsTaken = 0
  private readonly slotWaiters: Array<() => void> = []
  private readonly jobs = new Map<number, Job>()
  private nextJobId = 0
  private nextWorker = 0
  /** Set when there are no workers, a worker failed or the pool closed: pieces are hashed on the calling thread from then on. */
  private inline: boolean

  /** A pool for pieces of at most `pieceSizeBytes`. */
  constructor (private readonly pieceSizeBytes: number, init: PieceHashPoolInit = {}) {
    this.workerCount = Math.max(0, Math.floor(init.workers ?? DEFAULT_HASH_WORKERS))
    this.slotCount = Math.max(2, Math.floor((init.heldBytes ?? DEFAULT_HELD_BYTES) / pieceSizeBytes))
    this.inline = this.workerCount === 0 || pieceSizeBytes > HASH_WORKER_MAX_PIECE_BYTES
  }

  /** Pieces held at most (see PieceHashPoolInit.heldBytes). */
  get maxHeldPieces (): number {
    return this.slotCount
  }

  /**
   * Takes `bytes` (one piece) into the pool, waiting while every slot is
   * held: a wait that ends when an earlier piece is written or dropped,
   * never on the network.
   */
  async hold (bytes: PieceBytes): Promise<HeldPiece> {
    while (this.slotsTaken >= this.slotCount) await new Promise<void>(resolve => { this.slotWaiters.push(resolve) })
    this.slotsTaken++
    const lengthBytes = pieceBytesLength(bytes)
    if (this.inline || lengthBytes > this.pieceSizeBytes) {
      return { bytes, digest: Promise.resolve(hashPiece(bytes)), release: once(() => { this.releaseSlot(undefined) }) }
    }
    const slot = this.freeSlots.pop() ?? this.createSlot()
    const view = new Uint8Array(slot, 0, lengthBytes)
    let at = 0
    for (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) { view.set(chunk, at); at += chunk.byteLength }
    const id = this.nextJobId++
    const digest = new Promise<Uint8Array>(resolve => { this.jobs.set(id, { slot, lengthBytes, resolve }) })
    this.worker().postMessage({ id, slot, lengthBytes })
    return { bytes: view, digest, release: once(() => { this.releaseSlot(slot) }) }
  }

  /** Stops the workers; pieces still being hashed are finished on this thread. */
  async close (): Promise<void> {
    this.goInline()
    await Promise.all(this.workers.splice(0).map(async w => { await w.terminate() }))
  }

  private createSlot (): SharedArrayBuffer {
    return new SharedArrayBuffer(this.pieceSizeBytes)
  }

  private releaseSlot (slot: SharedArrayBuffer | undefined): void {
    this.slotsTaken--
    if (slot != null) this.freeSlots.push(slot)
    this.slotWaiters.shift()?.()
  }

  private worker (): Worker {
    if (this.workers.length < this.workerCount) {
      const w = new Worker(WORKER_SOURCE, { eval: true })
      w.unref()
      w.on('message', ({ id, digest }: { id: number, digest: Uint8Array }) => {
        const job = this.jobs.get(id)
        this.jobs.delete(id)
        job?.resolve(new Uint8Array(digest))
      })
      // A worker that fails (it cannot start, runs out of memory) costs speed, never a piece: hash here.
      w.on('error', () => { this.goInline() })
      w.on('exit', () => { this.goInline() })
      this.workers.push(w)
      return w
    }
    return this.workers[this.nextWorker++ % this.workers.length]
  }

  /** From now on every piece is hashed on this thread, those a worker still owes too (their slots still hold the bytes). */
  private goInline (): void {
    this.inline = true
    for (const [id, job] of this.jobs) {
      this.jobs.delete(id)
      job.resolve(hashPiece(new Uint8Array(job.slot, 0, job.lengthBytes)))
    }
  }
}

function once (fn: () => void): () => void {
  let done = false
  return () => { if (!done) { done = true; fn() } }
}

/**
 * Received pieces verified and written on a worker thread, so the thread
 * that reads the network only copies each piece once and hands it over:
 * it no longer hashes every byte (~0.5 s of a 512 MiB download's main
 * thread with SHA-NI, measured with perf; more on CPUs without it), nor
 * dispatches and completes the piece's write calls one by one.
 *
 * Rules: submit() copies a piece into one of a fixed number of shared
 * buffers (slots) of the piece size and resolves once it is held; the
 * worker hashes the slot, compares the digest with the manifest's, and only
 * when they match writes the slot at the piece's offset of the target's
 * file descriptor (in calls of at most WRITE_CALL_MAX_BYTES, see
 * positioned-write.ts), then answers; the target records the piece
 * (pieceWritten) and the slot is free again. A piece that does not match is
 * never written: `written` rejects with PieceHashMismatchError. submit()
 * waits while every slot is taken: the slots bound what a download holds
 * between receiving a piece and writing it (`slots x pieceSizeBytes`, 4
 * MiB with the defaults), allocated on first use and reused. The network's
 * chunks are dropped as soon as they are copied: holding them for the
 * length of a hash and a write got them promoted out of V8's young
 * generation, and a 512 MiB download then ran ~45 full garbage collections
 * instead of 1-2.
 *
 * Pieces larger than WORKER_MAX_PIECE_BYTES, every piece of a pool with no
 * workers, and every piece once a worker failed or the pool closed, are
 * verified on the calling thread and written with the target's writePiece:
 * the same checks, only slower. Workers are unref'd, so they never keep a
 * process alive. A worker writes only while its pool is open: the owner
 * awaits every `written` before it closes the pool, then the file.
 *
 * The worker is a few lines of source evaluated in the thread (`eval`), not
 * a file of its own, so the CLI bundle (scripts/bundle-cli.js) needs no
 * worker entry point.
 */
import { Worker } from 'node:worker_threads'
import { PieceHashMismatchError } from '../core/content/content-errors.js'
import { assertPieceLength, PIECE_HASH_BYTES, pieceBytesLength, verifyPiece, type PieceBytes, type PieceLayout } from '../core/content/pieces.js'
import { WRITE_CALL_MAX_BYTES } from './positioned-write.js'

/** Default worker threads: one takes hashing and writing off a download's main thread; SHA-256 on one core outruns a loopback transfer. */
export const DEFAULT_WRITE_WORKERS = 1
/** Default bytes of pieces held between receipt and write (at least two pieces): one hashed and written, one waiting, one copied in, one spare at 1 MiB pieces. */
export const DEFAULT_HELD_BYTES = 4 * 1024 * 1024
/** Larger pieces are verified and written on the calling thread: their slots would cost more memory than the work costs time. */
export const WORKER_MAX_PIECE_BYTES = 4 * 1024 * 1024

/** Where verified pieces go: a download's partial file (partial-download.ts). */
export interface PieceWriteTarget {
  /** The open file's descriptor, written at `index x pieceSizeBytes` by a worker. */
  readonly fd: number
  /** Writes a verified piece from the calling thread and records it. */
  writePiece: (index: number, bytes: PieceBytes) => Promise<void>
  /** Records a piece a worker wrote through `fd`. */
  pieceWritten: (index: number) => void
}

/** Options for VerifiedWritePool. */
export interface VerifiedWritePoolInit {
  /** Worker threads, started on the first piece; 0 does everything on the calling thread. Default DEFAULT_WRITE_WORKERS. */
  workers?: number
  /** Bytes of pieces held at once, rounded down to whole pieces, at least two. Default DEFAULT_HELD_BYTES. */
  heldBytes?: number
}

/** A submitted piece. */
export interface SubmittedPiece {
  /** Resolves once the piece verified and is written and recorded; rejects with PieceHashMismatchError (nothing written) or the write's error. */
  written: Promise<void>
}

/** The worker: hash a slot, compare, write it at its offset in calls of at most `callBytes`. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { writeSync } = require('node:fs')
parentPort.on('message', ({ id, slot, lengthBytes, expected, fd, offset, callBytes }) => {
  const bytes = new Uint8Array(slot, 0, lengthBytes)
  const digest = createHash('sha256').update(bytes).digest()
  if (!digest.equals(expected)) { parentPort.postMessage({ id, mismatch: true }); return }
  try {
    let done = 0
    while (done < lengthBytes) {
      const n = writeSync(fd, bytes, done, Math.min(callBytes, lengthBytes - done), offset + done)
      if (n === 0) throw new Error('a write at offset ' + (offset + done) + ' made no progress')
      done += n
    }
    parentPort.postMessage({ id })
  } catch (err) {
    parentPort.postMessage({ id, error: { message: err.message, code: err.code } })
  }
})`

interface Job { index: number, slot: SharedArrayBuffer, lengthBytes: number, resolve: () => void, reject: (err: Error) => void }
interface Reply { id: number, mismatch?: boolean, error?: { message: string, code?: string } }

/** Verifies and writes received pieces on worker threads (see the file's rules). */
export class VerifiedWritePool {
  private readonly workerCount: number
  private readonly slotCount: number
  private readonly workers: Worker[] = []
  private readonly freeSlots: SharedArrayBuffer[] = []
  private slotsTaken = 0
  private readonly slotWaiters: Array<() => void> = []
  private readonly jobs = new Map<number, Job>()
  private nextJobId = 0
  private nextWorker = 0
  /** Set when there are no workers, a worker failed or the pool closed: pieces are handled on the calling thread from then on. */
  private inline: boolean

  /** A pool for the pieces of `layout`, written to `target`. */
  constructor (private readonly layout: PieceLayout, private readonly target: PieceWriteTarget, init: VerifiedWritePoolInit = {}) {
    this.workerCount = Math.max(0, Math.floor(init.workers ?? DEFAULT_WRITE_WORKERS))
    this.slotCount = Math.max(2, Math.floor((init.heldBytes ?? DEFAULT_HELD_BYTES) / layout.pieceSizeBytes))
    this.inline = this.workerCount === 0 || layout.pieceSizeBytes > WORKER_MAX_PIECE_BYTES
  }

  /** Pieces held at most (see VerifiedWritePoolInit.heldBytes). */
  get maxHeldPieces (): number {
    return this.slotCount
  }

  /**
   * Takes piece `index` (its bytes as received) to verify and write,
   * resolving once it is held: waits while every slot is, a wait that ends
   * when an earlier piece is written or dropped, never on the network.
   */
  async submit (index: number, bytes: PieceBytes): Promise<SubmittedPiece> {
    while (this.slotsTaken >= this.slotCount) await new Promise<void>(resolve => { this.slotWaiters.push(resolve) })
    this.slotsTaken++
    const lengthBytes = pieceBytesLength(bytes)
    if (this.inline || lengthBytes > this.layout.pieceSizeBytes) {
      const written = (async () => {
        try {
          verifyPiece(this.layout, index, bytes)
          await this.target.writePiece(index, bytes)
        } finally {
          this.releaseSlot(undefined)
        }
      })()
      written.catch(() => {}) // the caller's to handle
      return { written }
    }
    const slot = this.freeSlots.pop() ?? new SharedArrayBuffer(this.layout.pieceSizeBytes)
    const view = new Uint8Array(slot, 0, lengthBytes)
    let at = 0
    for (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) { view.set(chunk, at); at += chunk.byteLength }
    const written = (async () => {
      try {
        // The length and the index are checked here; the bytes by the worker before it writes them.
        assertPieceLength(this.layout, index, lengthBytes)
        await this.runOnWorker(index, slot, lengthBytes)
        this.target.pieceWritten(index)
      } finally {
        this.releaseSlot(slot)
      }
    })()
    written.catch(() => {}) // the caller's to handle
    return { written }
  }

  /** Stops the workers; pieces they still owe are verified and written on this thread from their slots. */
  async close (): Promise<void> {
    const workers = this.workers.splice(0)
    this.goInline()
    await Promise.all(workers.map(async w => { await w.terminate() }))
  }

  private async runOnWorker (index: number, slot: SharedArrayBuffer, lengthBytes: number): Promise<void> {
    if (this.inline) { await this.writeHere(index, slot, lengthBytes); return }
    const id = this.nextJobId++
    const done = new Promise<void>((resolve, reject) => { this.jobs.set(id, { index, slot, lengthBytes, resolve, reject }) })
    const off = index * PIECE_HASH_BYTES
    this.worker().postMessage({
      id, slot, lengthBytes, expected: this.layout.pieceHashes.slice(off, off + PIECE_HASH_BYTES),
      fd: this.target.fd, offset: index * this.layout.pieceSizeBytes, callBytes: WRITE_CALL_MAX_BYTES
    })
    await done
  }

  /** The calling thread's way: verify the slot's bytes and write them with the target (which also records them; pieceWritten again is harmless). */
  private async writeHere (index: number, slot: SharedArrayBuffer, lengthBytes: number): Promise<void> {
    const bytes = new Uint8Array(slot, 0, lengthBytes)
    verifyPiece(this.layout, index, bytes)
    await this.target.writePiece(index, bytes)
  }

  private worker (): Worker {
    if (this.workers.length < this.workerCount) {
      const w = new Worker(WORKER_SOURCE, { eval: true })
      w.unref()
      w.on('message', (reply: Reply) => { this.onReply(reply) })
      // A worker that fails (it cannot start, runs out of memory) costs speed, never a piece: finish here.
      w.on('error', () => { this.goInline() })
      w.on('exit', () => { this.goInline() })
      this.workers.push(w)
      return w
    }
    return this.workers[this.nextWorker++ % this.workers.length]
  }

  private onReply ({ id, mismatch, error }: Reply): void {
    const job = this.jobs.get(id)
    if (job == null) return
    this.jobs.delete(id)
    if (mismatch === true) job.reject(new PieceHashMismatchError(job.index, `piece ${job.index} does not match its hash in the manifest`))
    else if (error != null) job.reject(Object.assign(new Error(error.message), { code: error.code }))
    else job.resolve()
  }

  /** From now on pieces are handled on this thread, those a worker still owes too (their slots still hold the bytes). */
  private goInline (): void {
    this.inline = true
    for (const [id, job] of this.jobs) {
      this.jobs.delete(id)
      this.writeHere(job.index, job.slot, job.lengthBytes).then(job.resolve, job.reject)
    }
  }

  private releaseSlot (slot: SharedArrayBuffer | undefined): void {
    this.slotsTaken--
    if (slot != null) this.freeSlots.push(slot)
    this.slotWaiters.shift()?.()
  }
}

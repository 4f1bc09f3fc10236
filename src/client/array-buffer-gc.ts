/**
 * Asks V8 for a full garbage collection (run in the background: marking
 * on helper threads, not one long pause) once the process holds more than
 * a bound of ArrayBuffer memory. The downloader checks after every piece
 * it wrote.
 *
 * Why: every received byte passes through network buffers (a TCP read, a
 * Noise message's plaintext) whose small JS wrappers are what the GC
 * sees. Those that were still held at two scavenges (pieces waiting in a
 * stream's buffer while the one before is hashed and written) are
 * promoted, and a promoted buffer is freed only by a mark-compact, which
 * V8 starts on its own only once ArrayBuffer memory grew by ~64 MiB since
 * the last one. That growth was most of a `get`'s peak RSS above its ~90
 * MiB of code and heap. Measured on whole 512 MiB gets from a local seeder
 * (docs/BENCHMARKS.md "Session 10"): peak RSS 174-178 -> 140-145 MiB for
 * 0.1-0.2 s more CPU with a 40 MiB bound; a 24 MiB bound gave 127-129 MiB
 * for 0.6-0.9 s more.
 *
 * It needs `gc` on the global object (`--expose-gc`, one of
 * SWARMCDN_NODE_FLAGS); in a node without it (a library user's, tests) it
 * does nothing.
 */

/** ArrayBuffer memory above which a full GC is asked for, bytes (see the file's comment). */
export const DEFAULT_ARRAY_BUFFER_GC_BYTES = 40 * 1024 * 1024

/** V8's `gc` as `--expose-gc` installs it (the options form, Node 20+). */
export type GcFunction = (options: { type: 'major', execution: 'async' }) => Promise<void> | undefined

/** Options for ArrayBufferGc. */
export interface ArrayBufferGcInit {
  /** ArrayBuffer bytes above which a GC is asked for. Default DEFAULT_ARRAY_BUFFER_GC_BYTES (40 MiB). */
  thresholdBytes?: number
  /** The collector. Default: `globalThis.gc`, or none. */
  gc?: GcFunction
  /** The process's ArrayBuffer bytes now. Default: `process.memoryUsage().arrayBuffers`. */
  arrayBufferBytes?: () => number
}

/** See the file's comment. */
export class ArrayBufferGc {
  private readonly thresholdBytes: number
  private readonly gc: GcFunction | undefined
  private readonly arrayBufferBytes: () => number
  private running = false

  constructor (init: ArrayBufferGcInit = {}) {
    this.thresholdBytes = init.thresholdBytes ?? DEFAULT_ARRAY_BUFFER_GC_BYTES
    if (!(this.thresholdBytes > 0)) throw new RangeError(`thresholdBytes must be positive, got ${this.thresholdBytes}`)
    this.gc = init.gc ?? (globalThis as { gc?: GcFunction }).gc
    this.arrayBufferBytes = init.arrayBufferBytes ?? (() => process.memoryUsage().arrayBuffers)
  }

  /** Asks for a GC when over the bound and none asked for is still running; true when it asked. */
  check (): boolean {
    if (this.gc == null || this.running || this.arrayBufferBytes() <= this.thresholdBytes) return false
    this.running = true
    const done = (): void => { this.running = false }
    try {
      const pending = this.gc({ type: 'major', execution: 'async' })
      if (pending == null) done()
      else pending.then(done, done)
    } catch {
      done()
    }
    return true
  }
}

/**
 * A download that can be read while it runs: any byte range of the item,
 * each piece handed out only after it verified and was written to disk.
 *
 * Rules:
 * - Bytes come from the partial file (or, once complete, the output file)
 *   after the downloader reported the piece verified; never from a buffer
 *   that is still being received or checked.
 * - A read that reaches a missing piece waits for it (bounded by its
 *   AbortSignal), and tells the session where it is: the session's
 *   priority range becomes the `readAheadPieces` missing pieces from the
 *   read position on, fetched in index (deadline) order; the rest of the
 *   item keeps coming rarest first.
 * - Until the first reader comes, the window is at the start of the item
 *   (a player starts there; a swarm download would otherwise begin with
 *   random pieces); after that it only moves with readers.
 * - Several readers at once (a player reading ahead while it probes the
 *   end of the file, two players): the session has one priority range, and
 *   it follows the reader whose position moved most recently. A reader
 *   that ends hands the window back to the most recent remaining one; when
 *   none is left, the window stays where the last one was (a player
 *   usually reconnects just after it). Readers are limited to MAX_READERS.
 * - When the download fails, readers of verified pieces go on; a read that
 *   needs a missing piece fails with the download's error.
 */
import { open, type FileHandle } from 'node:fs/promises'
import type { ContentId } from '../core/content/content-id.js'
import type { VerifiedManifest } from '../core/content/manifest.js'
import { pieceLengthAt } from '../core/content/pieces.js'
import { downloadContent, type DownloadControl, type DownloadInit, type DownloadResult, type DownloadSource } from './download-content.js'

/** Readers (open byte ranges) one streaming download serves at once. */
export const MAX_READERS = 32
/** Bytes per chunk handed to a reader (a piece can be 16 MiB). */
export const READ_CHUNK_BYTES = 256 * 1024
/** Default bytes ahead of the read position fetched first, in order. */
export const DEFAULT_READ_AHEAD_BYTES = 8 * 1024 * 1024
/** Default bytes of requests in flight per source: small, so a seek does not queue behind a deep pipeline (a source serves its queue in order). */
export const STREAMING_IN_FLIGHT_BYTES_PER_SOURCE = 2 * 1024 * 1024

/** An item the gateway can stream: its description and a reader of verified bytes. */
export interface StreamableItem {
  /** The verified manifest (name, media type, length, content id). */
  readonly manifest: VerifiedManifest
  /** Bytes start..endInclusive, waiting for pieces as needed; stops (throws) when `signal` aborts. */
  read: (start: number, endInclusive: number, signal: AbortSignal) => AsyncIterable<Uint8Array>
}

/** Too many readers on one item at once. */
export class TooManyReadersError extends Error {
  override name = 'TooManyReadersError'
  readonly code = 'ERR_TOO_MANY_READERS'
}

/** A downloader with downloadContent's signature (a swarm peer's download, with its source choice and fleet failover, is adapted to it). */
export type DownloadFunction = (contentId: string, outputPath: string, sources: DownloadSource[], init: DownloadInit) => Promise<DownloadResult>

/** Options for StreamingDownload.start (plus the downloader's own options). */
export interface StreamingDownloadInit extends Omit<DownloadInit, 'onManifest' | 'onControl' | 'onPieceVerified'> {
  /** Bytes from the read position fetched first, in order. Default 8 MiB (at least 2 pieces). */
  readAheadBytes?: number
  /** What runs the download. Default downloadContent (the given sources only). */
  download?: DownloadFunction
}

interface Reader { id: number, positionPiece: number, moved: number }
interface Waiter { index: number, resolve: () => void, reject: (err: unknown) => void }

/** A running download of one item that readers can stream from (see the file's rules). */
export class StreamingDownload implements StreamableItem {
  /** Settles when the download ends: the result, or its error (aborts included). */
  readonly done: Promise<DownloadResult>
  private control: DownloadControl | undefined
  private complete = false
  private failure: Error | undefined
  private readonly waiters = new Set<Waiter>()
  private readonly readers = new Map<number, Reader>()
  private nextReaderId = 0
  private moveCounter = 0
  private readonly readAheadPieces: number

  private constructor (
    readonly manifest: VerifiedManifest,
    /** Where the item is saved when complete. */
    readonly outputPath: string,
    done: Promise<DownloadResult>,
    readAheadBytes: number
  ) {
    this.done = done
    this.readAheadPieces = Math.max(2, Math.ceil(readAheadBytes / manifest.pieceSizeBytes))
  }

  /**
   * Starts downloading `contentId` into `outputPath` (resuming a partial
   * download there) and resolves once the manifest verified and the
   * download holds its output; rejects if no source gives a manifest or
   * the output can't be taken (FileLockedError, OutputExistsError,
   * ItemTooLargeError, DiskSpaceError).
   */
  static async start (contentId: string, outputPath: string, sources: DownloadSource[], init: StreamingDownloadInit = {}): Promise<StreamingDownload> {
    let self: StreamingDownload | undefined
    let control: DownloadControl | undefined
    const verifiedEarly: number[] = []
    let gotManifest!: (m: VerifiedManifest) => void
    const manifestP = new Promise<VerifiedManifest>(resolve => { gotManifest = resolve })
    let gotControl!: () => void
    const controlP = new Promise<void>(resolve => { gotControl = resolve })
    const { download = downloadContent, readAheadBytes, ...downloadInit } = init
    const done = download(contentId, outputPath, sources, {
      ...downloadInit,
      // The downloader's default pipeline is deep (8 MiB per source); a streaming one is shallow so a seek queues behind little.
      inFlightBytesPerSource: init.inFlightBytesPerSource ?? STREAMING_IN_FLIGHT_BYTES_PER_SOURCE,
      onManifest: m => {
        gotManifest(m)
      },
      onControl: c => { gotControl(); if (self != null) self.attach(c); else control = c },
      onPieceVerified: i => { if (self != null) self.onVerified(i); else verifiedEarly.push(i) }
    })
    // Not before the download holds its output (lock, size and space checks passed): a stream
    // whose file another process is writing must fail here, not play on without a download.
    await Promise.race([controlP, done])
    const m = await Promise.race([manifestP, done.then(r => r.manifest)])
    self = new StreamingDownload(m, outputPath, done, readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES)
    const me = self
    done.then(() => { me.finish(undefined) }, err => { me.finish(err as Error) })
    if (control != null) self.attach(control)
    for (const i of verifiedEarly) self.onVerified(i)
    return self
  }

  /** The content id. */
  get contentId (): ContentId {
    return this.manifest.contentId
  }

  /** True when every piece is on disk. */
  get isComplete (): boolean {
    return this.complete
  }

  /** Why the download stopped early, if it did. */
  get error (): Error | undefined {
    return this.failure
  }

  /** Pieces verified so far. */
  get verifiedPieces (): number {
    return this.complete ? this.manifest.pieceCount : (this.control?.verified.count ?? 0)
  }

  /** Readers and waits open now (for tests and status: both return to 0 when every response ended). */
  stats (): { readers: number, waiters: number, priorityStartPiece: number | undefined } {
    return { readers: this.readers.size, waiters: this.waiters.size, priorityStartPiece: this.lastWindowStart }
  }

  private lastWindowStart: number | undefined

  /** True when piece `index` can be read from disk. */
  hasPiece (index: number): boolean {
    return this.complete || this.control?.verified.get(index) === true
  }

  /** Checks the range and the reader limit now (so the gateway can still answer 500), then streams. */
  read (start: number, endInclusive: number, signal: AbortSignal): AsyncIterable<Uint8Array> {
    const m = this.manifest
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(endInclusive) || start < 0 || endInclusive >= m.lengthBytes || start > endInclusive) {
      throw new RangeError(`bad range ${start}-${endInclusive} of a ${m.lengthBytes}-byte item`)
    }
    if (this.readers.size >= MAX_READERS) throw new TooManyReadersError(`more than ${MAX_READERS} readers on ${m.contentId}`)
    return this.readRange(start, endInclusive, signal)
  }

  private async * readRange (start: number, endInclusive: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const m = this.manifest
    const reader: Reader = { id: this.nextReaderId++, positionPiece: Math.floor(start / m.pieceSizeBytes), moved: ++this.moveCounter }
    this.readers.set(reader.id, reader)
    let fh: FileHandle | undefined
    try {
      this.steer()
      let offset = start
      while (offset <= endInclusive) {
        const index = Math.floor(offset / m.pieceSizeBytes)
        if (reader.positionPiece !== index) {
          reader.positionPiece = index
          reader.moved = ++this.moveCounter
          this.steer()
        }
        if (!this.hasPiece(index)) await this.waitFor(index, signal)
        fh ??= await this.openData()
        const pieceEnd = index * m.pieceSizeBytes + pieceLengthAt(index, m.lengthBytes, m.pieceSizeBytes) - 1
        const chunkEnd = Math.min(endInclusive, pieceEnd, offset + READ_CHUNK_BYTES - 1)
        const buf = Buffer.allocUnsafe(chunkEnd - offset + 1)
        let got = 0
        while (got < buf.length) {
          const { bytesRead } = await fh.read(buf, got, buf.length - got, offset + got)
          if (bytesRead === 0) throw new Error(`data file of ${m.contentId} is shorter than the item`)
          got += bytesRead
        }
        offset = chunkEnd + 1
        signal.throwIfAborted()
        yield buf
      }
    } finally {
      this.readers.delete(reader.id)
      if (this.readers.size > 0) this.steer()
      await fh?.close()
    }
  }

  /** Opens the item's bytes: the partial file while downloading, the output once it was renamed into place. */
  private async openData (): Promise<FileHandle> {
    const partial = this.control?.partialPath
    if (partial != null && !this.complete) {
      try {
        return await open(partial, 'r')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
    return await open(this.outputPath, 'r')
  }

  private async waitFor (index: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (this.failure != null) throw this.failure
    await new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        index,
        resolve: () => { cleanup(); resolve() },
        reject: err => { cleanup(); reject(err) }
      }
      const onAbort = (): void => { w.reject(signal.reason) }
      const cleanup = (): void => {
        this.waiters.delete(w)
        signal.removeEventListener('abort', onAbort)
      }
      this.waiters.add(w)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Points the session's priority window at the most recently moved reader's next missing pieces. */
  private steer (): void {
    if (this.control == null || this.complete) return
    let latest: Reader | undefined
    for (const r of this.readers.values()) if (latest == null || r.moved > latest.moved) latest = r
    // Before the first reader: a player starts at the beginning, so that is fetched first (not random pieces).
    const position = latest?.positionPiece ?? (this.lastWindowStart === undefined ? 0 : undefined)
    if (position === undefined) return
    const verified = this.control.verified
    let from = position
    while (from < this.manifest.pieceCount && verified.get(from)) from++
    const end = Math.min(this.manifest.pieceCount, from + this.readAheadPieces)
    if (from === this.lastWindowStart && end === this.lastWindowEnd) return
    this.lastWindowStart = from
    this.lastWindowEnd = end
    this.control.setPriorityRange(from, end)
  }

  private lastWindowEnd: number | undefined

  private attach (control: DownloadControl): void {
    this.control = control
    this.steer()
    for (const w of [...this.waiters]) if (control.verified.get(w.index)) w.resolve()
  }

  private onVerified (index: number): void {
    for (const w of [...this.waiters]) if (w.index === index) w.resolve()
    // The window slides over pieces that just arrived, so read-ahead keeps going while the reader is busy.
    if (this.lastWindowStart === index) this.steer()
  }

  private finish (err: Error | undefined): void {
    if (err == null) {
      this.complete = true
      for (const w of [...this.waiters]) w.resolve()
    } else {
      this.failure = err
      for (const w of [...this.waiters]) w.reject(err)
    }
  }
}

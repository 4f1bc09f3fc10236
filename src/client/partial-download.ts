/**
 * A download in progress on disk: `OUTPUT.swarmcdn-partial` holds the
 * bytes at their final offsets and `OUTPUT.swarmcdn-partial.state` the
 * verified-pieces bitfield.
 *
 * Rules: a piece is written only after it verified; the state file lists a
 * piece only after its bytes were written and fdatasync'd; the state file
 * is replaced atomically (write a temp file, fsync, rename). A save starts
 * after a piece is written when STATE_SAVE_INTERVAL_MS passed or at least
 * STATE_SAVE_UNSAVED_BYTES are unsaved (so with 1 MiB pieces every piece is
 * recorded as soon as it is on disk), and at the end or on abort; one save
 * runs at a time, and a save that finds more unsaved pieces when it ends
 * starts the next. A crash (SIGKILL) therefore loses at most the pieces
 * written while the last save was in flight, plus what the interval holds
 * back for small pieces; it never costs correctness. On resume every piece
 * the state file claims is read back and re-hashed: a truncated or damaged
 * partial file (or a state file from a crash that outran the disk) loses
 * only the pieces that no longer verify, and a state file that does not
 * parse is discarded with the partial data. The output name appears only
 * when every piece is there (rename), so OUTPUT is complete or absent.
 *
 * One process at a time: the caller holds `OUTPUT.swarmcdn-partial.lock`
 * (file-lock.ts) from before it looks at these files until close() or
 * complete() released it, so two downloads into one output never share a
 * state file. The item's size is checked against the maximum item size and
 * the free space before the data file is extended to the item's length.
 * A download closed with no verified piece leaves nothing behind.
 */
import { open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import type { FileLock } from './file-lock.js'
import { assertRoomForItem } from './download-target.js'
import { randomBytes } from 'node:crypto'
import { Bitfield } from '../core/swarm/bitfield.js'
import type { VerifiedManifest } from '../core/content/manifest.js'
import { pieceLengthAt, verifyPiece, type PieceBytes } from '../core/content/pieces.js'
import { writeAt } from './positioned-write.js'

/** Suffix of the file that holds a download's bytes until it completes. */
export const PARTIAL_SUFFIX = '.swarmcdn-partial'
/** Suffix (after PARTIAL_SUFFIX) of the state file next to it. */
export const STATE_SUFFIX = '.state'
/** Most time between state saves while pieces arrive, ms. */
export const STATE_SAVE_INTERVAL_MS = 1000
/** Unsaved verified bytes that trigger a save without waiting for the interval (one default-size piece). */
export const STATE_SAVE_UNSAVED_BYTES = 1024 * 1024
/** Suffix (after PARTIAL_SUFFIX) of the lock file held while a process works on the download. */
export const LOCK_SUFFIX = '.lock'
/** Format tag of the state file. */
const STATE_FORMAT = 'swarmcdn-partial/1'

/** The JSON in a state file. */
export interface PartialState {
  format: typeof STATE_FORMAT
  contentId: string
  lengthBytes: number
  pieceSizeBytes: number
  pieceCount: number
  /** Verified pieces, as a base64 bitfield (BitTorrent bit order). */
  verified: string
}

/** Options for PartialDownload.open. */
export interface PartialDownloadInit {
  /** The held lock on this output (PartialDownload.lockPath), released by close()/complete(). Default: none (the caller guarantees one user). */
  lock?: FileLock
  /** Largest item accepted, bytes. Default DEFAULT_MAX_ITEM_SIZE_BYTES (download-target.ts). */
  maxItemSizeBytes?: number
}

/** The on-disk side of one download. */
export class PartialDownload {
  private readonly written: Bitfield
  private saved: Bitfield
  private lastSaveMs = 0
  private saving: Promise<void> | undefined
  private closed = false
  /** Set by close()/complete(): no new background save may start. */
  private finishing = false

  private constructor (
    readonly outputPath: string,
    private readonly manifest: VerifiedManifest,
    private readonly fh: FileHandle,
    resumed: Bitfield,
    /** Pieces found verified on disk when the download was opened. */
    readonly resumedPieces: number,
    private readonly lock: FileLock | undefined
  ) {
    this.written = resumed.clone()
    this.saved = resumed.clone()
  }

  /** Path of the partial data file. */
  static partialPath (outputPath: string): string { return outputPath + PARTIAL_SUFFIX }
  /** Path of the state file. */
  static statePath (outputPath: string): string { return outputPath + PARTIAL_SUFFIX + STATE_SUFFIX }
  /** Path of the lock file (see the file's comment). */
  static lockPath (outputPath: string): string { return outputPath + PARTIAL_SUFFIX + LOCK_SUFFIX }

  /**
   * Opens the partial download for `outputPath`, resuming if a state file
   * for the same item is there; otherwise starts afresh. Takes over `init.lock`
   * (released by close()/complete(), or here if opening fails). Throws
   * ItemTooLargeError or DiskSpaceError before the data file grows.
   */
  static async open (outputPath: string, manifest: VerifiedManifest, init: PartialDownloadInit = {}): Promise<PartialDownload> {
    try {
      return await PartialDownload.openLocked(outputPath, manifest, init)
    } catch (err) {
      await init.lock?.release()
      throw err
    }
  }

  private static async openLocked (outputPath: string, manifest: VerifiedManifest, init: PartialDownloadInit): Promise<PartialDownload> {
    const dataPath = PartialDownload.partialPath(outputPath)
    let claimed = new Bitfield(manifest.pieceCount)
    try {
      const state = JSON.parse(await readFile(PartialDownload.statePath(outputPath), 'utf8')) as PartialState
      await stat(dataPath)
      if (state.format === STATE_FORMAT && state.contentId === manifest.contentId && state.pieceCount === manifest.pieceCount &&
          state.lengthBytes === manifest.lengthBytes && state.pieceSizeBytes === manifest.pieceSizeBytes && typeof state.verified === 'string') {
        claimed = Bitfield.fromBytes(new Uint8Array(Buffer.from(state.verified, 'base64')), manifest.pieceCount)
      }
    } catch {
      // No usable state: start over (a stale or foreign partial file is overwritten).
    }
    const fh = await open(dataPath, claimed.count > 0 ? 'r+' : 'w+')
    let resumed: Bitfield
    try {
      resumed = claimed.count > 0 ? await reverify(fh, manifest, claimed) : claimed
      // Before the file grows to the item's length: a validly signed 4 TB manifest must not fill the disk.
      await assertRoomForItem(outputPath, manifest, { maxItemSizeBytes: init.maxItemSizeBytes, presentBytes: Math.min(manifest.lengthBytes, resumed.count * manifest.pieceSizeBytes) })
      await fh.truncate(manifest.lengthBytes)
    } catch (err) {
      await fh.close()
      if (claimed.count === 0) await rm(dataPath, { force: true })
      throw err
    }
    const pd = new PartialDownload(outputPath, manifest, fh, resumed, resumed.count, init.lock)
    // A fresh start, or a state file that claimed pieces which no longer verify: record the truth now.
    if (resumed.count === 0 || resumed.count !== claimed.count) await pd.save()
    return pd
  }

  /** Pieces verified and on disk (including unsaved ones). */
  get verified (): Bitfield {
    return this.written
  }

  /**
   * Writes a verified piece at its offset (its chunks as they are, not
   * copied into one buffer; positioned-write.ts); saves state when the
   * batch interval passed.
   */
  async writePiece (index: number, bytes: PieceBytes): Promise<void> {
    if (this.closed) throw new Error('partial download is closed')
    await writeAt(this.fh, bytes, index * this.manifest.pieceSizeBytes)
    this.written.set(index)
    this.maybeSave()
  }

  /** Starts a background save when the interval passed or enough bytes are unsaved, unless one is running (it chains the next). */
  private maybeSave (): void {
    if (this.saving != null || this.finishing) return
    const unsaved = this.written.count - this.saved.count
    if (unsaved <= 0) return
    if (Date.now() - this.lastSaveMs < STATE_SAVE_INTERVAL_MS && unsaved * this.manifest.pieceSizeBytes < STATE_SAVE_UNSAVED_BYTES) return
    this.saving = this.save()
      .finally(() => { this.saving = undefined })
      .then(() => { this.maybeSave() })
    // A failed background save is retried by the next one; close() and complete() save or sync themselves.
    this.saving.catch(() => {})
  }

  /** Syncs the data file, then atomically replaces the state file with the pieces written before the sync. */
  async save (): Promise<void> {
    const snapshot = this.written.clone()
    await this.fh.datasync()
    const state: PartialState = {
      format: STATE_FORMAT,
      contentId: this.manifest.contentId,
      lengthBytes: this.manifest.lengthBytes,
      pieceSizeBytes: this.manifest.pieceSizeBytes,
      pieceCount: this.manifest.pieceCount,
      verified: Buffer.from(snapshot.bytes).toString('base64')
    }
    const statePath = PartialDownload.statePath(this.outputPath)
    const tmp = `${statePath}.${randomBytes(4).toString('hex')}.tmp`
    await writeFile(tmp, JSON.stringify(state) + '\n', { flush: true })
    await rename(tmp, statePath)
    this.saved = snapshot
    this.lastSaveMs = Date.now()
  }

  /** Pieces recorded in the state file. */
  get savedCount (): number {
    return this.saved.count
  }

  /** Saves state and closes the file, leaving the partial download to resume later (or no files at all when no piece verified); releases the lock. */
  async close (): Promise<void> {
    if (this.closed) return
    this.finishing = true
    try {
      while (this.saving != null) await this.saving.catch(() => {})
      if (this.written.count === 0) {
        this.closed = true
        await this.fh.close()
        // Nothing worth resuming: no empty preallocated file, no state file.
        await rm(PartialDownload.statePath(this.outputPath), { force: true })
        await rm(PartialDownload.partialPath(this.outputPath), { force: true })
        return
      }
      await this.save()
      this.closed = true
      await this.fh.close()
    } finally {
      await this.lock?.release()
    }
  }

  /** Every piece is there: sync, move the data to OUTPUT and remove the state file. */
  async complete (): Promise<void> {
    if (!this.written.isFull) throw new Error('download is not complete')
    this.finishing = true
    try {
      while (this.saving != null) await this.saving.catch(() => {})
      await this.fh.datasync()
      this.closed = true
      await this.fh.close()
      await rename(PartialDownload.partialPath(this.outputPath), this.outputPath)
      await rm(PartialDownload.statePath(this.outputPath), { force: true })
    } finally {
      await this.lock?.release()
    }
  }
}

/** Reads back every claimed piece and keeps those that still match the manifest (a torn or truncated partial file loses only what is damaged). */
async function reverify (fh: FileHandle, manifest: VerifiedManifest, claimed: Bitfield): Promise<Bitfield> {
  const ok = new Bitfield(manifest.pieceCount)
  const buf = Buffer.allocUnsafe(manifest.pieceSizeBytes)
  for (let i = 0; i < manifest.pieceCount; i++) {
    if (!claimed.get(i)) continue
    const length = pieceLengthAt(i, manifest.lengthBytes, manifest.pieceSizeBytes)
    let got = 0
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, i * manifest.pieceSizeBytes + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    try {
      verifyPiece(manifest, i, buf.subarray(0, got))
      ok.set(i)
    } catch {
      // Damaged or missing on disk: fetched again.
    }
  }
  return ok
}

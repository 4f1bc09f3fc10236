/**
 * A download in progress on disk: `OUTPUT.swarmcdn-partial` holds the
 * bytes at their final offsets and `OUTPUT.swarmcdn-partial.state` the
 * verified-pieces bitfield.
 *
 * Rules: a piece is written only after it verified; the state file lists a
 * piece only after its bytes were written and fdatasync'd; the state file
 * is replaced atomically (write a temp file, fsync, rename). Saves are
 * batched (every STATE_SAVE_INTERVAL_MS, and at the end or on abort) so a
 * crash loses at most that much progress, never correctness. The output
 * name appears only when every piece is there (rename), so OUTPUT is
 * complete or absent.
 */
import { open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { Bitfield } from '../core/swarm/bitfield.js'
import type { VerifiedManifest } from '../core/content/manifest.js'
import { pieceBytesLength, type PieceBytes } from '../core/content/pieces.js'

/** Suffix of the file that holds a download's bytes until it completes. */
export const PARTIAL_SUFFIX = '.swarmcdn-partial'
/** Suffix (after PARTIAL_SUFFIX) of the state file next to it. */
export const STATE_SUFFIX = '.state'
/** Most time between state saves while pieces arrive, ms. */
export const STATE_SAVE_INTERVAL_MS = 1000
/** Chunks per writev call: below every platform's IOV_MAX (1024 on Linux). */
const MAX_WRITEV_CHUNKS = 512
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

/** The on-disk side of one download. */
export class PartialDownload {
  private readonly written: Bitfield
  private saved: Bitfield
  private lastSaveMs = 0
  private saving: Promise<void> | undefined
  private closed = false

  private constructor (
    readonly outputPath: string,
    private readonly manifest: VerifiedManifest,
    private readonly fh: FileHandle,
    resumed: Bitfield,
    /** Pieces found verified on disk when the download was opened. */
    readonly resumedPieces: number
  ) {
    this.written = resumed.clone()
    this.saved = resumed.clone()
  }

  /** Path of the partial data file. */
  static partialPath (outputPath: string): string { return outputPath + PARTIAL_SUFFIX }
  /** Path of the state file. */
  static statePath (outputPath: string): string { return outputPath + PARTIAL_SUFFIX + STATE_SUFFIX }

  /** Opens the partial download for `outputPath`, resuming if a state file for the same item is there; otherwise starts afresh. */
  static async open (outputPath: string, manifest: VerifiedManifest): Promise<PartialDownload> {
    const dataPath = PartialDownload.partialPath(outputPath)
    let resumed = new Bitfield(manifest.pieceCount)
    try {
      const state = JSON.parse(await readFile(PartialDownload.statePath(outputPath), 'utf8')) as PartialState
      const st = await stat(dataPath)
      if (state.format === STATE_FORMAT && state.contentId === manifest.contentId && state.pieceCount === manifest.pieceCount &&
          state.lengthBytes === manifest.lengthBytes && st.size === manifest.lengthBytes) {
        resumed = Bitfield.fromBytes(new Uint8Array(Buffer.from(state.verified, 'base64')), manifest.pieceCount)
      }
    } catch {
      // No usable state: start over (a stale or foreign partial file is overwritten).
    }
    const fh = await open(dataPath, resumed.count > 0 ? 'r+' : 'w+')
    await fh.truncate(manifest.lengthBytes)
    const pd = new PartialDownload(outputPath, manifest, fh, resumed, resumed.count)
    if (resumed.count === 0) await pd.save()
    return pd
  }

  /** Pieces verified and on disk (including unsaved ones). */
  get verified (): Bitfield {
    return this.written
  }

  /**
   * Writes a verified piece at its offset (its chunks with one writev, not
   * copied into one buffer); saves state when the batch interval passed.
   */
  async writePiece (index: number, bytes: PieceBytes): Promise<void> {
    if (this.closed) throw new Error('partial download is closed')
    const offset = index * this.manifest.pieceSizeBytes
    let chunks: readonly Uint8Array[] = bytes instanceof Uint8Array ? [bytes] : bytes
    let left = pieceBytesLength(bytes)
    while (left > 0) {
      const { bytesWritten } = await this.fh.writev(chunks.slice(0, MAX_WRITEV_CHUNKS), offset + pieceBytesLength(bytes) - left)
      if (bytesWritten === 0) throw new Error(`writing piece ${index} made no progress`)
      left -= bytesWritten
      chunks = dropBytes(chunks, bytesWritten)
    }
    this.written.set(index)
    if (Date.now() - this.lastSaveMs >= STATE_SAVE_INTERVAL_MS && this.saving == null) {
      this.saving = this.save().finally(() => { this.saving = undefined })
    }
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

  /** Saves state and closes the file, leaving the partial download to resume later. */
  async close (): Promise<void> {
    if (this.closed) return
    await this.saving
    await this.save()
    this.closed = true
    await this.fh.close()
  }

  /** Every piece is there: sync, move the data to OUTPUT and remove the state file. */
  async complete (): Promise<void> {
    if (!this.written.isFull) throw new Error('download is not complete')
    await this.saving
    await this.fh.datasync()
    this.closed = true
    await this.fh.close()
    await rename(PartialDownload.partialPath(this.outputPath), this.outputPath)
    await rm(PartialDownload.statePath(this.outputPath), { force: true })
  }
}

/** `chunks` without their first `n` bytes (after a short write). */
function dropBytes (chunks: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const c of chunks) {
    if (n >= c.byteLength) { n -= c.byteLength; continue }
    out.push(n > 0 ? c.subarray(n) : c)
    n = 0
  }
  return out
}

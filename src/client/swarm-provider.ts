/**
 * What a peer serves: the complete items of its ContentStore plus its
 * downloads, including those still in progress. A download in progress
 * serves only verified pieces (its bitfield) from its own read handle on
 * the partial file (the handle survives the rename to the output name), and
 * tells watchers (the xfer server's open streams, which send `have`) about
 * each piece as it is stored. When the download completes it is added to
 * the store (if any) and served from there; without a store the finished
 * file keeps being served through the same handle.
 */
import { open, type FileHandle } from 'node:fs/promises'
import type { ContentId } from '../core/content/content-id.js'
import type { VerifiedManifest } from '../core/content/manifest.js'
import { pieceLengthAt } from '../core/content/pieces.js'
import { Bitfield } from '../core/swarm/bitfield.js'
import type { ContentProvider } from '../net/content-provider.js'
import type { ContentStore } from '../store/content-store.js'
import { PartialDownload } from './partial-download.js'

/** Most downloads served at once outside the store (each holds a file handle). */
export const MAX_SERVED_DOWNLOADS = 64

interface Download {
  manifest: VerifiedManifest
  held: Bitfield
  fh: Promise<FileHandle>
  watchers: Set<(index: number) => void>
}

/** A ContentProvider over a store and the peer's downloads (see the file's comment). */
export class SwarmContentProvider implements ContentProvider {
  private readonly downloads = new Map<ContentId, Download>()

  /** Serves `store` (optional) and whatever downloads are added. */
  constructor (readonly store?: ContentStore) {}

  /** Starts serving a download in progress: the pieces `partial` has verified now, more as pieceStored() reports them. */
  addDownload (manifest: VerifiedManifest, partial: PartialDownload): void {
    if (this.store?.has(manifest.contentId) === true) return
    const old = this.downloads.get(manifest.contentId)
    if (old != null) void this.closeDownload(manifest.contentId, old)
    if (this.downloads.size >= MAX_SERVED_DOWNLOADS) throw new RangeError(`serving at most ${MAX_SERVED_DOWNLOADS} downloads at once`)
    const fh = open(PartialDownload.partialPath(partial.outputPath), 'r')
    fh.catch(() => {})
    this.downloads.set(manifest.contentId, { manifest, held: partial.verified.clone(), fh, watchers: new Set() })
  }

  /** A verified piece of a download was written: serve it and tell watchers. */
  pieceStored (id: ContentId, index: number): void {
    const d = this.downloads.get(id)
    if (d == null || !d.held.set(index)) return
    for (const w of [...d.watchers]) w(index)
  }

  /** The download finished at `outputPath`: add it to the store (when there is one) and serve it from there. */
  async completeDownload (id: ContentId, outputPath: string): Promise<void> {
    const d = this.downloads.get(id)
    if (d == null) return
    for (let i = 0; i < d.manifest.pieceCount; i++) this.pieceStored(id, i)
    if (this.store == null) return
    await this.store.addFile(outputPath, d.manifest)
    this.downloads.delete(id)
    await (await d.fh).close().catch(() => {})
  }

  /** Ids of every item served: the store's and the downloads' (in progress or finished without a store). */
  contentIds (): ContentId[] {
    return [...new Set([...(this.store?.list() ?? []), ...this.downloads.keys()])]
  }

  /** Stops serving a download (abandoned or failed). */
  async removeDownload (id: ContentId): Promise<void> {
    const d = this.downloads.get(id)
    if (d != null) await this.closeDownload(id, d)
  }

  private async closeDownload (id: ContentId, d: Download): Promise<void> {
    if (this.downloads.get(id) === d) this.downloads.delete(id)
    try { await (await d.fh).close() } catch {}
  }

  has (id: ContentId): boolean {
    return this.store?.has(id) === true || this.downloads.has(id)
  }

  manifest (id: ContentId): VerifiedManifest | undefined {
    return this.store?.manifest(id) ?? this.downloads.get(id)?.manifest
  }

  bitfield (id: ContentId): Bitfield | undefined {
    if (this.store?.has(id) === true) return undefined
    return this.downloads.get(id)?.held
  }

  watch (id: ContentId, onHave: (index: number) => void): () => void {
    const d = this.downloads.get(id)
    if (d == null) return () => {}
    d.watchers.add(onHave)
    return () => { d.watchers.delete(onHave) }
  }

  async readPiece (id: ContentId, index: number): Promise<Uint8Array> {
    const d = this.downloads.get(id)
    if (d == null) {
      if (this.store == null) throw new RangeError(`no item ${id}`)
      return await this.store.readPiece(id, index)
    }
    if (!d.held.get(index)) throw new RangeError(`piece ${index} of ${id} is not held yet`)
    const m = d.manifest
    const length = pieceLengthAt(index, m.lengthBytes, m.pieceSizeBytes)
    const buf = new Uint8Array(length)
    const fh = await d.fh
    let done = 0
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, index * m.pieceSizeBytes + done)
      if (bytesRead === 0) throw new RangeError(`partial file of ${id} is truncated`)
      done += bytesRead
    }
    return buf
  }

  /** Closes every download's file handle. */
  async close (): Promise<void> {
    await Promise.all([...this.downloads].map(async ([id, d]) => { await this.closeDownload(id, d) }))
  }
}

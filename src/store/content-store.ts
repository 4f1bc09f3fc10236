/**
 * A directory of complete, verified items: what a seeder serves and what a
 * peer keeps after a download.
 *
 * Layout: DIR/items/<contentId>/manifest (signed manifest bytes) and
 * DIR/items/<contentId>/data (the item's bytes). An item appears by renaming
 * a fully written and verified staging folder into place, so a crash never
 * leaves a half item that looks complete.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { createReadStream, type ReadStream } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { openSignedManifest, type VerifiedManifest } from '../core/content/manifest.js'
import { pieceLengthAt, verifyPiece } from '../core/content/pieces.js'
import { parseContentId, type ContentId } from '../core/content/content-id.js'

/** Thrown when an item is asked for that the store does not hold. */
export class UnknownContentError extends Error {
  override name = 'UnknownContentError'
  readonly code = 'ERR_UNKNOWN_CONTENT'
}

/** Thrown when a store directory or item on disk is unusable. */
export class ContentStoreError extends Error {
  override name = 'ContentStoreError'
  readonly code = 'ERR_CONTENT_STORE'
}

/** The store folder does not exist and opening was told not to create it (`seed` without --create-store). */
export class StoreMissingError extends Error {
  override name = 'StoreMissingError'
  readonly code = 'ERR_STORE_MISSING'
}

/** Options for ContentStore.open. */
export interface ContentStoreInit {
  /** Create the store when its folder does not exist. Default true. */
  create?: boolean
}

/** How many item files the store keeps open at once for piece reads. */
const MAX_OPEN_FILES = 64
/** Copy buffer for adding items, in bytes. */
const COPY_CHUNK_BYTES = 1024 * 1024

/** A directory of complete items, each with its signed manifest. */
export class ContentStore {
  private readonly items = new Map<ContentId, VerifiedManifest>()
  private readonly handles = new Map<ContentId, Promise<FileHandle>>()

  private constructor (readonly dir: string) {}

  /**
   * Opens a store and loads every item's manifest; items that fail
   * verification are skipped and reported in `skipped`. A missing store is
   * created unless `init.create` is false (then StoreMissingError). A path
   * that is (or runs through) a file is a ContentStoreError in one line.
   */
  static async open (dir: string, init: ContentStoreInit = {}): Promise<ContentStore> {
    const store = new ContentStore(dir)
    const st = await stat(dir).catch((err: NodeJS.ErrnoException) => err)
    if (st instanceof Error) {
      if (st.code === 'ENOTDIR') throw new ContentStoreError(`store ${dir} is not a directory: part of its path is a file`)
      if (st.code !== 'ENOENT') throw new ContentStoreError(`cannot open store ${dir}: ${st.message}`)
      if (init.create === false) throw new StoreMissingError(`no content store at ${dir} (check the path; swarmcdn publish --store ${dir} creates one, or pass --create-store to start an empty one)`)
    } else if (!st.isDirectory()) {
      throw new ContentStoreError(`store ${dir} is a file, not a directory`)
    }
    try {
      await mkdir(join(dir, 'items'), { recursive: true })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST' || code === 'ENOTDIR') throw new ContentStoreError(`store ${dir} is not a content store: ${join(dir, 'items')} is a file`)
      throw new ContentStoreError(`cannot create store ${dir}: ${(err as Error).message}`)
    }
    for (const entry of await readdir(join(dir, 'items'))) {
      if (entry.startsWith('.')) continue
      const reason = await store.load(entry)
      if (reason !== undefined) store.skipped.push({ entry, reason })
    }
    return store
  }

  /** Loads the item in folder `entry`; undefined when it loaded, else why not. */
  private async load (entry: string): Promise<string | undefined> {
    try {
      const id = parseContentId(entry)
      const bytes = await readFile(join(this.dir, 'items', entry, 'manifest'))
      const manifest = openSignedManifest(new Uint8Array(bytes), id)
      const st = await stat(this.dataPath(id))
      if (st.size !== manifest.lengthBytes) throw new ContentStoreError(`data is ${st.size} bytes, manifest says ${manifest.lengthBytes}`)
      this.items.set(id, manifest)
      return undefined
    } catch (err) {
      return (err as Error).message
    }
  }

  /**
   * Brings the store up to date with its folder while it is served: items
   * another process published appear (they arrive whole, by rename) and
   * items removed (`unpublish`) go. Folders that fail to load are reported
   * in `skipped` once. Returns the ids added and removed.
   */
  async rescan (): Promise<{ added: ContentId[], removed: ContentId[] }> {
    const entries = new Set((await readdir(join(this.dir, 'items'))).filter(e => !e.startsWith('.')))
    const removed: ContentId[] = []
    for (const id of [...this.items.keys()]) {
      if (entries.has(id)) continue
      this.items.delete(id)
      this.closeHandle(id)
      removed.push(id)
    }
    const added: ContentId[] = []
    // A skipped folder that went away may come back fixed: forget it.
    const gone = this.skipped.filter(s => !entries.has(s.entry))
    for (const g of gone) this.skipped.splice(this.skipped.indexOf(g), 1)
    const known = new Set(this.skipped.map(s => s.entry))
    for (const entry of entries) {
      if (this.items.has(entry as ContentId) || known.has(entry)) continue
      const reason = await this.load(entry)
      if (reason === undefined) added.push(entry as ContentId)
      else this.skipped.push({ entry, reason })
    }
    return { added, removed }
  }

  /**
   * Removes an item: its folder is renamed aside first, so a running
   * seeder's rescan sees it whole or gone, then deleted. Throws
   * UnknownContentError when the store does not hold it.
   */
  async remove (id: ContentId): Promise<void> {
    this.require(id)
    const aside = join(this.dir, 'items', `.removing-${randomBytes(6).toString('hex')}`)
    await rename(join(this.dir, 'items', id), aside)
    this.items.delete(id)
    this.closeHandle(id)
    await rm(aside, { recursive: true, force: true })
  }

  private closeHandle (id: ContentId): void {
    const h = this.handles.get(id)
    if (h == null) return
    this.handles.delete(id)
    void h.then(async fh => { await fh.close() }, () => {})
  }

  /** Folders under items/ that were not loaded, with why. */
  readonly skipped: Array<{ entry: string, reason: string }> = []

  /** Path of an item's data file. */
  dataPath (id: ContentId): string {
    return join(this.dir, 'items', id, 'data')
  }

  /** Content ids of every item held. */
  list (): ContentId[] {
    return [...this.items.keys()]
  }

  /** True when the store holds the item. */
  has (id: ContentId): boolean {
    return this.items.has(id)
  }

  /** The verified manifest of an item, or undefined. */
  manifest (id: ContentId): VerifiedManifest | undefined {
    return this.items.get(id)
  }

  private require (id: ContentId): VerifiedManifest {
    const m = this.items.get(id)
    if (m == null) throw new UnknownContentError(`no item ${id} in this store`)
    return m
  }

  private async handle (id: ContentId): Promise<FileHandle> {
    let h = this.handles.get(id)
    if (h == null) {
      if (this.handles.size >= MAX_OPEN_FILES) {
        const [oldest, p] = this.handles.entries().next().value as [ContentId, Promise<FileHandle>]
        this.handles.delete(oldest)
        void p.then(async fh => { await fh.close() }, () => {})
      }
      h = open(this.dataPath(id), 'r')
      this.handles.set(id, h)
    }
    return await h
  }

  /** Reads piece `index` of an item (bytes as stored; verified when the item was added). */
  async readPiece (id: ContentId, index: number): Promise<Uint8Array> {
    const m = this.require(id)
    if (!Number.isInteger(index) || index < 0 || index >= m.pieceCount) {
      throw new RangeError(`piece ${index} out of range for ${id} (${m.pieceCount} pieces)`)
    }
    const length = pieceLengthAt(index, m.lengthBytes, m.pieceSizeBytes)
    const buf = new Uint8Array(length)
    const fh = await this.handle(id)
    let done = 0
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, index * m.pieceSizeBytes + done)
      if (bytesRead === 0) throw new ContentStoreError(`data file of ${id} is truncated`)
      done += bytesRead
    }
    return buf
  }

  /** A stream of bytes `start` to `endInclusive` of an item. */
  createRangeStream (id: ContentId, start: number, endInclusive: number): ReadStream {
    this.require(id)
    return createReadStream(this.dataPath(id), { start, end: endInclusive, highWaterMark: 256 * 1024 })
  }

  /**
   * Adds an item by copying `sourcePath`, checking every piece against the
   * manifest while copying, so a file that changed since it was hashed is
   * refused rather than stored under a wrong id. Idempotent.
   */
  async addFile (sourcePath: string, manifest: VerifiedManifest): Promise<void> {
    if (this.items.has(manifest.contentId)) return
    const staging = join(this.dir, 'items', `.staging-${randomBytes(6).toString('hex')}`)
    await mkdir(staging, { recursive: true })
    try {
      const src = await open(sourcePath, 'r')
      const dst = await open(join(staging, 'data'), 'w')
      try {
        const piece = new Uint8Array(manifest.pieceSizeBytes)
        for (let i = 0; i < manifest.pieceCount; i++) {
          const length = pieceLengthAt(i, manifest.lengthBytes, manifest.pieceSizeBytes)
          let got = 0
          while (got < length) {
            const { bytesRead } = await src.read(piece, got, Math.min(COPY_CHUNK_BYTES, length - got), i * manifest.pieceSizeBytes + got)
            if (bytesRead === 0) throw new ContentStoreError(`${sourcePath} is shorter than its manifest says (${manifest.lengthBytes} bytes)`)
            got += bytesRead
          }
          const bytes = piece.subarray(0, length)
          verifyPiece(manifest, i, bytes)
          await dst.write(bytes, 0, length, i * manifest.pieceSizeBytes)
        }
        await dst.sync()
      } finally {
        await src.close()
        await dst.close()
      }
      const manifestFile = await open(join(staging, 'manifest'), 'w')
      try {
        await manifestFile.write(manifest.signedBytes)
        await manifestFile.sync()
      } finally {
        await manifestFile.close()
      }
      await rename(staging, join(this.dir, 'items', manifest.contentId))
      this.items.set(manifest.contentId, manifest)
    } catch (err) {
      await rm(staging, { recursive: true, force: true })
      throw err
    }
  }

  /** Closes open data files. */
  async close (): Promise<void> {
    const all = [...this.handles.values()]
    this.handles.clear()
    await Promise.all(all.map(async p => { try { await (await p).close() } catch {} }))
  }
}

import { expect } from 'chai'
import { mkdtemp, writeFile, rm, readdir, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { ContentStore, UnknownContentError } from '../../src/store/content-store.js'
import { manifestForFile, publishFile } from '../../seeders/publish-file.js'
import { PieceHashMismatchError } from '../../src/core/content/content-errors.js'

describe('store/content-store', () => {
  let dir: string
  const { privateKey } = generateKeyPairSync('ed25519')

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmcdn-store-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('stores a published file and reads back every piece byte for byte', async () => {
    const data = randomBytes(100_000)
    await writeFile(join(dir, 'clip.webm'), data)
    const store = await ContentStore.open(join(dir, 'store'))
    const m = await publishFile(store, join(dir, 'clip.webm'), privateKey, { pieceSizeBytes: 16384 })
    expect(m.mediaType).to.equal('video/webm')
    expect(m.pieceCount).to.equal(7)
    const pieces = []
    for (let i = 0; i < m.pieceCount; i++) pieces.push(await store.readPiece(m.contentId, i))
    expect(Buffer.concat(pieces).equals(data)).to.equal(true)
    await store.close()
  })

  it('reloads its items after a restart', async () => {
    await writeFile(join(dir, 'a.bin'), randomBytes(40_000))
    const store = await ContentStore.open(join(dir, 'store'))
    const m = await publishFile(store, join(dir, 'a.bin'), privateKey, { pieceSizeBytes: 16384 })
    await store.close()
    const again = await ContentStore.open(join(dir, 'store'))
    expect(again.list()).to.deep.equal([m.contentId])
    expect(again.manifest(m.contentId)?.lengthBytes).to.equal(40_000)
    await again.close()
  })

  it('skips an item whose data file was truncated instead of serving it', async () => {
    await writeFile(join(dir, 'a.bin'), randomBytes(40_000))
    const store = await ContentStore.open(join(dir, 'store'))
    const m = await publishFile(store, join(dir, 'a.bin'), privateKey, { pieceSizeBytes: 16384 })
    await store.close()
    await truncate(store.dataPath(m.contentId), 1000)
    const again = await ContentStore.open(join(dir, 'store'))
    expect(again.has(m.contentId)).to.equal(false)
    expect(again.skipped[0].reason).to.match(/1000 bytes/)
  })

  it('refuses a file that changed after it was hashed and leaves no staging folder', async () => {
    const path = join(dir, 'a.bin')
    await writeFile(path, randomBytes(40_000))
    const m = await manifestForFile(path, privateKey, { pieceSizeBytes: 16384 })
    await writeFile(path, randomBytes(40_000))
    const store = await ContentStore.open(join(dir, 'store'))
    let err: unknown
    try { await store.addFile(path, m) } catch (e) { err = e }
    expect(err).to.be.instanceOf(PieceHashMismatchError)
    expect(store.has(m.contentId)).to.equal(false)
    expect(await readdir(join(dir, 'store', 'items'))).to.deep.equal([])
  })

  it('throws UnknownContentError for an item it does not hold', async () => {
    const store = await ContentStore.open(join(dir, 'store'))
    let err: unknown
    try { await store.readPiece('bafkreic3edaln5rrp7x6zrehormsc5kah2lbv5i2tgwbgi7ybj4dg75iaq', 0) } catch (e) { err = e }
    expect(err).to.be.instanceOf(UnknownContentError)
  })
})

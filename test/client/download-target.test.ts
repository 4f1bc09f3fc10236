import { expect } from 'chai'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { assertOutputWritable, assertRoomForItem, DiskSpaceError, isCompleteCopy, ItemTooLargeError, itemFileName, OutputExistsError, OutputPathError, outputError, resolveOutputPath } from '../../src/client/download-target.js'
import { PartialDownload } from '../../src/client/partial-download.js'
import type { VerifiedManifest } from '../../src/core/content/manifest.js'

const PIECE = 16 * 1024

describe('client: download target checks (output path, overwrite, size, free space)', function () {
  this.timeout(20_000)
  let fx: Fixture
  before(async () => { fx = await makeFixture(4 * PIECE - 10, PIECE, 'talk.mp4') })
  after(async () => { await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  /** The fixture's manifest claiming `lengthBytes` (as a validly signed manifest of a huge item would). */
  function claiming (lengthBytes: number): VerifiedManifest {
    const pieceSizeBytes = 16 * 1024 * 1024
    return { ...fx.manifest, lengthBytes, pieceSizeBytes, pieceCount: Math.ceil(lengthBytes / pieceSizeBytes) }
  }

  it('saves inside an existing directory under the manifest name, never outside it', async () => {
    const dir = join(fx.dir, 'dl')
    await mkdir(dir)
    expect(await resolveOutputPath(dir, fx.manifest)).to.equal(join(dir, 'talk.mp4'))
    expect(await resolveOutputPath(join(dir, 'x.mp4'), fx.manifest)).to.equal(join(dir, 'x.mp4'))
    expect(itemFileName({ name: '..', contentId: fx.manifest.contentId })).to.equal(fx.manifest.contentId)
  })

  it('refuses an existing file unless told to overwrite, and names a file in the way of the folder', async () => {
    const file = join(fx.dir, 'taken.bin')
    await writeFile(file, 'mine')
    const err = await assertOutputWritable(file, { hint: 'pass --force' }).then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(OutputExistsError)
    expect((err as Error).message).to.equal(`${file} exists; pass --force`)
    await assertOutputWritable(file, { overwrite: true })
    const under = await assertOutputWritable(join(file, 'x.bin')).then(() => undefined, (e: unknown) => e)
    expect(under).to.be.instanceOf(OutputPathError)
    expect((under as Error).message).to.match(/is a file, not a directory|is not a directory/)
  })

  it('recognises a file that already is the complete item', async () => {
    expect(await isCompleteCopy(fx.source, fx.manifest)).to.equal(true)
    const other = join(fx.dir, 'other.bin')
    await writeFile(other, Buffer.alloc(fx.manifest.lengthBytes))
    expect(await isCompleteCopy(other, fx.manifest)).to.equal(false)
  })

  it('refuses an item above the maximum item size, and one larger than the free space', async () => {
    const out = join(fx.dir, 'huge.bin')
    const e1 = await assertRoomForItem(out, claiming(4.4e12)).then(() => undefined, (e: unknown) => e)
    expect(e1).to.be.instanceOf(ItemTooLargeError)
    expect((e1 as Error).message).to.equal('talk.mp4 is 4.0 TiB, more than the maximum item size 1.0 TiB (raise it with --max-item-size)')
    const e2 = await assertRoomForItem(out, claiming(2 ** 45), { maxItemSizeBytes: Infinity }).then(() => undefined, (e: unknown) => e)
    expect(e2).to.be.instanceOf(DiskSpaceError)
    expect((e2 as Error).message).to.match(/^talk\.mp4 needs 32\.0 TiB but .* has [\d.]+ [KMGT]iB free$/)
    await assertRoomForItem(out, fx.manifest)
  })

  it('opens no partial file at all for an item that does not fit', async () => {
    const dir = join(fx.dir, 'nofit')
    await mkdir(dir)
    const err = await PartialDownload.open(join(dir, 'huge.bin'), claiming(2 ** 45), { maxItemSizeBytes: Infinity }).then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(DiskSpaceError)
    expect(await readdir(dir)).to.deep.equal([])
  })

  it('turns a raw file-system error into one line naming the output, and leaves other errors alone', () => {
    const raw = Object.assign(new Error("EACCES: permission denied, open '/media/x.mp4.swarmcdn-partial.lock'"), { code: 'EACCES' })
    const e = outputError(raw, '/media/x.mp4')
    expect(e).to.be.instanceOf(OutputPathError)
    expect((e as Error).message).to.equal('cannot write /media/x.mp4: permission denied')
    const full = outputError(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), 'x.mp4')
    expect((full as Error).message).to.equal('cannot write x.mp4: the disk is full')
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(outputError(refused, 'x.mp4')).to.equal(refused)
    const ours = new DiskSpaceError('no room')
    expect(outputError(ours, 'x.mp4')).to.equal(ours)
  })
})

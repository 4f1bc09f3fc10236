import { expect } from 'chai'
import { open as openFile, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { PartialDownload, type PartialState } from '../../src/client/partial-download.js'
import { Bitfield } from '../../src/core/swarm/bitfield.js'

const PIECE = 16 * 1024
const PIECES = 8

describe('client: PartialDownload recovery after a crash', function () {
  this.timeout(20_000)
  let fx: Fixture
  before(async () => { fx = await makeFixture(PIECES * PIECE - 100, PIECE) })
  after(async () => { await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  /** A partial download with pieces 0..4 written and saved, as a crash would leave it. */
  async function leaveFivePieces (name: string): Promise<string> {
    const out = join(fx.dir, name)
    const pd = await PartialDownload.open(out, fx.manifest)
    for (let i = 0; i < 5; i++) await pd.writePiece(i, await fx.store.readPiece(fx.manifest.contentId, i))
    await pd.close()
    return out
  }

  async function stateClaims (out: string): Promise<number> {
    const state = JSON.parse(await readFile(PartialDownload.statePath(out), 'utf8')) as PartialState
    return Bitfield.fromBytes(new Uint8Array(Buffer.from(state.verified, 'base64')), PIECES).count
  }

  it('resumes every piece the state file claims when they all still verify', async () => {
    const out = await leaveFivePieces('intact.bin')
    const pd = await PartialDownload.open(out, fx.manifest)
    expect(pd.resumedPieces).to.equal(5)
    await pd.close()
  })

  it('keeps only the pieces wholly inside a partial file truncated by a crash, and records that', async () => {
    const out = await leaveFivePieces('truncated.bin')
    await truncate(PartialDownload.partialPath(out), 2 * PIECE + PIECE / 2) // piece 2 half gone, 3 and 4 gone
    const pd = await PartialDownload.open(out, fx.manifest)
    expect(pd.resumedPieces).to.equal(2)
    expect([0, 1, 2, 3, 4].map(i => pd.verified.get(i))).to.deep.equal([true, true, false, false, false])
    expect((await stat(PartialDownload.partialPath(out))).size).to.equal(fx.manifest.lengthBytes)
    expect(await stateClaims(out)).to.equal(2) // the state file no longer claims what is gone
    await pd.close()
  })

  it('drops a claimed piece whose bytes were damaged on disk', async () => {
    const out = await leaveFivePieces('damaged.bin')
    const fh = await openFile(PartialDownload.partialPath(out), 'r+')
    await fh.write(Buffer.from([0xde, 0xad]), 0, 2, 3 * PIECE + 7)
    await fh.close()
    const pd = await PartialDownload.open(out, fx.manifest)
    expect(pd.resumedPieces).to.equal(4)
    expect(pd.verified.get(3)).to.equal(false)
    await pd.close()
  })

  it('starts afresh when the state file is not valid JSON (a torn write)', async () => {
    const out = await leaveFivePieces('torn.bin')
    await writeFile(PartialDownload.statePath(out), '{"format":"swarmcdn-partial/1","verif')
    const pd = await PartialDownload.open(out, fx.manifest)
    expect(pd.resumedPieces).to.equal(0)
    expect(pd.verified.count).to.equal(0)
    expect(await stateClaims(out)).to.equal(0)
    await pd.close()
  })

  it('starts afresh when the state bitfield has the wrong length', async () => {
    const out = await leaveFivePieces('short-bits.bin')
    const state = JSON.parse(await readFile(PartialDownload.statePath(out), 'utf8')) as PartialState
    await writeFile(PartialDownload.statePath(out), JSON.stringify({ ...state, verified: Buffer.from([0xff, 0xff, 0xff]).toString('base64') }))
    const pd = await PartialDownload.open(out, fx.manifest)
    expect(pd.resumedPieces).to.equal(0)
    await pd.close()
  })

  it('records large pieces in the state file as they are written, without waiting for the save interval', async () => {
    const big = await makeFixture(4 * 1024 * 1024, 1024 * 1024)
    try {
      const out = join(big.dir, 'big.bin')
      const pd = await PartialDownload.open(out, big.manifest)
      await pd.writePiece(0, await big.store.readPiece(big.manifest.contentId, 0))
      await pd.writePiece(1, await big.store.readPiece(big.manifest.contentId, 1))
      // Bounded wait for the background save (no close(): that would save anyway).
      const deadline = Date.now() + 900
      while (pd.savedCount < 2 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 5))
      expect(pd.savedCount).to.equal(2)
      await pd.close()
    } finally {
      await big.store.close(); await rm(big.dir, { recursive: true, force: true })
    }
  })
})

import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { hashPiece, PIECE_HASH_BYTES, type PieceLayout } from '../../src/core/content/pieces.js'
import { PieceHashMismatchError } from '../../src/core/content/content-errors.js'
import { PIECE_HASH_SLOTS, verifyPieceOffThread } from '../../src/client/piece-verifier.js'

const PIECE = 16 * 1024

function layoutOf (data: Uint8Array): PieceLayout {
  const count = Math.ceil(data.byteLength / PIECE)
  const pieceHashes = new Uint8Array(count * PIECE_HASH_BYTES)
  for (let i = 0; i < count; i++) pieceHashes.set(hashPiece(data.subarray(i * PIECE, (i + 1) * PIECE)), i * PIECE_HASH_BYTES)
  return { lengthBytes: data.byteLength, pieceSizeBytes: PIECE, pieceHashes }
}

async function rejection (p: Promise<void>): Promise<unknown> {
  try { await p } catch (err) { return err }
  throw new Error('expected a rejection')
}

describe('verifyPieceOffThread', () => {
  const data = randomBytes(2 * PIECE + 100)
  const layout = layoutOf(data)

  it('accepts a piece given whole, as one chunk, or as many chunks', async () => {
    const piece = data.subarray(PIECE, 2 * PIECE)
    await verifyPieceOffThread(layout, 1, piece)
    await verifyPieceOffThread(layout, 1, [piece])
    await verifyPieceOffThread(layout, 1, [piece.subarray(0, 1000), piece.subarray(1000, 9000), piece.subarray(9000)])
    await verifyPieceOffThread(layout, 2, [data.subarray(2 * PIECE, 2 * PIECE + 50), data.subarray(2 * PIECE + 50)])
  })

  it('verifies more pieces at once than it has hash slots, each against its own hash', async () => {
    const jobs = Array.from({ length: 3 * PIECE_HASH_SLOTS }, async (_, k) => {
      const i = k % 3
      await verifyPieceOffThread(layout, i, data.subarray(i * PIECE, Math.min(data.byteLength, (i + 1) * PIECE)))
    })
    await Promise.all(jobs)
    const bad = Array.from({ length: 2 * PIECE_HASH_SLOTS }, async () => await rejection(verifyPieceOffThread(layout, 1, data.subarray(0, PIECE))))
    for (const err of await Promise.all(bad)) expect(err).to.be.instanceOf(PieceHashMismatchError)
  })

  it('rejects a piece with one flipped byte', async () => {
    const bad = Uint8Array.from(data.subarray(0, PIECE))
    bad[PIECE - 1] ^= 1
    const err = await rejection(verifyPieceOffThread(layout, 0, [bad.subarray(0, 10), bad.subarray(10)]))
    expect(err).to.be.instanceOf(PieceHashMismatchError)
    expect((err as PieceHashMismatchError).pieceIndex).to.equal(0)
  })

  it('rejects the wrong piece, a wrong length and an index past the end', async () => {
    expect(await rejection(verifyPieceOffThread(layout, 0, data.subarray(PIECE, 2 * PIECE)))).to.be.instanceOf(PieceHashMismatchError)
    expect(await rejection(verifyPieceOffThread(layout, 2, data.subarray(0, 99)))).to.be.instanceOf(PieceHashMismatchError)
    expect(await rejection(verifyPieceOffThread(layout, 3, data.subarray(0, 1)))).to.be.instanceOf(PieceHashMismatchError)
    expect(await rejection(verifyPieceOffThread(layout, -1, data.subarray(0, PIECE)))).to.be.instanceOf(PieceHashMismatchError)
  })

  it('rejects with the abort reason when the signal is already aborted', async () => {
    const reason = new Error('stop')
    expect(await rejection(verifyPieceOffThread(layout, 0, data.subarray(0, PIECE), AbortSignal.abort(reason)))).to.equal(reason)
  })
})

import { expect } from 'chai'
import { createHash, randomBytes } from 'node:crypto'
import { PieceHashPool } from '../../src/client/piece-hash-pool.js'

const PIECE = 64 * 1024
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest()

describe('client: PieceHashPool', function () {
  this.timeout(20_000)

  it('hashes pieces on a worker, given as chunks, and hands back a copy of the bytes', async () => {
    const pool = new PieceHashPool(PIECE, { workers: 1 })
    try {
      const data = randomBytes(PIECE)
      const held = await pool.hold([data.subarray(0, 1000), data.subarray(1000)])
      expect(Buffer.from(await held.digest)).to.deep.equal(sha256(data))
      expect(held.bytes).to.be.instanceOf(Uint8Array)
      expect((held.bytes as Uint8Array).buffer).to.be.instanceOf(SharedArrayBuffer)
      expect(Buffer.from(held.bytes as Uint8Array)).to.deep.equal(data)
      held.release()
    } finally {
      await pool.close()
    }
  })

  it('holds at most its slots: the next piece waits until one is released', async () => {
    const pool = new PieceHashPool(PIECE, { workers: 1, heldBytes: 2 * PIECE })
    try {
      expect(pool.maxHeldPieces).to.equal(2)
      const a = await pool.hold(randomBytes(PIECE))
      const b = await pool.hold(randomBytes(PIECE))
      let third = false
      const c = pool.hold(randomBytes(PIECE)).then(h => { third = true; return h })
      await Promise.all([a.digest, b.digest])
      expect(third).to.equal(false)
      a.release()
      const held = await c
      expect(third).to.equal(true)
      b.release()
      held.release()
    } finally {
      await pool.close()
    }
  })

  it('gives the same digests with no worker, and for many pieces at once', async () => {
    const inline = new PieceHashPool(PIECE, { workers: 0 })
    const pool = new PieceHashPool(PIECE, { workers: 2, heldBytes: 8 * PIECE })
    try {
      const pieces = Array.from({ length: 20 }, (_, i) => randomBytes(PIECE - i))
      const got = await Promise.all(pieces.map(async p => {
        const [x, y] = await Promise.all([inline.hold(p), pool.hold(p)])
        const digests = await Promise.all([x.digest, y.digest])
        x.release(); y.release()
        return digests.map(d => Buffer.from(d).toString('hex'))
      }))
      expect(got.map(([x]) => x)).to.deep.equal(pieces.map(p => sha256(p).toString('hex')))
      expect(got.map(([, y]) => y)).to.deep.equal(pieces.map(p => sha256(p).toString('hex')))
    } finally {
      await inline.close()
      await pool.close()
    }
  })

  it('finishes a piece on the calling thread when the pool closes while a worker hashes it', async () => {
    const pool = new PieceHashPool(PIECE, { workers: 1 })
    const data = randomBytes(PIECE)
    const held = await pool.hold(data)
    await pool.close()
    expect(Buffer.from(await held.digest)).to.deep.equal(sha256(data))
    held.release()
    const after = await pool.hold(data)
    expect(Buffer.from(await after.digest)).to.deep.equal(sha256(data))
    after.release()
  })
})

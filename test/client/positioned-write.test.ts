import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { splitIntoCalls, writeAt, WRITE_CALL_MAX_BYTES, WRITE_CALL_MAX_CHUNKS } from '../../src/client/positioned-write.js'

describe('client: positioned writes in bounded calls', function () {
  this.timeout(20_000)

  it('regroups chunks into calls of at most 64 KiB that cover the bytes in order, without copying', () => {
    const chunks = [randomBytes(100_000), randomBytes(10), randomBytes(70_000)]
    const calls = splitIntoCalls(chunks, 1000)
    for (const c of calls) expect(c.chunks.reduce((n, b) => n + b.byteLength, 0)).to.be.at.most(WRITE_CALL_MAX_BYTES)
    expect(calls.map(c => c.offset)).to.deep.equal([1000, 1000 + 65536, 1000 + 2 * 65536])
    expect(Buffer.concat(calls.flatMap(c => c.chunks))).to.deep.equal(Buffer.concat(chunks))
    expect(calls[0].chunks[0].buffer).to.equal(chunks[0].buffer)
  })

  it('starts a new call before a call would pass the iovec limit', () => {
    const chunks = Array.from({ length: WRITE_CALL_MAX_CHUNKS + 3 }, () => new Uint8Array(1))
    const calls = splitIntoCalls(chunks, 0)
    expect(calls.map(c => c.chunks.length)).to.deep.equal([WRITE_CALL_MAX_CHUNKS, 3])
    expect(calls[1].offset).to.equal(WRITE_CALL_MAX_CHUNKS)
  })

  it('writes a piece given as chunks at its offset, leaving the bytes around it alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-pwrite-'))
    try {
      const path = join(dir, 'f.bin')
      const fh = await open(path, 'w+')
      const chunks = [randomBytes(65_535), randomBytes(3), randomBytes(200_000)]
      try {
        await fh.write(Buffer.alloc(400_000, 7), 0, 400_000, 0)
        await writeAt(fh, chunks, 12_345)
        await writeAt(fh, new Uint8Array(0), 1)
      } finally {
        await fh.close()
      }
      const got = await readFile(path)
      expect(got.byteLength).to.equal(400_000)
      expect(got.subarray(12_345, 12_345 + 265_538)).to.deep.equal(Buffer.concat(chunks))
      expect(got.subarray(0, 12_345).every(b => b === 7)).to.equal(true)
      expect(got.subarray(12_345 + 265_538).every(b => b === 7)).to.equal(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('throws the write error once no call is in flight, and starts no call after it', async () => {
    let inFlight = 0
    let started = 0
    const fh = {
      writev: async (chunks: Uint8Array[]) => {
        const call = ++started
        inFlight++
        try {
          await new Promise(resolve => setTimeout(resolve, 5))
          if (call === 2) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
          return { bytesWritten: chunks.reduce((n, c) => n + c.byteLength, 0), buffers: chunks }
        } finally {
          inFlight--
        }
      }
    }
    const err = await writeAt(fh as unknown as import('node:fs/promises').FileHandle, new Uint8Array(40 * WRITE_CALL_MAX_BYTES), 0).then(() => null, (e: Error & { code?: string }) => e)
    expect(err?.code).to.equal('ENOSPC')
    expect(inFlight).to.equal(0)
    expect(started).to.be.below(40)
  })
})

import { expect } from 'chai'
import { Uint8ArrayList } from 'uint8arraylist'
import { decodeXferFrame, decodeXferMessage, encodePieceFrame, encodeXferMessage, MalformedFrameError } from '../../src/net/xfer-codec.js'

/** `bytes` cut into chunks of `size` (as a stream delivers them). */
function chunked (bytes: Uint8Array, size: number): Uint8ArrayList {
  const list = new Uint8ArrayList()
  for (let i = 0; i < bytes.length; i += size) list.append(bytes.slice(i, i + size))
  return list
}

describe('net/xfer-codec: piece frames without copies', () => {
  const data = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff)

  it('decodes a generated piece frame split at any chunk size to the same index and bytes, as a sublist', () => {
    for (const index of [0, 1, 300, 2 ** 31]) {
      const frame = encodeXferMessage({ type: 'piece', index, data })
      for (const size of [1, 3, 4096, 65536, frame.length]) {
        const msg = decodeXferFrame(chunked(frame, size))
        expect(msg.type).to.equal('piece')
        if (msg.type !== 'piece') return
        expect(msg.index).to.equal(index)
        expect(msg.data.byteLength).to.equal(data.length)
        expect(Buffer.from(msg.data.subarray()).equals(Buffer.from(data))).to.equal(true)
      }
    }
  })

  it('encodes a piece frame that the generated decoder reads back, without copying the data', () => {
    for (const index of [0, 5, 1_000_000]) {
      const list = encodePieceFrame(index, data)
      expect([...list].some(c => c === data)).to.equal(true)
      const msg = decodeXferMessage(list.subarray())
      expect(msg).to.deep.include({ type: 'piece', index })
      if (msg.type === 'piece') expect(Buffer.from(msg.data).equals(Buffer.from(data))).to.equal(true)
    }
  })

  it('decodes control frames like the generated decoder and rejects garbage the same way', () => {
    const req = encodeXferMessage({ type: 'request', index: 9 })
    expect(decodeXferFrame(chunked(req, 1))).to.deep.equal({ type: 'request', index: 9 })
    const truncated = encodeXferMessage({ type: 'piece', index: 2, data }).subarray(0, 1000)
    expect(() => decodeXferFrame(chunked(truncated, 100))).to.throw(MalformedFrameError)
    expect(() => decodeXferFrame(new Uint8ArrayList(Uint8Array.of(0xff, 0xff)))).to.throw(MalformedFrameError)
  })

  it('reads an empty piece frame (data field absent) as zero bytes', () => {
    const msg = decodeXferFrame(new Uint8ArrayList(encodeXferMessage({ type: 'piece', index: 4, data: new Uint8Array(0) })))
    expect(msg.type).to.equal('piece')
    if (msg.type === 'piece') expect(msg.data.byteLength).to.equal(0)
  })
})

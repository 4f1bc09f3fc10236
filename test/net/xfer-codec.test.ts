import { expect } from 'chai'
import { Uint8ArrayList } from 'uint8arraylist'
import { decodeXferFrame, decodeXferMessage, encodePieceFrame, encodeXferMessage, MalformedFrameError, MAX_XFER_ALTERNATIVES } from '../../src/net/xfer-codec.js'
import { XferFrame } from '../../src/net/xfer-pb.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPair } from '@libp2p/crypto/keys'

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

describe('net/xfer-codec: alternatives in a busy answer', () => {
  let peerId = ''
  before(async () => { peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString() })

  it('round-trips alternatives on choke and reject, and leaves them out when there are none', () => {
    const alternatives = [{ peerId, multiaddrs: ['/ip4/127.1.0.1/tcp/4001', '/ip6/::1/tcp/4001'] }]
    expect(decodeXferMessage(encodeXferMessage({ type: 'choke', alternatives }))).to.deep.equal({ type: 'choke', alternatives })
    expect(decodeXferMessage(encodeXferMessage({ type: 'reject', index: 3, reason: 'busy', alternatives }))).to.deep.equal({ type: 'reject', index: 3, reason: 'busy', alternatives })
    expect(decodeXferMessage(encodeXferMessage({ type: 'choke' }))).to.deep.equal({ type: 'choke' })
  })

  it('cuts our own list to the limit when encoding', () => {
    const many = Array.from({ length: MAX_XFER_ALTERNATIVES + 5 }, () => ({ peerId, multiaddrs: ['/ip4/127.0.0.1/tcp/1'] }))
    const msg = decodeXferMessage(encodeXferMessage({ type: 'choke', alternatives: many }))
    expect(msg.type === 'choke' ? msg.alternatives?.length : -1).to.equal(MAX_XFER_ALTERNATIVES)
  })

  it('rejects received frames with too many alternatives, a bad peer id, a bad address, no address, or alternatives on another type', () => {
    const ok = { peerId, multiaddrs: ['/ip4/127.0.0.1/tcp/1'] }
    const bad = [
      XferFrame.encode({ type: XferFrame.Type.CHOKE, alternatives: Array.from({ length: MAX_XFER_ALTERNATIVES + 1 }, () => ok) }),
      XferFrame.encode({ type: XferFrame.Type.CHOKE, alternatives: [{ peerId: 'not-a-peer-id', multiaddrs: ok.multiaddrs }] }),
      XferFrame.encode({ type: XferFrame.Type.REJECT, alternatives: [{ peerId, multiaddrs: ['/nonsense/1'] }] }),
      XferFrame.encode({ type: XferFrame.Type.REJECT, alternatives: [{ peerId, multiaddrs: [] }] }),
      XferFrame.encode({ type: XferFrame.Type.HAVE, alternatives: [ok] })
    ]
    for (const bytes of bad) expect(() => decodeXferMessage(bytes)).to.throw(MalformedFrameError)
  })
})

describe('net/xfer-codec: the origin flag in a handshake', () => {
  const contentId = 'bafkreifualh2ao7dlxyjkhhxpy4kvv4jxjc2pmc6nzvkkdjuv7ax6jmniq'
  const bitfield = new Uint8Array([0xff, 0x80])

  it('round-trips origin: true, and a regular peer\'s handshake has no origin key', () => {
    expect(decodeXferMessage(encodeXferMessage({ type: 'handshake', contentId, bitfield, origin: true }))).to.deep.equal({ type: 'handshake', contentId, bitfield, origin: true })
    expect(decodeXferMessage(encodeXferMessage({ type: 'handshake', contentId, bitfield }))).to.deep.equal({ type: 'handshake', contentId, bitfield })
  })

  it('keeps a regular peer\'s handshake byte for byte what older versions sent (field 8 absent)', () => {
    const bytes = encodeXferMessage({ type: 'handshake', contentId, bitfield, origin: false })
    const old = XferFrame.encode({ type: XferFrame.Type.HANDSHAKE, contentId, bitfield: bitfield as Uint8Array<ArrayBuffer> })
    expect(Buffer.from(bytes).toString('hex')).to.equal(Buffer.from(old).toString('hex'))
    // An origin's handshake is the old bytes plus field 8 (key 0x40, true), which older decoders skip as unknown.
    expect(Buffer.from(encodeXferMessage({ type: 'handshake', contentId, bitfield, origin: true })).toString('hex')).to.equal(Buffer.from(old).toString('hex') + '4001')
  })

  it('rejects the origin flag on any frame but a handshake', () => {
    const bad = XferFrame.encode({ type: XferFrame.Type.HAVE, index: 1, origin: true })
    expect(() => decodeXferMessage(bad)).to.throw(MalformedFrameError, /origin flag on a HAVE frame/)
  })
})

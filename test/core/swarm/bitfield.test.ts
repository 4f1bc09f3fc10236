import { expect } from 'chai'
import { Bitfield, InvalidBitfieldError } from '../../../src/core/swarm/bitfield.js'

describe('core/swarm/bitfield', () => {
  it('packs piece 0 into the high bit of byte 0 (BitTorrent order)', () => {
    const b = new Bitfield(10)
    b.set(0); b.set(9)
    expect([...b.toBytes()]).to.deep.equal([0x80, 0x40])
    expect(b.count).to.equal(2)
  })

  it('round-trips through bytes and counts set bits', () => {
    const b = new Bitfield(20)
    for (const i of [1, 3, 5, 19]) b.set(i)
    const c = Bitfield.fromBytes(b.toBytes(), 20)
    expect(c.count).to.equal(4)
    expect(c.get(19)).to.equal(true)
    expect(c.get(2)).to.equal(false)
  })

  it('rejects bytes of the wrong length or with spare bits set', () => {
    expect(() => Bitfield.fromBytes(new Uint8Array(3), 10)).to.throw(InvalidBitfieldError)
    expect(() => Bitfield.fromBytes(new Uint8Array([0, 0x01]), 10)).to.throw(InvalidBitfieldError)
  })

  it('reports set and clear changes and fullness', () => {
    const b = new Bitfield(3)
    expect(b.set(1)).to.equal(true)
    expect(b.set(1)).to.equal(false)
    expect(b.clear(1)).to.equal(true)
    expect(Bitfield.full(3).isFull).to.equal(true)
    expect(() => b.set(3)).to.throw(RangeError)
    expect(b.get(-1)).to.equal(false)
  })
})

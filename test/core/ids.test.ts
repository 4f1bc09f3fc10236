import { expect } from 'chai'
import { keyFromBytes, compareDistance, commonPrefixBits, xorDistance, assertKey, InvalidKeyError } from '../../src/core/ids.js'

describe('core/ids', () => {
  it('orders distances exactly even when they differ only past bit 53', () => {
    const target = new Uint8Array(32)
    const a = new Uint8Array(32); a[31] = 1
    const b = new Uint8Array(32); b[31] = 2
    expect(compareDistance(target, a, b)).to.be.lessThan(0)
    expect(compareDistance(target, b, a)).to.be.greaterThan(0)
    expect(compareDistance(target, a, a)).to.equal(0)
  })

  it('counts shared leading bits', () => {
    const a = new Uint8Array(32)
    const b = new Uint8Array(32); b[1] = 0b0010_0000
    expect(commonPrefixBits(a, b)).to.equal(10)
    expect(commonPrefixBits(a, a)).to.equal(256)
  })

  it('hashes bytes into 32-byte keys and xors them', () => {
    const k = keyFromBytes(new Uint8Array([1, 2, 3]))
    expect(k.length).to.equal(32)
    expect(xorDistance(k, k).every(x => x === 0)).to.equal(true)
  })

  it('rejects keys of the wrong length', () => {
    expect(() => assertKey(new Uint8Array(31))).to.throw(InvalidKeyError)
  })
})

import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../../src/net/noise-crypto.js'

type Input = Parameters<ICryptoInterface['chaCha20Poly1305Encrypt']>[0]
const bytesOf = (x: Uint8Array | { subarray: () => Uint8Array }): Buffer => Buffer.from(x instanceof Uint8Array ? x : x.subarray())

describe('net/noise-crypto', () => {
  const nonce = new Uint8Array(12)
  nonce[0] = 7
  const ad = randomBytes(32)

  it('agrees with the library\'s cipher both ways, for one buffer and for a list, small and large', () => {
    const k = randomBytes(32)
    for (const size of [100, 65_519]) {
      const plain = randomBytes(size)
      const list = new Uint8ArrayList(plain.subarray(0, 10), plain.subarray(10)) as unknown as Input
      const ours = bytesOf(noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k))
      const theirs = bytesOf(defaultCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k))
      expect(ours.equals(theirs)).to.equal(true)
      expect(bytesOf(noiseCrypto.chaCha20Poly1305Encrypt(list, nonce, ad, k)).equals(theirs)).to.equal(true)
      expect(bytesOf(noiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce, ad, k)).equals(plain)).to.equal(true)
      const theirsList = new Uint8ArrayList(theirs.subarray(0, 5), theirs.subarray(5)) as unknown as Input
      expect(bytesOf(noiseCrypto.chaCha20Poly1305Decrypt(theirsList, nonce, ad, k)).equals(plain)).to.equal(true)
      expect(bytesOf(defaultCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, k)).equals(plain)).to.equal(true)
    }
  })

  it('refuses a tampered message', () => {
    const k = randomBytes(32)
    const sealed = bytesOf(noiseCrypto.chaCha20Poly1305Encrypt(randomBytes(4096), nonce, ad, k))
    sealed[100] ^= 1
    expect(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k)).to.throw()
  })

  it('uses the key\'s current bytes when the same array is filled with a new key', () => {
    const k = new Uint8Array(randomBytes(32))
    const plain = randomBytes(4096)
    noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k)
    k.set(randomBytes(32))
    const sealed = bytesOf(noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k))
    expect(sealed.equals(bytesOf(defaultCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k)))).to.equal(true)
  })
})

import { expect } from 'chai'
import { createHash, randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { defaultLogger } from '@libp2p/logger'
import { multiaddrConnectionPair } from '@libp2p/utils'
import type { MessageStream, Upgrader } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../../src/net/noise-crypto.js'
import { hasReceiveWithoutCopy, noiseEncrypter } from '../../src/net/noise-encrypter.js'

/** The private parts of the library's encrypted connection this test reaches into (the file under test relies on them too). */
interface EncryptedStreamInternals {
  encrypt: (chunk: Uint8Array) => Uint8ArrayList
  decrypt: (chunk: Uint8ArrayList) => Uint8ArrayList
  handshake: { decrypt: (ciphertext: Uint8Array | Uint8ArrayList, dst?: Uint8Array) => Uint8Array | Uint8ArrayList }
}

async function securedPair (): Promise<[MessageStream, MessageStream]> {
  const components = async (): Promise<Parameters<ReturnType<typeof noiseEncrypter>>[0]> => {
    const privateKey = await generateKeyPair('Ed25519')
    return { privateKey, peerId: peerIdFromPrivateKey(privateKey), logger: defaultLogger(), upgrader: { getStreamMuxers: () => new Map() } as unknown as Upgrader }
  }
  const [outConn, inConn] = multiaddrConnectionPair()
  const initiator = noiseEncrypter({ crypto: noiseCrypto })(await components())
  const responder = noiseEncrypter({ crypto: noiseCrypto })(await components())
  const [a, b] = await Promise.all([
    initiator.secureOutbound(outConn, { skipStreamMuxerNegotiation: true }),
    responder.secureInbound(inConn, { skipStreamMuxerNegotiation: true })
  ])
  return [a.connection, b.connection]
}

const sha = (b: Uint8Array | Uint8ArrayList): string => createHash('sha256').update(b instanceof Uint8Array ? b : b.subarray()).digest('hex')

describe('net/noise-encrypter', () => {
  it('gives the installed noise library\'s connections the copy-free receive step, both directions', async () => {
    const [a, b] = await securedPair()
    try {
      expect(hasReceiveWithoutCopy(a)).to.equal(true)
      expect(hasReceiveWithoutCopy(b)).to.equal(true)
    } finally {
      a.abort(new Error('test over'))
      b.abort(new Error('test over'))
    }
  })

  it('carries 1 MiB intact through the secured pair', async () => {
    const [a, b] = await securedPair()
    try {
      const sent = randomBytes(1024 * 1024)
      const received = new Uint8ArrayList()
      const done = new Promise<void>((resolve) => {
        b.addEventListener('message', (evt) => {
          received.append(evt.data)
          if (received.byteLength >= sent.byteLength) resolve()
        })
      })
      a.send(sent)
      await Promise.race([done, new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('1 MiB did not arrive within 20 s')) }, 20_000).unref())])
      expect(received.byteLength).to.equal(sent.byteLength)
      expect(sha(received)).to.equal(sha(sent))
    } finally {
      a.abort(new Error('test over'))
      b.abort(new Error('test over'))
    }
  })

  it('decrypts a message that spans three reads without a joined dst, and a small one with its dst', async () => {
    const [a, b] = await securedPair()
    try {
      const sender = a as unknown as EncryptedStreamInternals
      const receiver = b as unknown as EncryptedStreamInternals
      const dsts: Array<Uint8Array | undefined> = []
      const decrypt = receiver.handshake.decrypt
      receiver.handshake.decrypt = (ciphertext, dst) => { dsts.push(dst); return decrypt(ciphertext, dst) }
      for (const size of [40_000, 100]) {
        const plain = randomBytes(size)
        // The sender's output is [2-byte length, ciphertext]: cut the ciphertext into three parts, as TCP reads would.
        const sealed = sender.encrypt(plain).subarray(2)
        const cut = Math.floor(sealed.byteLength / 3)
        const parts = new Uint8ArrayList(sealed.subarray(0, cut), sealed.subarray(cut, 2 * cut), sealed.subarray(2 * cut))
        expect(sha(receiver.decrypt(parts))).to.equal(sha(plain))
      }
      expect(dsts).to.have.length(2)
      expect(dsts[0]).to.equal(undefined)
      expect(dsts[1]?.byteLength).to.equal(100)
    } finally {
      a.abort(new Error('test over'))
      b.abort(new Error('test over'))
    }
  })
})

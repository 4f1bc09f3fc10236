import { expect } from 'chai'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeDhtFrame, DhtFrameError, encodeDhtFrame, keyOfPeerId } from '../../src/net/dht-codec.js'
import { DhtFrame } from '../../src/net/dht-pb.js'
import { keyFromBytes, keysEqual } from '../../src/core/ids.js'
import { MAX_CONTACTS_PER_MESSAGE, type DhtMessage } from '../../src/core/messages/dht-messages.js'
import type { Contact } from '../../src/core/dht/contact.js'

async function contact (port: number, origin = false): Promise<Contact> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const c: Contact = { id: keyOfPeerId(peerId), peerId, addrs: [`/ip4/127.1.0.1/tcp/${port}`] }
  if (origin) c.origin = true
  return c
}

describe('net/dht-codec', () => {
  it('round-trips every message type with sender role and addresses', async () => {
    const a = await contact(1, true)
    const b = await contact(2)
    const key = keyFromBytes(new Uint8Array([1]))
    const messages: DhtMessage[] = [
      { type: 'ping', requestId: 1 }, { type: 'pong', requestId: 2 },
      { type: 'find-node', requestId: 3, target: key }, { type: 'find-node-reply', requestId: 4, closer: [a, b] },
      { type: 'get-providers', requestId: 5, key }, { type: 'get-providers-reply', requestId: 6, providers: [a], closer: [b] },
      { type: 'add-provider', requestId: 7, key }, { type: 'attach', requestId: 8 },
      { type: 'attach-ok', requestId: 9, keepAliveIntervalMs: 15000, leaves: 3, maxLeaves: 200 },
      { type: 'attach-busy', requestId: 10, alternatives: [b] }, { type: 'register', requestId: 11, keys: [key, key] }, { type: 'register', requestId: 14, keys: [key], indexOnly: true },
      { type: 'unregister', requestId: 12, keys: [key] }, { type: 'query', requestId: 13, key, localOnly: true },
      { type: 'query', requestId: 14, key }, { type: 'query-reply', requestId: 15, providers: [a, b] },
      { type: 'keep-alive', requestId: 16 }, { type: 'ack', requestId: 2 ** 40 }, { type: 'error', requestId: 18, code: 'not-attached' }
    ]
    for (const message of messages) {
      const back = decodeDhtFrame(encodeDhtFrame({ message, senderRole: 'seeder', senderAddrs: ['/ip4/127.1.0.1/tcp/9'] }))
      expect(back.message, message.type).to.deep.equal(message)
      expect(back.senderRole).to.equal('seeder')
      expect(back.senderAddrs).to.deep.equal(['/ip4/127.1.0.1/tcp/9'])
    }
  })

  it('derives contact keys from peer ids, so a sender cannot choose where a contact sits', async () => {
    const a = await contact(1)
    const back = decodeDhtFrame(encodeDhtFrame({ message: { type: 'find-node-reply', requestId: 1, closer: [{ ...a, id: keyFromBytes(new Uint8Array([9])) }] }, senderRole: 'supernode', senderAddrs: [] }))
    expect(back.message.type === 'find-node-reply' && keysEqual(back.message.closer[0].id, a.id)).to.equal(true)
  })

  it('rejects garbage, bad peer ids, bad multiaddrs, short keys, oversize lists and oversize frames with DhtFrameError', async () => {
    const a = await contact(1)
    const bad: Uint8Array[] = [
      Uint8Array.from([0x08, 0xff, 0xff, 0xff]),
      DhtFrame.encode({ type: DhtFrame.Type.FIND_NODE_REPLY, requestId: 1, closer: [{ peerId: 'not-a-peer-id', addrs: [], origin: false }] }),
      DhtFrame.encode({ type: DhtFrame.Type.FIND_NODE_REPLY, requestId: 1, closer: [{ peerId: a.peerId, addrs: ['/bogus/1'], origin: false }] }),
      DhtFrame.encode({ type: DhtFrame.Type.FIND_NODE, requestId: 1, target: new Uint8Array(31) }),
      DhtFrame.encode({ type: DhtFrame.Type.QUERY_REPLY, requestId: 1, providers: new Array(MAX_CONTACTS_PER_MESSAGE + 1).fill({ peerId: a.peerId, addrs: [], origin: false }) }),
      new Uint8Array(64 * 1024 + 1)
    ]
    for (const [i, bytes] of bad.entries()) expect(() => decodeDhtFrame(bytes), `case ${i}`).to.throw(DhtFrameError)
  })
})

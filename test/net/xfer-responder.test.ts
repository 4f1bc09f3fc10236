import { expect } from 'chai'
import { XferResponder, type UploadGate } from '../../src/net/xfer-server.js'
import type { ContentProvider } from '../../src/net/content-provider.js'
import type { ContentId } from '../../src/core/content/content-id.js'
import type { VerifiedManifest } from '../../src/core/content/manifest.js'
import { SPREAD_DECLINE_REASON } from '../../src/core/swarm/origin-spread.js'

describe('net/xfer-server XferResponder', () => {
  it('answers a piece the gate declines (busy origin spreading) with a spread reject, and queues the others', () => {
    const id = 'item' as unknown as ContentId
    const provider: ContentProvider = {
      has: () => true,
      manifest: () => ({ pieceCount: 4 }) as unknown as VerifiedManifest,
      readPiece: async () => new Uint8Array(1)
    }
    const seen: Array<number | undefined> = []
    const gate: UploadGate = {
      admit: who => {
        seen.push(who.pieceCount)
        return { choked: false, pace: async () => {}, release: () => {}, admitPiece: index => index !== 2 }
      }
    }
    const r = new XferResponder(provider, { peerId: 'p', remoteAddr: '/ip4/127.0.0.1/tcp/1', gate })
    r.onMessage({ type: 'handshake', contentId: id, bitfield: new Uint8Array(1) })
    expect(seen).to.deep.equal([4])
    expect(r.onMessage({ type: 'request', index: 2 }).replies).to.deep.equal([{ type: 'reject', index: 2, reason: SPREAD_DECLINE_REASON }])
    expect(r.hasQueued).to.equal(false)
    expect(r.onMessage({ type: 'request', index: 1 }).replies).to.deep.equal([])
    expect(r.hasQueued).to.equal(true)
  })

  it('names the ticket\'s alternatives in a spread reject and in every choke (busy, try these peers)', () => {
    const id = 'item' as unknown as ContentId
    const provider: ContentProvider = {
      has: () => true,
      manifest: () => ({ pieceCount: 4 }) as unknown as VerifiedManifest,
      readPiece: async () => new Uint8Array(1)
    }
    const alternatives = [{ peerId: 'Qm-a', multiaddrs: ['/ip4/127.1.0.1/tcp/4001'] }]
    let push: ((m: import('../../src/core/messages/xfer-messages.js').XferMessage) => void) | undefined
    let choked = true
    const gate: UploadGate = {
      admit: (_who, p) => { push = p; return { get choked () { return choked }, pace: async () => {}, release: () => {}, admitPiece: () => false, alternatives: () => alternatives } }
    }
    const r = new XferResponder(provider, { peerId: 'p', remoteAddr: '/ip4/127.0.0.1/tcp/1', gate })
    const pushed: unknown[] = []
    r.setSink(m => { pushed.push(m) })
    const hello = r.onMessage({ type: 'handshake', contentId: id, bitfield: new Uint8Array(1) })
    expect(hello.replies[1]).to.deep.equal({ type: 'choke', alternatives })
    choked = false
    expect(r.onMessage({ type: 'request', index: 0 }).replies).to.deep.equal([{ type: 'reject', index: 0, reason: SPREAD_DECLINE_REASON, alternatives }])
    push?.({ type: 'choke' })
    expect(pushed).to.deep.equal([{ type: 'choke', alternatives }])
  })
})

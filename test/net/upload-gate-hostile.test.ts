import { expect } from 'chai'
import { SwarmUploadGate } from '../../src/net/upload-gate.js'
import { XferResponder, type RequesterInfo } from '../../src/net/xfer-server.js'
import type { XferMessage } from '../../src/core/messages/xfer-messages.js'
import type { ContentId } from '../../src/core/content/content-id.js'
import type { ContentProvider } from '../../src/net/content-provider.js'
import type { VerifiedManifest } from '../../src/core/content/manifest.js'
import { waitFor } from '../helpers/wait-for.js'

const ITEM = 'item' as unknown as ContentId

function who (peerId: string): RequesterInfo {
  return { contentId: ITEM, peerId, remoteAddr: '/ip4/127.0.0.1/tcp/1', pieceCount: 8 }
}

describe('net/upload-gate: slots go to requesters that read and ask', () => {
  let gate: SwarmUploadGate | undefined
  afterEach(() => { gate?.stop(); gate = undefined })

  it('gives a stalled requester\'s slot to the next at once and keeps the peer\'s other streams choked', () => {
    gate = new SwarmUploadGate({ regularSlots: 1, optimisticSlots: 0, busyThresholdRequesters: 1, stallPenaltyMs: 60_000 })
    const got = new Map<string, XferMessage[]>()
    const push = (k: string) => (m: XferMessage): void => { got.set(k, [...(got.get(k) ?? []), m]) }
    const a1 = gate.admit(who('A'), push('a1'))
    const b = gate.admit(who('B'), push('b'))
    const a2 = gate.admit(who('A'), push('a2'))
    expect(a1.choked).to.equal(false)
    expect(b.choked).to.equal(true)
    a1.stalled?.()
    a1.release()
    expect(b.choked).to.equal(false)
    expect(a2.choked).to.equal(true)
    expect(gate.stallsSeen).to.equal(1)
    expect(got.get('b')).to.deep.equal([{ type: 'unchoke' }])
  })

  it('takes a slot back from a holder that asks for nothing, and lets it compete again once it asks', async () => {
    gate = new SwarmUploadGate({ regularSlots: 1, optimisticSlots: 0, busyThresholdRequesters: 1, idleSlotMs: 50 })
    const idle = gate.admit(who('I'), () => {})
    const asker = gate.admit(who('K'), () => {})
    expect(idle.choked).to.equal(false)
    expect(asker.choked).to.equal(true)
    await waitFor('the idle holder loses its slot', () => !asker.choked, 3000, 10)
    expect(idle.choked).to.equal(true)
    // The asker keeps asking; the idle one asking again does not take the slot from it.
    asker.requested?.()
    idle.requested?.()
    expect(asker.choked).to.equal(false)
  })

  it('does not let pieces queued for a requester that never reads make the spread decline them to others', () => {
    gate = new SwarmUploadGate({ regularSlots: 4, optimisticSlots: 0, busyThresholdRequesters: 2 })
    const provider: ContentProvider = { has: () => true, manifest: () => ({ pieceCount: 8 }) as unknown as VerifiedManifest, readPiece: async () => new Uint8Array(1) }
    const silent = new XferResponder(provider, { peerId: 'S', remoteAddr: '/ip4/127.0.0.1/tcp/1', gate })
    const reader = new XferResponder(provider, { peerId: 'R', remoteAddr: '/ip4/127.0.0.2/tcp/1', gate })
    silent.setSink(() => {})
    reader.setSink(() => {})
    silent.onMessage({ type: 'handshake', contentId: ITEM, bitfield: new Uint8Array(1) })
    reader.onMessage({ type: 'handshake', contentId: ITEM, bitfield: new Uint8Array(1) })
    for (let i = 0; i < 4; i++) silent.onMessage({ type: 'request', index: i })
    // Nothing went out to `silent`: the reader is not declined those pieces.
    for (let i = 0; i < 4; i++) expect(reader.onMessage({ type: 'request', index: i }).replies).to.deep.equal([])
    expect(gate.piecesDeclined).to.equal(0)
  })
})
